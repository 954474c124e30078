package templates

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// addSeeds adds every file matching the globs to the corpus, with isJSON
// telling whether the file is HCL JSON.
func addSeeds(f *testing.F, globs ...string) {
	f.Helper()
	for _, glob := range globs {
		paths, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			isJSON := filepath.Ext(path) == ".json"
			f.Add(data, isJSON)
		}
	}
}

// printDiags renders diags with snippets, as the CLI does, so ranges that
// point outside the file would show up as a panic.
func printDiags(t *testing.T, p *hclparse.Parser, diags hcl.Diagnostics) {
	t.Helper()
	if err := hcl.NewDiagnosticTextWriter(io.Discard, p.Files(), 80, false).WriteDiagnostics(diags); err != nil {
		t.Fatal(err)
	}
}

// FuzzLoad loads arbitrary bytes as a one-file template directory: Load and
// everything that reads its result must never panic.
//
// Run the fuzz targets with -fuzzminimizetime=0: the seeds are real
// templates of a few kilobytes and this parser finds new coverage often, so
// minimising each new input (up to 60s by default) leaves almost no time to
// fuzz.
func FuzzLoad(f *testing.F) {
	addSeeds(f,
		"testdata/repo/builds/*/*/*/*.pkr.hcl",
		"testdata/repo/builds/*/*/*/*.pkr.json",
		"testdata/invalid/*/*.pkr.hcl",
	)
	f.Add([]byte(`build { source "source.null.x" { name = 1 } }`), false)
	f.Add([]byte(`{"build": {"sources": "source.null.x"}}`), true)
	// One directory per syntax, reused by every input of this process:
	// t.TempDir per input slows fuzzing to a crawl.
	hclDir, jsonDir := filepath.Join(f.TempDir(), "hcl"), filepath.Join(f.TempDir(), "json")
	for _, dir := range []string{hclDir, jsonDir} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		dir, name := hclDir, "fuzz"+HCLSuffix
		if isJSON {
			dir, name = jsonDir, "fuzz"+JSONSuffix
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		p := hclparse.NewParser()
		tmpl, diags := Load(p, dir)
		if tmpl == nil {
			t.Fatal("Load returned no template")
		}
		diags = append(diags, CheckNaming(tmpl, nil)...)
		printDiags(t, p, diags)
		for _, ref := range tmpl.BuildSources() {
			tmpl.FindBuild(ref.PackerName())
			tmpl.Source(ref.Address())
		}
		for _, v := range tmpl.Variables {
			v.Constraint()
			if v.HasDefault {
				_ = CheckValue(v, v.Default)
			}
			_ = CheckValue(v, cty.StringVal("x"))
		}
	})
}

// FuzzParseVarFile parses arbitrary bytes as a var file and checks every
// value against a few variable types: nothing may panic.
func FuzzParseVarFile(f *testing.F) {
	addSeeds(f,
		"testdata/repo/builds/*.pkrvars.*",
		"testdata/repo/builds/*/*/*/*.pkrvars.hcl*",
		"testdata/invalid-varfiles/*",
	)
	f.Add([]byte(`a = { for k, v in {x = 1} : k => v }`), false)
	f.Add([]byte(`{"a": {"b": ["${1 + 1}"]}}`), true)
	checks := []Variable{
		{Name: "s", Type: cty.String},
		{Name: "n", Type: cty.Number},
		{Name: "l", Type: cty.List(cty.Map(cty.String))},
		{Name: "o", Type: cty.Object(map[string]cty.Type{"a": cty.Set(cty.Number)})},
		{Name: "secret", Type: cty.Bool, Sensitive: true},
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		name := "fuzz.pkrvars.hcl"
		if isJSON {
			name = "fuzz.pkrvars.json"
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p := hclparse.NewParser()
		vf, diags := ParseVarFile(p, path)
		printDiags(t, p, diags)
		for name, val := range vf.Values {
			if _, ok := vf.Ranges[name]; !ok {
				t.Fatalf("value %s has no range", name)
			}
			for _, v := range checks {
				_ = CheckValue(v, val)
			}
		}
	})
}
