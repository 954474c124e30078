package lock

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse checks that Parse never panics, and that whatever parses without
// errors encodes to bytes that parse to the same File and encode to the same
// bytes again.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"*.hcl", "valid/*.hcl", "invalid/*.hcl"} {
		paths, err := filepath.Glob(filepath.Join("testdata", pattern))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("packer {\n  version = 1.9\n}\n"))
	f.Add([]byte("source \"s\" {\n  url = \"a\\nb %{ x } $${y} \\u00e9\"\n  commit = \"" + commitA + "\"\n}\n"))
	f.Add(fullFile().Bytes())

	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := Parse(src, "fuzz.hcl")
		if file == nil {
			t.Fatal("Parse returned a nil File")
		}
		if diags.HasErrors() {
			return
		}
		out := file.Bytes()
		again, diags := Parse(out, "fuzz.hcl")
		if diags.HasErrors() {
			t.Fatalf("re-encoded file does not parse: %s\ninput:\n%q\nencoded:\n%s", diags.Error(), src, out)
		}
		if d := cmp.Diff(file, again, ignoreRanges); d != "" {
			t.Fatalf("re-parsed file differs (-first +second):\n%s\ninput:\n%q\nencoded:\n%s", d, src, out)
		}
		if out2 := again.Bytes(); !bytes.Equal(out, out2) {
			t.Fatalf("encoding is not stable:\n%s\n---\n%s", out, out2)
		}
	})
}
