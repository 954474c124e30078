package templates

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// dirFiles reads a directory through workspace-relative slash paths, as
// the workspace's Files does.
type dirFiles struct{ fsys fs.FS }

func (d dirFiles) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(d.fsys, name) }
func (d dirFiles) ReadFile(name string) ([]byte, error)       { return fs.ReadFile(d.fsys, name) }
func (d dirFiles) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(d.fsys, name) }

func loadEvalFixture(t *testing.T) (*Template, Scope) {
	t.Helper()
	root, err := filepath.Abs("testdata/eval/ws")
	if err != nil {
		t.Fatal(err)
	}
	files := dirFiles{os.DirFS(root)}
	tmpl, diags := LoadFrom(hclparse.NewParser(), files, "repo/linux")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return tmpl, Scope{Files: files, Root: root, Dir: "repo/linux", PathRoot: filepath.Join(root, "repo/linux"), WorkingDir: ".", PackerVersion: "1.9.4"}
}

// inputPaths lists an evaluation's inputs as "path" (globs as "glob:path").
func inputPaths(ev *Evaluation) []string {
	var out []string
	for _, in := range ev.Inputs {
		p := in.Path
		if in.Kind == InputGlob {
			p = "glob:" + p
		}
		out = append(out, p)
	}
	return out
}

func whats(reads []Read) []string {
	var out []string
	for _, r := range reads {
		out = append(out, r.String())
	}
	return out
}

