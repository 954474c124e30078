package templates

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// TestHostileTemplates writes packer templates and var files built to
// exhaust the HCL parser's stack or memory, and checks that each is refused
// with a diagnostic naming the file, or decoded, quickly.
func TestHostileTemplates(t *testing.T) {
	const depth = 100_000
	rep := strings.Repeat
	valid := "source \"file\" \"linux-app\" {\n  content = \"x\"\n  target  = \"out\"\n}\n"
	cases := []struct {
		name, file, content string
		summary             string
	}{
		{"parentheses", "app.pkr.hcl", valid + "locals {\n  deep = " + rep("(", depth) + "1" + rep(")", depth) + "\n}\n", "Nesting too deep"},
		{"blocks", "app.pkr.hcl", valid + rep("build {\n", depth) + rep("}\n", depth), "Nesting too deep"},
		{"interpolations", "app.pkr.hcl", valid + "locals {\n  deep = " + rep("\"${", depth) + "1" + rep("}\"", depth) + "\n}\n", "Nesting too deep"},
		{"unary operators", "app.pkr.hcl", valid + "locals {\n  deep = " + rep("!", depth) + "true\n}\n", "Nesting too deep"},
		{"json", "app.pkr.json", "{\"locals\": {\"deep\": " + rep("[", depth) + rep("]", depth) + "}}", "Nesting too deep"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, diags := Load(hclparse.NewParser(), dir)
			took := time.Since(start)
			found := false
			for _, d := range diags {
				if d.Summary == tc.summary && d.Subject != nil && filepath.Base(d.Subject.Filename) == tc.file {
					found = true
				}
			}
			if !found {
				t.Errorf("diagnostics %v, want %s in %s", diags, tc.summary, tc.file)
			}
			if took > 20*time.Second {
				t.Errorf("took %v", took)
			}
			t.Logf("trial %d/%d, %s (%d KB): refused in %v", i+1, len(cases), tc.name, len(tc.content)>>10, took)
		})
	}
}

// TestHostileVarFile decodes a var file of 500,000 entries, and refuses one
// nested 100,000 deep.
func TestHostileVarFile(t *testing.T) {
	var b strings.Builder
	for i := range 500_000 {
		fmt.Fprintf(&b, "var_%d = \"value-%d\"\n", i, i)
	}
	dir := t.TempDir()
	large := filepath.Join(dir, "large.pkrvars.hcl")
	deep := filepath.Join(dir, "deep.pkrvars.hcl")
	if err := os.WriteFile(large, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(deep, []byte("a = "+strings.Repeat("{a = ", 100_000)+strings.Repeat("}", 100_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	vf, diags := ParseVarFile(hclparse.NewParser(), large)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if diags.HasErrors() || len(vf.Values) != 500_000 {
		t.Fatalf("%d values, %v", len(vf.Values), diags)
	}
	if took > 20*time.Second {
		t.Errorf("took %v", took)
	}
	t.Logf("500,000 entries (%d MB) decoded in %v, %d MB allocated", len(b.String())>>20, took, (after.TotalAlloc-before.TotalAlloc)>>20)

	start = time.Now()
	_, diags = ParseVarFile(hclparse.NewParser(), deep)
	if !diags.HasErrors() || diags[0].Summary != "Nesting too deep" || diags[0].Subject.Filename != deep {
		t.Errorf("deep var file: %v", diags)
	}
	t.Logf("a var file nested 100,000 deep refused in %v", time.Since(start))
}
