package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

const (
	ubuntuDir  = "testdata/repo/builds/linux/ubuntu/22-04-lts"
	windowsDir = "testdata/repo/builds/windows/server/2022"
	debianDir  = "testdata/repo/builds/linux/debian/12"
)

// typed is a declared variable of type ty without a default.
func typed(ty cty.Type) Variable { return Variable{Type: ty} }

// withDefault gives v the default d.
func withDefault(v Variable, d cty.Value) Variable { v.HasDefault, v.Default = true, d; return v }

func TestLoad(t *testing.T) {
	vsphere := Plugin{Name: "vsphere", Source: "github.com/hashicorp/vsphere", Version: ">= 1.2.1"}
	diskType := cty.Object(map[string]cty.Type{"size": cty.Number, "thin_provisioned": cty.Bool})
	winSource := func(name string) Source { return Source{Type: "vsphere-iso", Name: name} }
	winRef := func(name string) SourceRef { return SourceRef{Type: "vsphere-iso", Name: name} }

	tests := map[string]struct {
		dir  string
		want *Template
	}{
		"linux ubuntu": {
			dir: ubuntuDir,
			want: &Template{
				Dir:             ubuntuDir,
				RequiredVersion: []Constraint{{Value: ">= 1.9.4"}},
				RequiredPlugins: map[string]Plugin{
					"vsphere": vsphere,
					"ansible": {Name: "ansible", Source: "github.com/hashicorp/ansible", Version: "~> 1"},
				},
				Sources: []Source{{Type: "vsphere-iso", Name: "linux-ubuntu"}},
				Builds:  []Build{{Sources: []SourceRef{{Type: "vsphere-iso", Name: "linux-ubuntu"}}, Provisioners: []string{"ansible"}}},
				Variables: variables(map[string]Variable{
					"vsphere_endpoint":            {Type: cty.String, Description: "The fully qualified domain name or IP address of the vCenter Server instance."},
					"vsphere_username":            {Type: cty.String, Sensitive: true, Description: "The username to login to the vCenter Server instance."},
					"vsphere_password":            {Type: cty.String, Sensitive: true, Description: "The password for the login to the vCenter Server instance."},
					"vsphere_insecure_connection": withDefault(typed(cty.Bool), cty.True),
					"vm_guest_os_family":          withDefault(typed(cty.String), cty.StringVal("linux")),
					"vm_guest_os_name":            typed(cty.String),
					"vm_guest_os_version":         typed(cty.String),
					"vm_guest_os_type":            typed(cty.String),
					"vm_os_language":              withDefault(typed(cty.String), cty.StringVal("en_US")),
					"vm_cpu_count":                withDefault(typed(cty.Number), cty.NumberIntVal(2)),
					"vm_mem_size":                 withDefault(typed(cty.Number), cty.NumberIntVal(2048)),
					"vm_disks": withDefault(typed(cty.List(diskType)), cty.ListVal([]cty.Value{
						cty.ObjectVal(map[string]cty.Value{"size": cty.NumberIntVal(40960), "thin_provisioned": cty.True}),
					})),
					"vm_network":                  typed(cty.Object(map[string]cty.Type{"name": cty.String, "address": cty.String})),
					"common_iso_datastore":        typed(cty.String),
					"common_content_library_name": withDefault(typed(cty.String), cty.NullVal(cty.String)),
					"iso_path":                    typed(cty.String),
					"iso_file":                    typed(cty.String),
					"build_username":              {Type: cty.String, Sensitive: true},
					"build_password":              {Type: cty.String, Sensitive: true},
					"ssh_keys":                    withDefault(typed(cty.List(cty.String)), cty.ListValEmpty(cty.String)),
					"dns_servers": withDefault(typed(cty.DynamicPseudoType),
						cty.TupleVal([]cty.Value{cty.StringVal("10.0.0.2"), cty.StringVal("10.0.0.3")})),
					// path.cwd is packer's: present, value unknown.
					"log_dir":        withDefault(typed(cty.String), cty.UnknownVal(cty.String)),
					"enable_ansible": withDefault(typed(cty.Bool), cty.True),
					"enable_puppet":  withDefault(typed(cty.Bool), cty.False),
				}),
			},
		},
		"windows four sources in one build": {
			dir: windowsDir,
			want: &Template{
				Dir:             windowsDir,
				RequiredVersion: []Constraint{{Value: ">= 1.9.4"}},
				RequiredPlugins: map[string]Plugin{
					"vsphere":        vsphere,
					"windows-update": {Name: "windows-update", Source: "github.com/rgl/windows-update", Version: ">= 0.14.3"},
				},
				Sources: []Source{
					winSource("windows-server-2022-standard-core"),
					winSource("windows-server-2022-standard-desktop"),
					winSource("windows-server-2022-datacenter-core"),
					winSource("windows-server-2022-datacenter-desktop"),
				},
				Builds: []Build{{Sources: []SourceRef{
					winRef("windows-server-2022-standard-core"),
					winRef("windows-server-2022-standard-desktop"),
					winRef("windows-server-2022-datacenter-core"),
					winRef("windows-server-2022-datacenter-desktop"),
				}, Provisioners: []string{"powershell", "windows-update"}}},
				Variables: variables(map[string]Variable{
					"vsphere_endpoint":               typed(cty.String),
					"build_username":                 {Type: cty.String, Sensitive: true},
					"build_password":                 {Type: cty.String, Sensitive: true},
					"vm_guest_os_family":             withDefault(typed(cty.String), cty.StringVal("windows")),
					"vm_guest_os_name":               withDefault(typed(cty.String), cty.StringVal("server")),
					"vm_guest_os_version":            withDefault(typed(cty.String), cty.StringVal("2022")),
					"vm_inst_os_image_standard_core": withDefault(typed(cty.String), cty.StringVal("Windows Server 2022 SERVERSTANDARDCORE")),
					"scripts": {
						Type: cty.List(cty.String), HasDefault: true, Description: "Scripts run after the operating system is installed.",
						Default: cty.ListVal([]cty.Value{cty.StringVal("scripts/windows/windows-prepare.ps1")}),
					},
					"vm_inst_os_kms_key": withDefault(typed(cty.Map(cty.String)), cty.MapVal(map[string]cty.Value{
						"standard":   cty.StringVal("VDYBN-27WPP-V4HQT-9VMD4-VMK7H"),
						"datacenter": cty.StringVal("WX4NM-KYWYW-QJJR4-XV3QB-6VM33"),
					})),
				}),
			},
		},
		"json template with a named build and a nested source": {
			dir: debianDir,
			want: &Template{
				Dir:             debianDir,
				RequiredVersion: []Constraint{{Value: ">= 1.9.0, < 2.0.0"}},
				RequiredPlugins: map[string]Plugin{
					"qemu": {Name: "qemu", Source: "github.com/hashicorp/qemu", Version: "~> 1.0"},
				},
				Sources: []Source{
					{Type: "qemu", Name: "linux-debian"},
					{Type: "null", Name: "linux-debian-check"},
				},
				Builds: []Build{{Name: "debian", Sources: []SourceRef{
					{Type: "qemu", Name: "linux-debian", Build: "debian"},
					{Type: "null", Name: "linux-debian-check", LocalName: "linux-debian-smoke", Build: "debian"},
				}, Provisioners: []string{"shell-local"}}},
				Variables: variables(map[string]Variable{
					"vm_guest_os_name": withDefault(typed(cty.String), cty.StringVal("debian")),
					"disk_size":        typed(cty.Number),
					"mirrors":          withDefault(typed(cty.List(cty.String)), cty.ListVal([]cty.Value{cty.StringVal("deb.debian.org")})),
					"root_password":    {Type: cty.String, Sensitive: true},
				}),
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := Load(hclparse.NewParser(), tc.dir)
			noDiags(t, diags)
			if diff := cmp.Diff(tc.want, got, cmpOpts); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
			noDiags(t, CheckNaming(got, nil))
		})
	}
}

