package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// errorMarker finds the expectation an invalid fixture carries on its bad line.
var errorMarker = regexp.MustCompile(`#\s*ERROR:\s*(.+?)\s*$`)

// markers returns "file:line" -> summary for every ERROR marker in the file.
func markers(t *testing.T, path string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, line := range strings.Split(string(src), "\n") {
		if m := errorMarker.FindStringSubmatch(line); m != nil {
			out[filepath.Base(path)+":"+itoa(i+1)] = m[1]
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestInvalidConfigs loads every testdata/invalid fixture, renders every image
// in every environment, and compares the errors (file:line -> summary) with
// the ERROR markers the fixture and the var files it names carry.
func TestInvalidConfigs(t *testing.T) {
	dir, err := filepath.Abs("testdata/invalid")
	if err != nil {
		t.Fatal(err)
	}
	fixtures, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if len(fixtures) < 30 {
		t.Fatalf("found %d invalid fixtures, want at least 30", len(fixtures))
	}
	varFiles, _ := filepath.Glob(filepath.Join(dir, "vars", "*"))
	for _, fx := range fixtures {
		name := filepath.Base(fx)
		t.Run(strings.TrimSuffix(name, ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(fx)
			if err != nil {
				t.Fatal(err)
			}
			want := markers(t, fx)
			for _, vf := range varFiles {
				if strings.Contains(string(src), "vars/"+filepath.Base(vf)) {
					for k, v := range markers(t, vf) {
						want[k] = v
					}
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s has no ERROR marker", name)
			}
			p := hclparse.NewParser()
			cfg, diags := Parse(p, dir, src, name, Inputs{})
			if !diags.HasErrors() && cfg != nil {
				for _, in := range cfg.ImageNames() {
					img := cfg.Images[in]
					for _, env := range cfg.ImageEnvironments(img) {
						_, d := cfg.Render(img, env, nil, nil, nil)
						diags = append(diags, d...)
					}
				}
			}
			got := map[string]string{}
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					continue
				}
				if d.Subject == nil {
					t.Errorf("error without a source range: %s: %s", d.Summary, d.Detail)
					continue
				}
				got[filepath.Base(d.Subject.Filename)+":"+itoa(d.Subject.Start.Line)] = d.Summary
			}
			if diff := cmp.Diff(want, got); diff != "" {
				var buf strings.Builder
				hcl.NewDiagnosticTextWriter(&buf, p.Files(), 100, false).WriteDiagnostics(diags)
				t.Errorf("wrong errors (-want +got):\n%s\nall diagnostics:\n%s", diff, buf.String())
			}
		})
	}
}
