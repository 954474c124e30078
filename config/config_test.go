package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

func loadValid(t *testing.T, in Inputs) (*Config, *hclparse.Parser) {
	t.Helper()
	p := hclparse.NewParser()
	cfg, diags := Load(p, "testdata/valid", in)
	if diags.HasErrors() {
		var buf strings.Builder
		hcl.NewDiagnosticTextWriter(&buf, p.Files(), 100, false).WriteDiagnostics(diags)
		t.Fatalf("unexpected errors:\n%s", buf.String())
	}
	return cfg, p
}

func TestLoadValid(t *testing.T) {
	cfg, _ := loadValid(t, Inputs{})
	if diff := cmp.Diff([]string{"base", "prod"}, cfg.EnvironmentNames()); diff != "" {
		t.Errorf("environments (-want +got):\n%s", diff)
	}
	win := cfg.Images["windows"]
	type summary struct {
		Template, Builder, SourceName, OS, Platform, WorkingDir, Only string
		DependsOn, Envs, Inputs                                       []string
	}
	got := summary{win.Template, win.Builder, win.SourceName, win.OS, win.Platform, win.WorkingDir, win.Only(),
		names(win.DependsOn), cfg.ImageEnvironments(win), []string{win.Inputs[0].Path}}
	want := summary{
		Template: "sources/examples/builds/windows/server/2022", Builder: "vsphere-iso",
		SourceName: "windows-server-2022-standard-core", OS: "windows", Platform: "vsphere-iso",
		WorkingDir: "sources/examples", Only: "vsphere-iso.windows-server-2022-standard-core",
		DependsOn: []string{"ubuntu"}, Envs: []string{"prod"}, Inputs: []string{"files/windows/**"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("windows image (-want +got):\n%s", diff)
	}
	if s := cfg.SourceOf(win.Template); s == nil || s.Name != "examples" {
		t.Errorf("SourceOf(%s) = %v, want examples", win.Template, s)
	}
	if got := cfg.Stack(win, "prod"); got != StackPuppet {
		t.Errorf("windows stack = %s, want puppet", got)
	}
	if got := cfg.Stack(cfg.Images["ubuntu"], "prod"); got != StackAnsible {
		t.Errorf("ubuntu stack = %s, want the default ansible", got)
	}
	if got := cfg.Provisioners[StackPuppet].EntryPath(); got != "assets/puppet/manifests/site.pp" {
		t.Errorf("puppet entry = %s", got)
	}
	if got := cfg.Plugins["vsphere"].Source; got != "github.com/hashicorp/vsphere" {
		t.Errorf("plugin source = %s", got)
	}
}

func names(refs []Ref) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

func TestRenderMergeOrder(t *testing.T) {
	cfg, _ := loadValid(t, Inputs{})
	r, diags := cfg.Render(cfg.Images["ubuntu"], "prod", nil, nil, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]string{
		"os":       "file vars/common.pkrvars.hcl.example", // only the base file sets it
		"vm_cpu":   "var_group.common",                     // group values beat the group's file
		"vm_mem":   "environment.prod",                     // the child environment beats its parent
		"name":     "image.ubuntu",
		"password": "environment.prod",
		"extra":    "var_group.common",
		"label":    "var_group.common",
	}
	if diff := cmp.Diff(want, r.Origins); diff != "" {
		t.Errorf("origins (-want +got):\n%s", diff)
	}
	if !r.Values["vm_mem"].RawEquals(cty.NumberIntVal(4096)) {
		t.Errorf("vm_mem = %#v, want 4096", r.Values["vm_mem"])
	}
}

func TestRenderKeepsSecretsOut(t *testing.T) {
	cfg, _ := loadValid(t, Inputs{Args: []InputArg{{Value: "password=hunter2-very-secret"}}})
	r, diags := cfg.Render(cfg.Images["ubuntu"], "prod", nil,
		func(n string) bool { return n == "label" }, func(n string) bool { return n != "extra" })
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if bytes.Contains(r.Bytes, []byte("hunter2")) {
		t.Errorf("rendered bytes contain the sensitive value:\n%s", r.Bytes)
	}
	if bytes.Contains(r.Bytes, []byte(`label`+"  = ")) || bytes.Contains(r.Bytes, []byte(`"X"`)) {
		t.Errorf("a value the template declares sensitive was rendered:\n%s", r.Bytes)
	}
	if diff := cmp.Diff([]string{"extra"}, r.Undeclared); diff != "" {
		t.Errorf("undeclared (-want +got):\n%s", diff)
	}
	if bytes.Contains(r.Bytes, []byte("extra")) {
		t.Errorf("an undeclared value was rendered:\n%s", r.Bytes)
	}
	if got := EnvValue(r.Sensitive["password"]); got != "hunter2-very-secret" {
		t.Errorf("PKR_VAR value = %q", got)
	}
	if got := ShowValue(r.Values["password"]); got != "(sensitive value)" {
		t.Errorf("ShowValue of a secret = %q", got)
	}
}

// TestRenderDeterministic renders the whole workspace twice, from two
// separate loads, and compares every byte.
func TestRenderDeterministic(t *testing.T) {
	renderAll := func() map[string][]byte {
		cfg, _ := loadValid(t, Inputs{})
		out := map[string][]byte{}
		for _, in := range cfg.ImageNames() {
			img := cfg.Images[in]
			for _, env := range cfg.ImageEnvironments(img) {
				r, diags := cfg.Render(img, env, nil, nil, nil)
				if diags.HasErrors() {
					t.Fatal(diags)
				}
				out[r.Path] = r.Bytes
			}
		}
		return out
	}
	first, second := renderAll(), renderAll()
	if len(first) != 3 {
		t.Fatalf("rendered %d files, want 3 (ubuntu x 2, windows x 1)", len(first))
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("renders differ between runs (-first +second):\n%s", diff)
	}
	golden := filepath.Join("testdata", "valid", "windows.prod.pkrvars.hcl.golden")
	got := first["configs/prod/windows.pkrvars.hcl"]
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./config -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("windows.prod render (-want +got):\n%s", diff)
	}
}