// variables fills in each Variable's Name from its key.
func variables(m map[string]Variable) map[string]Variable {
	for name, v := range m {
		v.Name = name
		m[name] = v
	}
	return m
}

func TestLoadFiles(t *testing.T) {
	tmpl, diags := Load(nil, ubuntuDir)
	noDiags(t, diags)
	// Var files, data/*.pkrtpl.hcl and other files are not packer files.
	wantFiles := []string{
		filepath.Join(ubuntuDir, "linux-ubuntu.pkr.hcl"),
		filepath.Join(ubuntuDir, "variables.pkr.hcl"),
	}
	if diff := cmp.Diff(wantFiles, tmpl.Files()); diff != "" {
		t.Errorf("wrong Files (-want +got):\n%s", diff)
	}
	wantAuto := []string{filepath.Join(ubuntuDir, "overrides.auto.pkrvars.hcl")}
	if diff := cmp.Diff(wantAuto, tmpl.AutoVarFiles()); diff != "" {
		t.Errorf("wrong AutoVarFiles (-want +got):\n%s", diff)
	}

	varFiles := []string{
		"testdata/repo/builds/vsphere.pkrvars.hcl.example",
		"testdata/repo/builds/build.pkrvars.hcl.example",
		filepath.Join(ubuntuDir, "linux-ubuntu.pkrvars.hcl.example"),
	}
	want := append(append([]string{}, wantFiles...), varFiles...)
	if diff := cmp.Diff(want, CommandFiles(tmpl, varFiles)); diff != "" {
		t.Errorf("wrong CommandFiles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(varFiles, CommandFiles(nil, varFiles)); diff != "" {
		t.Errorf("wrong CommandFiles without template (-want +got):\n%s", diff)
	}

	// The returned slices are copies.
	tmpl.Files()[0] = "changed"
	if tmpl.Files()[0] == "changed" {
		t.Error("Files returned the template's own slice")
	}
}

func TestLoadSortsAndSkipsDirectories(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.pkr.json", `{"source": {"null": {"linux-b": {"communicator": "none"}}}}`)
	writeFile(t, dir, "a.pkr.hcl", `source "null" "linux-a" { communicator = "none" }`)
	writeFile(t, dir, "c.pkr.hcl", `build { sources = ["null.linux-a", "source.null.linux-b"] }`)
	writeFile(t, dir, "nested.pkr.hcl/inner.pkr.hcl", `this is { not read`)
	writeFile(t, dir, "sub/d.pkr.hcl", `this is { not read`)
	writeFile(t, dir, "notes.pkr.hcl.bak", `this is { not read`)
	if err := os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "link.pkr.hcl")); err != nil {
		t.Fatal(err)
	}

	tmpl, diags := Load(nil, dir)
	noDiags(t, diags)
	want := []string{filepath.Join(dir, "a.pkr.hcl"), filepath.Join(dir, "b.pkr.json"), filepath.Join(dir, "c.pkr.hcl")}
	if diff := cmp.Diff(want, tmpl.Files()); diff != "" {
		t.Errorf("wrong Files (-want +got):\n%s", diff)
	}
	wantRefs := []SourceRef{{Type: "null", Name: "linux-a"}, {Type: "null", Name: "linux-b"}}
	if diff := cmp.Diff(wantRefs, tmpl.BuildSources(), cmpOpts); diff != "" {
		t.Errorf("wrong BuildSources (-want +got):\n%s", diff)
	}
}

