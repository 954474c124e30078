package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// FuzzParse feeds arbitrary hybrid.hcl source to the decoder and renders
// every image it accepts: nothing may panic, and an error must come as a
// diagnostic.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.hcl")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	dir, err := filepath.Abs("testdata/valid")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p := hclparse.NewParser()
		cfg, diags := Parse(p, dir, src, "fuzz.hcl", Inputs{})
		if diags.HasErrors() || cfg == nil {
			return
		}
		for _, in := range cfg.ImageNames() {
			img := cfg.Images[in]
			for _, env := range cfg.ImageEnvironments(img) {
				cfg.Render(img, env, nil, nil, nil)
			}
		}
	})
}