func TestInputPrecedence(t *testing.T) {
	cases := map[string]struct {
		in   Inputs
		want cty.Value
	}{
		"default":           {Inputs{}, cty.NumberIntVal(2048)},
		"env":               {Inputs{Environ: []string{"HYBRID_VAR_mem=3000"}}, cty.NumberIntVal(3000)},
		"var beats env":     {Inputs{Environ: []string{"HYBRID_VAR_mem=3000"}, Args: []InputArg{{Value: "mem=4000"}}}, cty.NumberIntVal(4000)},
		"later arg wins":    {Inputs{Args: []InputArg{{Value: "mem=4000"}, {File: true, Value: "testdata/inputs/mem.hcl"}}}, cty.NumberIntVal(5000)},
		"var after varfile": {Inputs{Args: []InputArg{{File: true, Value: "testdata/inputs/mem.hcl"}, {Value: "mem=4000"}}}, cty.NumberIntVal(4000)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for i, a := range tc.in.Args {
				if a.File {
					abs, _ := filepath.Abs(a.Value)
					tc.in.Args[i].Value = abs
				}
			}
			cfg, _ := loadValid(t, tc.in)
			if got := cfg.Variables["mem"].Value; !got.RawEquals(tc.want) {
				t.Errorf("mem = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestUndeclaredVarOption(t *testing.T) {
	p := hclparse.NewParser()
	_, diags := Load(p, "testdata/valid", Inputs{Args: []InputArg{{Value: "nope=1"}}})
	if !diags.HasErrors() || diags[0].Summary != "Value for undeclared variable" {
		t.Fatalf("diags = %v, want Value for undeclared variable", diags)
	}
}