func TestLoadRanges(t *testing.T) {
	p := hclparse.NewParser()
	tmpl, diags := Load(p, windowsDir)
	noDiags(t, diags)
	file := filepath.Join(windowsDir, "windows-server.pkr.hcl")
	type at struct {
		File string
		Line int
	}
	pos := func(r hcl.Range) at { return at{r.Filename, r.Start.Line} }

	var got []at
	for _, s := range tmpl.Sources {
		got = append(got, pos(s.NameRange))
	}
	for _, ref := range tmpl.Builds[0].Sources {
		got = append(got, pos(ref.Range))
	}
	got = append(got,
		pos(tmpl.Builds[0].DeclRange),
		pos(tmpl.RequiredVersion[0].Range),
		pos(tmpl.RequiredPlugins["windows-update"].Range),
		pos(tmpl.Variables["scripts"].DeclRange),
	)
	want := []at{
		{file, 25}, {file, 35}, {file, 39}, {file, 43},
		{file, 49}, {file, 50}, {file, 51}, {file, 52},
		{file, 47},
		{file, 5},
		{file, 11},
		{filepath.Join(windowsDir, "variables.pkr.hcl"), 35},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrong positions (-want +got):\n%s", diff)
	}
	// The parser holds every file, so diagnostics print with snippets.
	for _, f := range tmpl.Files() {
		if _, ok := p.Files()[f]; !ok {
			t.Errorf("parser does not hold %s", f)
		}
	}
}

// TestLoadInvalid loads each directory under testdata/invalid and checks
// its diagnostics (from Load and CheckNaming) against the markers at the
// end of the offending lines.
func TestLoadInvalid(t *testing.T) {
	dirs, err := filepath.Glob("testdata/invalid/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Fatalf("found %d invalid fixtures, want at least 10", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p := hclparse.NewParser()
			tmpl, diags := Load(p, dir)
			if tmpl == nil {
				t.Fatal("Load returned no template")
			}
			diags = append(diags, CheckNaming(tmpl, nil)...)
			want := expectedDiags(t, tmpl.Files())
			if len(want) == 0 {
				t.Fatal("fixture has no # ERROR or # WARNING marker")
			}
			if diff := cmp.Diff(want, gotDiags(t, diags)); diff != "" {
				t.Errorf("wrong diagnostics (-want +got):\n%s", diff)
			}
			for _, d := range diags {
				if d.Detail == "" {
					t.Errorf("%s: %q has no detail", d.Subject, d.Summary)
				}
			}
			// Every diagnostic prints with its snippet.
			var out strings.Builder
			if err := hcl.NewDiagnosticTextWriter(&out, p.Files(), 100, false).WriteDiagnostics(diags); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "# ") {
				t.Errorf("diagnostics printed without snippets:\n%s", out.String())
			}
		})
	}
}

