package templates

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

func TestParseVarFile(t *testing.T) {
	tests := map[string]struct {
		path string
		want map[string]cty.Value
	}{
		"example file with comments": {
			path: "testdata/repo/builds/vsphere.pkrvars.hcl.example",
			want: map[string]cty.Value{
				"vsphere_endpoint":            cty.StringVal("sfo-w01-vc01.rainpole.io"),
				"vsphere_username":            cty.StringVal("svc-packer-vsphere@rainpole.io"),
				"vsphere_password":            cty.StringVal("R3pl@ceMe!"),
				"vsphere_insecure_connection": cty.False,
			},
		},
		"null, lists of objects, numbers": {
			path: "testdata/repo/builds/common.pkrvars.hcl.example",
			want: map[string]cty.Value{
				"common_iso_datastore":        cty.StringVal("sfo-w01-cl01-ds-nfs01"),
				"common_content_library_name": cty.NullVal(cty.DynamicPseudoType),
				"vm_disks": cty.TupleVal([]cty.Value{
					cty.ObjectVal(map[string]cty.Value{"size": cty.NumberIntVal(40960), "thin_provisioned": cty.True}),
					cty.ObjectVal(map[string]cty.Value{"size": cty.NumberIntVal(10240), "thin_provisioned": cty.False}),
				}),
				"vm_mem_size": cty.NumberIntVal(4096),
			},
		},
		"json": {
			path: "testdata/repo/builds/network.pkrvars.json",
			want: map[string]cty.Value{
				"vm_network": cty.ObjectVal(map[string]cty.Value{
					"name":    cty.StringVal("sfo-w01-seg-dhcp"),
					"address": cty.StringVal("172.16.11.0/24"),
				}),
				"dns_servers": cty.TupleVal([]cty.Value{cty.StringVal("172.16.11.4"), cty.StringVal("172.16.11.5")}),
			},
		},
		"auto var file": {
			path: filepath.Join(ubuntuDir, "overrides.auto.pkrvars.hcl"),
			want: map[string]cty.Value{"vm_guest_os_name": cty.StringVal("ubuntu")},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := hclparse.NewParser()
			got, diags := ParseVarFile(p, tc.path)
			noDiags(t, diags)
			if got.Path != tc.path {
				t.Errorf("Path = %q, want %q", got.Path, tc.path)
			}
			if diff := cmp.Diff(tc.want, got.Values, cmpOpts); diff != "" {
				t.Errorf("wrong values (-want +got):\n%s", diff)
			}
			for name := range tc.want {
				r, ok := got.Ranges[name]
				if !ok || r.Filename != tc.path || r.Start.Line == 0 {
					t.Errorf("no range for %s: %v", name, r)
				}
			}
			if _, ok := p.Files()[tc.path]; !ok {
				t.Errorf("parser does not hold %s", tc.path)
			}
		})
	}
}

// The values a repository's var files set fit the variables its template
// declares.
func TestVarFilesFitTemplate(t *testing.T) {
	tmpl, diags := Load(nil, ubuntuDir)
	noDiags(t, diags)
	files := []string{
		"testdata/repo/builds/vsphere.pkrvars.hcl.example",
		"testdata/repo/builds/build.pkrvars.hcl.example",
		"testdata/repo/builds/common.pkrvars.hcl.example",
		"testdata/repo/builds/network.pkrvars.json",
		filepath.Join(ubuntuDir, "linux-ubuntu.pkrvars.hcl.example"),
	}
	set := map[string]bool{}
	for _, path := range files {
		vf, diags := ParseVarFile(nil, path)
		noDiags(t, diags)
		for name, val := range vf.Values {
			v, ok := tmpl.Variables[name]
			if !ok {
				t.Errorf("%s sets undeclared variable %s", path, name)
				continue
			}
			if err := CheckValue(v, val); err != nil {
				t.Errorf("%s: %v", position(vf.Ranges[name]), err)
			}
			set[name] = true
		}
	}
	for name, v := range tmpl.Variables {
		if !v.HasDefault && !set[name] {
			t.Errorf("variable %s has no default and no value", name)
		}
	}
}

func TestParseVarFileInvalid(t *testing.T) {
	paths, err := filepath.Glob("testdata/invalid-varfiles/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			vf, diags := ParseVarFile(hclparse.NewParser(), path)
			want := expectedDiags(t, []string{path})
			if diff := cmp.Diff(want, gotDiags(t, diags)); diff != "" {
				t.Errorf("wrong diagnostics (-want +got):\n%s", diff)
			}
			if vf.Values == nil || vf.Ranges == nil {
				t.Error("maps are nil")
			}
		})
	}
}

func TestParseVarFileKeepsGoodValues(t *testing.T) {
	vf, diags := ParseVarFile(nil, "testdata/invalid-varfiles/references.pkrvars.hcl")
	if !diags.HasErrors() {
		t.Fatal("no errors")
	}
	want := map[string]cty.Value{
		"iso_path":   cty.StringVal("iso/linux"),
		"disk_sizes": cty.TupleVal([]cty.Value{cty.NumberIntVal(1024), cty.NumberIntVal(2048)}),
	}
	if diff := cmp.Diff(want, vf.Values, cmpOpts); diff != "" {
		t.Errorf("wrong values (-want +got):\n%s", diff)
	}
	for _, d := range diags {
		if d.Summary == "Reference in a var file" && !strings.Contains(d.Detail, "Var files hold literal values") {
			t.Errorf("detail does not say var files hold literals: %s", d.Detail)
		}
	}
}

func TestParseVarFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		name, content string
		summary       string
	}{
		"missing file":        {"", "", "Cannot read var file"},
		"json duplicate":      {"a.pkrvars.json", `{"a": 1, "a": 2}`, "Duplicate attribute definition"},
		"json syntax":         {"b.pkrvars.json", `{"a": }`, "Missing JSON value"},
		"json reference":      {"c.pkrvars.json", `{"a": "${var.b}"}`, "Reference in a var file"},
		"json example suffix": {"d.pkrvars.json.example", `{"a": [}`, "Missing JSON value"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "missing.pkrvars.hcl")
			if tc.name != "" {
				path = writeFile(t, dir, tc.name, tc.content)
			}
			_, diags := ParseVarFile(nil, path)
			if !diags.HasErrors() {
				t.Fatal("no error")
			}
			if diags[0].Summary != tc.summary {
				t.Errorf("summary %q, want %q:\n%s", diags[0].Summary, tc.summary, diags.Error())
			}
		})
	}
}
