package templates

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// cmpOpts compares decoded models: ranges are checked by dedicated tests,
// cty values and types by cty's own equality.
var cmpOpts = cmp.Options{
	cmpopts.IgnoreTypes(hcl.Range{}),
	cmpopts.IgnoreUnexported(Template{}),
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b cty.Type) bool { return a.Equals(b) }),
	cmp.Comparer(func(a, b cty.Value) bool {
		if a.Type() == cty.NilType || b.Type() == cty.NilType {
			return a.Type() == cty.NilType && b.Type() == cty.NilType
		}
		return a.RawEquals(b)
	}),
}

// expectedDiags reads the `# ERROR: <summary>` and `# WARNING: <summary>`
// markers at the end of lines in files, keyed by "<base name>:<line>".
func expectedDiags(t *testing.T, files []string) map[string]string {
	t.Helper()
	want := map[string]string{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			for _, marker := range []string{"# ERROR: ", "# WARNING: "} {
				if _, summary, ok := strings.Cut(text, marker); ok {
					severity := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(marker, "# "), ": "))
					want[fmt.Sprintf("%s:%d", filepath.Base(path), line)] = severity + ": " + strings.TrimSpace(summary)
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return want
}

// gotDiags keys diags like expectedDiags; every diagnostic must point at a
// line. Several diagnostics on one line are joined with " | ".
func gotDiags(t *testing.T, diags hcl.Diagnostics) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, d := range diags {
		if d.Subject == nil {
			t.Errorf("diagnostic without a line: %s: %s", d.Summary, d.Detail)
			continue
		}
		severity := "error"
		if d.Severity == hcl.DiagWarning {
			severity = "warning"
		}
		key := fmt.Sprintf("%s:%d", filepath.Base(d.Subject.Filename), d.Subject.Start.Line)
		entry := severity + ": " + d.Summary
		if prev, ok := got[key]; ok {
			entry = prev + " | " + entry
		}
		got[key] = entry
	}
	return got
}

// writeFile writes content to name under dir and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// noDiags fails the test with the diagnostics' text when there are any.
func noDiags(t *testing.T, diags hcl.Diagnostics) {
	t.Helper()
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", diags.Error())
	}
}
