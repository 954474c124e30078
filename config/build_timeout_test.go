package config

import (
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestBuildTimeout(t *testing.T) {
	src := `
hybrid {
  build_timeout = "2h"
}

image "own" {
  template      = "t"
  build         = "file.linux-own"
  build_timeout = "90m"
}

image "default" {
  template = "t"
  build    = "file.linux-default"
}

image "none" {
  template      = "t"
  build         = "file.linux-none"
  build_timeout = "0"
}

image "each" {
  for_each      = { fast = "10m", slow = "3h30m" }
  template      = "t"
  build         = "file.linux-${each.key}"
  build_timeout = each.value
}
`
	p := hclparse.NewParser()
	cfg, diags := Parse(p, t.TempDir(), []byte(src), "hybrid.hcl", Inputs{})
	if diags.HasErrors() {
		t.Fatal(diagText(p, diags))
	}
	want := map[string]struct {
		d    time.Duration
		line int
	}{
		"own":       {90 * time.Minute, 9},
		"default":   {2 * time.Hour, 3},
		"none":      {0, 20},
		"each-fast": {10 * time.Minute, 27},
		"each-slow": {3*time.Hour + 30*time.Minute, 27},
	}
	for name, w := range want {
		img := cfg.Images[name]
		if img.BuildTimeout != w.d || img.BuildTimeoutRange.Start.Line != w.line {
			t.Errorf("%s: BuildTimeout %v at line %d, want %v at line %d", name, img.BuildTimeout, img.BuildTimeoutRange.Start.Line, w.d, w.line)
		}
	}
	if cfg.Settings.BuildTimeout != 2*time.Hour {
		t.Errorf("settings: %v", cfg.Settings.BuildTimeout)
	}

	cfg, diags = Parse(hclparse.NewParser(), t.TempDir(), []byte(`image "a" {
  template = "t"
  build    = "file.linux-a"
}`), "hybrid.hcl", Inputs{})
	if diags.HasErrors() || cfg.Images["a"].BuildTimeout != 0 {
		t.Errorf("without any build_timeout: %v, %v", cfg.Images["a"].BuildTimeout, diags)
	}
}