func TestEvaluate(t *testing.T) {
	tmpl, base := loadEvalFixture(t)
	sources := func(names ...string) cty.Value {
		var vs []cty.Value
		for _, n := range names {
			vs = append(vs, cty.StringVal("source."+n))
		}
		return cty.ListVal(vs)
	}
	cases := []struct {
		name       string
		only       string
		values     map[string]cty.Value
		found      bool
		inputs     []string
		widened    []string
		untracked  []string
		unresolved int
	}{
		{
			name:   "debian picks its own scripts, answer file and apt.conf",
			only:   "qemu.linux-debian",
			values: map[string]cty.Value{"os": cty.StringVal("debian"), "os_version": cty.StringVal("12")},
			found:  true,
			inputs: []string{
				"repo/linux/ansible/roles", "repo/linux/ansible/site.yml",
				"repo/linux/data/apt.conf", "repo/linux/data/motd-debian.txt", "repo/linux/data/preseed.pkrtpl.hcl",
				"repo/linux/scripts/common.sh", "repo/linux/scripts/debian.sh",
			},
		},
		{
			name: "ubuntu: its scripts, local ISO, cd_files glob, only-ubuntu provisioner; the motd provisioner is excepted",
			only: "qemu.linux-ubuntu",
			values: map[string]cty.Value{
				"os": cty.StringVal("ubuntu"), "os_version": cty.StringVal("24.04"),
				"sources_enabled": sources("qemu.linux-debian", "qemu.linux-ubuntu"),
			},
			found: true,
			inputs: []string{
				"isos/ubuntu.iso",
				"repo/linux/ansible/roles", "repo/linux/ansible/site.yml",
				"glob:repo/linux/data/*.cfg", "repo/linux/data/motd-ubuntu.txt",
				"repo/linux/scripts/common.sh", "repo/linux/scripts/ubuntu-only.sh", "repo/linux/scripts/ubuntu.sh",
			},
		},
		{
			name:   "a source the variable does not enable is not built",
			only:   "qemu.linux-ubuntu",
			values: map[string]cty.Value{"os": cty.StringVal("ubuntu"), "os_version": cty.StringVal("24.04")},
		},
		{
			name: "rocky: a script named by a data source widens, a file outside the workspace is untracked",
			only: "null.linux-rocky",
			values: map[string]cty.Value{
				"os": cty.StringVal("rocky"), "os_version": cty.StringVal("9"),
				"sources_enabled": sources("null.linux-rocky"),
			},
			found: true,
			inputs: []string{
				"repo/linux/ansible/roles", "repo/linux/ansible/site.yml",
				"repo/linux/data/motd-rocky.txt",
				"repo/linux/scripts/common.sh", "repo/linux/scripts/rocky.sh",
			},
			widened:   []string{`provisioner "shell" script is not known before the build at repo/linux/linux.pkr.hcl:85`},
			untracked: []string{`file() in provisioner "shell-local" inline "<root>/../outside.txt"`},
		},
		{
			name:       "unknown sources list",
			only:       "qemu.linux-debian",
			values:     map[string]cty.Value{"os": cty.StringVal("debian"), "os_version": cty.StringVal("12"), "sources_enabled": cty.UnknownVal(cty.List(cty.String))},
			unresolved: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			s.Values = tc.values
			ev := tmpl.Evaluate(tc.only, s)
			if ev.Found != tc.found {
				t.Fatalf("found = %v, want %v (builds %v)", ev.Found, tc.found, ev.Builds)
			}
			if len(ev.Unresolved) != tc.unresolved {
				t.Errorf("unresolved = %v, want %d", whats(ev.Unresolved), tc.unresolved)
			}
			if !tc.found {
				return
			}
			if diff := cmp.Diff(tc.inputs, inputPaths(ev)); diff != "" {
				t.Errorf("inputs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.widened, whats(ev.Widened)); diff != "" {
				t.Errorf("widened (-want +got):\n%s", diff)
			}
			var untracked []string
			for _, r := range ev.Untracked {
				untracked = append(untracked, strings.Replace(r.What, s.Root, "<root>", 1))
			}
			if diff := cmp.Diff(tc.untracked, untracked); diff != "" {
				t.Errorf("untracked (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateReads(t *testing.T) {
	tmpl, s := loadEvalFixture(t)
	s.Values = map[string]cty.Value{"os": cty.StringVal("debian"), "os_version": cty.StringVal("12")}
	ev := tmpl.Evaluate("qemu.linux-debian", s)
	got := map[string][]string{}
	for _, in := range ev.Inputs {
		got[in.Path] = whats(in.Reads)
	}
	want := map[string][]string{
		"repo/linux/scripts/debian.sh":       {`provisioner "shell" scripts at repo/linux/linux.pkr.hcl:57`},
		"repo/linux/data/motd-debian.txt":    {`file() in local.motd at repo/linux/linux.pkr.hcl:33`},
		"repo/linux/data/preseed.pkrtpl.hcl": {`templatefile() in source.qemu.linux-debian http_content at repo/linux/linux.pkr.hcl:39`},
		"repo/linux/data/apt.conf":           {`provisioner "file" source at repo/linux/linux.pkr.hcl:74`},
		"repo/linux/ansible/site.yml":        {`provisioner "ansible" playbook_file at repo/linux/linux.pkr.hcl:80`},
	}
	for p, w := range want {
		if diff := cmp.Diff(w, got[p]); diff != "" {
			t.Errorf("reads of %s (-want +got):\n%s", p, diff)
		}
	}
	if len(ev.GitReads) != 0 {
		t.Errorf("git reads %v, want none", whats(ev.GitReads))
	}
}

func TestNetworkFunctions(t *testing.T) {
	for expr, want := range map[string]string{
		`cidrnetmask("172.16.0.0/12")`:                   "255.240.0.0",
		`cidrhost("10.12.112.0/20", 16)`:                 "10.12.112.16",
		`cidrsubnet("10.1.2.0/24", 4, 15)`:               "10.1.2.240/28",
		`join(",", cidrsubnets("10.1.0.0/16", 4, 4, 8))`: "10.1.0.0/20,10.1.16.0/20,10.1.32.0/24",
	} {
		e, diags := hclsyntax.ParseExpression([]byte(expr), "t.hcl", hcl.Pos{Line: 1, Column: 1})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		v, diags := e.Value(&hcl.EvalContext{Functions: pureFunctions})
		if diags.HasErrors() || v.AsString() != want {
			t.Errorf("%s = %#v (%v), want %q", expr, v, diags, want)
		}
	}
}

// TestEvaluateSensitiveLaundering: a path chosen through can(), try() or a
// conditional on a secret is sensitive, so it is never recorded (it would
// reach plans and state): the template directory stands for it.
func TestEvaluateSensitiveLaundering(t *testing.T) {
	root := t.TempDir()
	src := `variable "pw" {
  type      = string
  sensitive = true
}
source "null" "linux-a" {
  communicator = "none"
}
build {
  sources = ["source.null.linux-a"]
  provisioner "shell-local" {
    scripts = [can(regex("^S", var.pw)) ? "s.sh" : "other.sh", try(var.pw, "x"), length(var.pw) > 3 ? "long.sh" : "short.sh"]
  }
}
`
	if err := os.MkdirAll(filepath.Join(root, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "t", "a.pkr.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	files := dirFiles{os.DirFS(root)}
	tmpl, diags := LoadFrom(hclparse.NewParser(), files, "t")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ev := tmpl.Evaluate("null.linux-a", Scope{Files: files, Root: root, Dir: "t", PathRoot: filepath.Join(root, "t"), WorkingDir: ".",
		Values: map[string]cty.Value{"pw": cty.StringVal("Summer2024!")}})
	for _, in := range ev.Inputs {
		t.Errorf("input %s recorded from a value derived from a secret", in.Path)
	}
	if len(ev.Widened) != 1 || !strings.Contains(ev.Widened[0].What, "sensitive") {
		t.Errorf("widened %v, want one widening saying the value is sensitive", whats(ev.Widened))
	}
}