func TestLoadWithoutTemplates(t *testing.T) {
	empty := t.TempDir()
	writeFile(t, empty, "vars.pkrvars.hcl", `a = 1`)
	writeFile(t, empty, "data/user-data.pkrtpl.hcl", `x`)
	tests := map[string]struct {
		dir     string
		summary string
	}{
		"missing directory": {filepath.Join(empty, "missing"), "Cannot read template directory"},
		"no packer files":   {empty, "No packer template files"},
		"a file, not a dir": {filepath.Join(empty, "vars.pkrvars.hcl"), "Cannot read template directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tmpl, diags := Load(nil, tc.dir)
			if tmpl == nil {
				t.Fatal("Load returned no template")
			}
			if len(diags) != 1 || diags[0].Summary != tc.summary || diags[0].Severity != hcl.DiagError {
				t.Fatalf("want one error %q, got:\n%s", tc.summary, diags.Error())
			}
			if !strings.Contains(diags[0].Detail, filepath.Base(tc.dir)) {
				t.Errorf("detail does not name the directory: %s", diags[0].Detail)
			}
		})
	}
}

func TestBuildSourcesAndLookups(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "linux.pkr.hcl", `
source "null" "linux-base" {}
source "null" "linux-unused" {}
source "file" "linux-app" {}

build {
  sources = ["source.null.linux-base", "file.linux-app"]
}

build {
  name = "hardened"
  sources = ["source.null.linux-base"]
  source "source.file.linux-app" {
    name = "linux-app-hardened"
  }
}

build {
  # The same build again adds nothing.
  sources = ["source.null.linux-base"]
}
`)
	tmpl, diags := Load(nil, dir)
	noDiags(t, diags)

	var names []string
	for _, ref := range tmpl.BuildSources() {
		names = append(names, ref.PackerName())
	}
	wantNames := []string{"null.linux-base", "file.linux-app", "hardened.null.linux-base", "hardened.file.linux-app-hardened"}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("wrong BuildSources (-want +got):\n%s", diff)
	}

	findTests := map[string]struct {
		address string
		want    string // PackerName of the result, "" when not found
	}{
		"packer name":                {"hardened.file.linux-app-hardened", "hardened.file.linux-app-hardened"},
		"source address":             {"file.linux-app", "file.linux-app"},
		"source address with prefix": {"source.file.linux-app", "file.linux-app"},
		"unused source":              {"null.linux-unused", ""},
		"unknown":                    {"null.linux-nothing", ""},
		"not an address":             {"linux-base", ""},
	}
	for name, tc := range findTests {
		t.Run(name, func(t *testing.T) {
			ref, ok := tmpl.FindBuild(tc.address)
			got := ""
			if ok {
				got = ref.PackerName()
			}
			if got != tc.want {
				t.Errorf("FindBuild(%q) = %q, want %q", tc.address, got, tc.want)
			}
		})
	}

	if s, ok := tmpl.Source("source.null.linux-unused"); !ok || s.Address() != "null.linux-unused" {
		t.Errorf("Source(source.null.linux-unused) = %v, %v", s, ok)
	}
	if _, ok := tmpl.Source("null.linux-nothing"); ok {
		t.Error("Source found an undeclared source")
	}
	if _, ok := tmpl.Source("nonsense"); ok {
		t.Error("Source found a malformed address")
	}
}

func TestLoadIsDeterministic(t *testing.T) {
	for _, dir := range []string{ubuntuDir, windowsDir, debianDir, "testdata/invalid/bad-plugins", "testdata/invalid/duplicate-variable"} {
		first, firstDiags := Load(nil, dir)
		for range 5 {
			again, diags := Load(nil, dir)
			if diff := cmp.Diff(first, again, cmpOpts); diff != "" {
				t.Errorf("%s: loads differ (-first +again):\n%s", dir, diff)
			}
			if firstDiags.Error() != diags.Error() {
				t.Errorf("%s: diagnostics differ:\n%s\n---\n%s", dir, firstDiags.Error(), diags.Error())
			}
		}
	}
}
