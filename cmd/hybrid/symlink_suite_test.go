package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The symlink and path suite: links and paths placed wherever hybrid reads
// or writes (hybrid.hcl paths, template files, var files, provisioner
// assets, file functions, workspace directories, links committed inside a
// source) must never make hybrid read, print or write anything outside the
// workspace. Every case runs validate, plan (text and JSON), images -inputs
// and apply on a fresh copy of a small workspace, then checks the output
// for the content of the files outside and the outside directory for any
// change. The counts are logged so they can be quoted.

// suiteSecret is the content of every file outside the workspace.
const suiteSecret = "HYBRID-SUITE-SECRET-7f3a"

// suiteLeaks are strings that must never appear in hybrid's output: the
// outside secret, /etc/passwd's first line, and the environment that
// /proc/self/environ would print.
var suiteLeaks = []string{suiteSecret, "root:x:0:0", "HYBRID_SUITE_ENV_MARKER"}

var suiteFiles = map[string]string{
	"hybrid.hcl": `hybrid {
  packer_version = ">= 1.9.0"
}

environment "dev" {
  values = { output_dir = "output/dev" }
}

var_group "base" {
  var_files = ["vars/base.pkrvars.hcl"]
}

provisioner "ansible" {
  dir   = "assets/ansible"
  entry = "site.yml"
}

image "linux-one" {
  template    = "templates/linux"
  build       = "file.linux-one"
  var_groups  = [var_group.base]
  inputs      = ["extra/**"]
  provisioner = "ansible"
}
`,
	"templates/linux/linux.pkr.hcl": `variable "output_dir" {
  type = string
}

variable "greeting" {
  type = string
}

variable "enable_ansible" {
  type    = bool
  default = false
}

locals {
  motd  = file("data/motd.txt")
  intro = templatefile("data/intro.tpl", { who = var.greeting })
}

source "file" "linux-one" {
  target  = "${var.output_dir}/linux-one.txt"
  content = "${local.motd}${local.intro}"
}

build {
  sources = ["source.file.linux-one"]

  provisioner "shell-local" {
    scripts = [for f in sort(fileset(path.root, "scripts/*.sh")) : "${path.root}/${f}"]
  }
}
`,
	"templates/linux/scripts/a.sh":   "#!/bin/sh\necho a\n",
	"templates/linux/data/motd.txt":  "welcome\n",
	"templates/linux/data/intro.tpl": "hello ${who}\n",
	"vars/base.pkrvars.hcl":          "greeting = \"hi\"\n",
	"assets/ansible/site.yml":        "- hosts: all\n",
	"extra/x.txt":                    "extra\n",
}

// suiteCase is one placement of a link or path.
type suiteCase struct {
	name string
	// setup changes the workspace ws; outside is the directory outside it.
	setup func(t *testing.T, ws, outside string)
	// apply also runs hybrid apply (cases about writes).
	apply bool
}

func TestSymlinkSuite(t *testing.T) {
	packerBin := requirePacker(t)
	gitBin := requireGit(t)
	t.Setenv("HYBRID_PACKER", packerBin)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("NO_COLOR", "1")
	t.Setenv("HYBRID_SUITE_ENV_MARKER", "1")
	base := t.TempDir()
	t.Setenv("HOME", base)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	tmpl := filepath.Join(base, "template")
	writeTree(t, tmpl, suiteFiles)
	if code, out := runHybrid(t, tmpl, "lock"); code != 0 {
		t.Fatalf("hybrid lock of the base workspace: %d\n%s", code, out)
	}

	link := func(target, name string) func(*testing.T, string, string) {
		return func(t *testing.T, ws, outside string) {
			t.Helper()
			target := strings.ReplaceAll(target, "OUTSIDE", outside)
			p := filepath.Join(ws, filepath.FromSlash(name))
			os.RemoveAll(p)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	edit := func(file, old, new string) func(*testing.T, string, string) {
		return func(t *testing.T, ws, outside string) {
			t.Helper()
			p := filepath.Join(ws, filepath.FromSlash(file))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			new := strings.ReplaceAll(new, "OUTSIDE", outside)
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s has no %q", file, old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	both := func(fs ...func(*testing.T, string, string)) func(*testing.T, string, string) {
		return func(t *testing.T, ws, outside string) {
			for _, f := range fs {
				f(t, ws, outside)
			}
		}
	}
	// committed makes a git source whose tree holds the linux template
	// plus the given files and links, and points the image at it.
	committed := func(extra map[string]string) func(*testing.T, string, string) {
		return func(t *testing.T, ws, outside string) {
			t.Helper()
			repo := filepath.Join(filepath.Dir(ws), "repo")
			files := map[string]string{}
			for k, v := range suiteFiles {
				if strings.HasPrefix(k, "templates/linux/") {
					files["linux/"+strings.TrimPrefix(k, "templates/linux/")] = v
				}
			}
			writeTree(t, repo, files)
			for name, target := range extra {
				p := filepath.Join(repo, filepath.FromSlash(name))
				os.RemoveAll(p)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.Symlink(strings.ReplaceAll(target, "OUTSIDE", outside), p); err != nil {
					t.Fatal(err)
				}
			}
			for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one"}} {
				cmd := exec.Command(gitBin, args...)
				cmd.Dir = repo
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			edit("hybrid.hcl", `template    = "templates/linux"`, `template    = "${source.repo.path}/linux"`)(t, ws, outside)
			f, err := os.OpenFile(filepath.Join(ws, "hybrid.hcl"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(f, "\nsource \"repo\" {\n  url = %q\n}\n", repo)
			f.Close()
			runHybrid(t, ws, "lock")
			runHybrid(t, ws, "init")
		}
	}

	cases := []suiteCase{
		// Template files and directories.
		{name: "template file links to a file outside", setup: link("OUTSIDE/secret", "templates/linux/zz.pkr.hcl")},
		{name: "template file links to /proc/self/environ", setup: link("/proc/self/environ", "templates/linux/zz.pkr.hcl")},
		{name: "template file links to /etc/passwd", setup: link("/etc/passwd", "templates/linux/zz.pkr.hcl")},
		{name: "template file links to a template outside", setup: link("OUTSIDE/dir/outside.pkr.hcl", "templates/linux/zz.pkr.hcl")},
		{name: "template directory links outside", setup: both(func(t *testing.T, ws, _ string) { os.RemoveAll(filepath.Join(ws, "templates/linux")) }, link("OUTSIDE/dir", "templates/linux"))},
		{name: "templates directory links outside", setup: both(func(t *testing.T, ws, _ string) { os.RemoveAll(filepath.Join(ws, "templates")) }, link("OUTSIDE/dir", "templates"))},
		{name: "template path climbs out", setup: edit("hybrid.hcl", `"templates/linux"`, `"../../outside/dir"`)},
		{name: "template path is absolute", setup: edit("hybrid.hcl", `"templates/linux"`, `"OUTSIDE/dir"`)},
		{name: "auto var file links outside", setup: link("OUTSIDE/secret", "templates/linux/zz.auto.pkrvars.hcl")},
		{name: "auto var file links to /etc/passwd", setup: link("/etc/passwd", "templates/linux/zz.auto.pkrvars.hcl")},
		// Var files.
		{name: "var file links outside", setup: link("OUTSIDE/secret", "vars/base.pkrvars.hcl")},
		{name: "var file links to /proc/self/environ", setup: link("/proc/self/environ", "vars/base.pkrvars.hcl")},
		{name: "var file path climbs out", setup: edit("hybrid.hcl", `"vars/base.pkrvars.hcl"`, `"../outside/secret"`)},
		{name: "vars directory links outside", setup: both(func(t *testing.T, ws, _ string) { os.RemoveAll(filepath.Join(ws, "vars")) }, link("OUTSIDE/vars", "vars"))},
		// Provisioner assets and input globs.
		{name: "provisioner directory links outside", setup: both(func(t *testing.T, ws, _ string) { os.RemoveAll(filepath.Join(ws, "assets/ansible")) }, link("OUTSIDE/dir", "assets/ansible"))},
		{name: "provisioner entry links outside", setup: link("OUTSIDE/secret", "assets/ansible/site.yml")},
		{name: "provisioner asset links outside", setup: link("OUTSIDE/secret", "assets/ansible/roles.yml")},
		{name: "input glob file links outside", setup: link("OUTSIDE/secret", "extra/leak.txt")},
		{name: "input glob directory links outside", setup: link("OUTSIDE/dir", "extra/sub")},
		// What the template reads.
		{name: "script links outside", setup: link("OUTSIDE/secret", "templates/linux/scripts/b.sh")},
		{name: "scripts directory links outside", setup: both(func(t *testing.T, ws, _ string) { os.RemoveAll(filepath.Join(ws, "templates/linux/scripts")) }, link("OUTSIDE/dir", "templates/linux/scripts"))},
		{name: "file() target links outside", setup: link("OUTSIDE/secret", "templates/linux/data/motd.txt")},
		{name: "templatefile() target links outside", setup: link("OUTSIDE/secret", "templates/linux/data/intro.tpl")},
		{name: "file() of /etc/passwd", setup: edit("templates/linux/linux.pkr.hcl", `file("data/motd.txt")`, `file("/etc/passwd")`)},
		{name: "file() climbing out", setup: edit("templates/linux/linux.pkr.hcl", `file("data/motd.txt")`, `file("../../../outside/secret")`)},
		{name: "file() of /proc/self/environ", setup: edit("templates/linux/linux.pkr.hcl", `file("data/motd.txt")`, `file("/proc/self/environ")`)},
		{name: "fileset() over a directory outside", setup: edit("templates/linux/linux.pkr.hcl", `fileset(path.root, "scripts/*.sh")`, `fileset("OUTSIDE/dir", "*")`)},
		{name: "data directory links outside", setup: both(func(t *testing.T, ws, _ string) { os.RemoveAll(filepath.Join(ws, "templates/linux/data")) }, link("OUTSIDE/dir", "templates/linux/data"))},
		// Files hybrid reads and writes itself.
		{name: "lockfile links outside", setup: link("OUTSIDE/secret", "hybrid.lock.hcl")},
		{name: "lockfile links to /proc/self/environ", setup: link("/proc/self/environ", "hybrid.lock.hcl")},
		{name: "state file links outside", setup: both(func(t *testing.T, ws, _ string) { os.MkdirAll(filepath.Join(ws, "state"), 0o755) }, link("OUTSIDE/secret", "state/packer-hybrid.json")), apply: true},
		{name: "stat cache links outside", setup: both(func(t *testing.T, ws, _ string) { os.MkdirAll(filepath.Join(ws, "state"), 0o755) }, link("OUTSIDE/secret", "state/packer-hybrid.statcache")), apply: true},
		{name: "plan cache links to /dev/zero", setup: both(func(t *testing.T, ws, _ string) { os.MkdirAll(filepath.Join(ws, "state"), 0o755) }, link("/dev/zero", "state/packer-hybrid.plancache")), apply: true},
		{name: "plan memo links outside", setup: both(func(t *testing.T, ws, _ string) { os.MkdirAll(filepath.Join(ws, "state"), 0o755) }, link("OUTSIDE/secret", "state/packer-hybrid.planmemo")), apply: true},
		{name: "digest key links outside", setup: both(func(t *testing.T, ws, _ string) { os.MkdirAll(filepath.Join(ws, "state"), 0o755) }, link("OUTSIDE/secret", "state/packer-hybrid.key")), apply: true},
		{name: "hybrid.log links outside", setup: both(func(t *testing.T, ws, _ string) { os.MkdirAll(filepath.Join(ws, "logs"), 0o755) }, link("OUTSIDE/secret", "logs/hybrid.log")), apply: true},
		// Directories hybrid writes.
		{name: "configs links outside", setup: link("OUTSIDE/empty", "configs"), apply: true},
		{name: "configs/dev links outside", setup: link("OUTSIDE/empty", "configs/dev"), apply: true},
		{name: "state links outside", setup: link("OUTSIDE/empty", "state"), apply: true},
		{name: "logs links outside", setup: link("OUTSIDE/empty", "logs"), apply: true},
		{name: "logs/dev links outside", setup: link("OUTSIDE/empty", "logs/dev"), apply: true},
		{name: "sources links outside", setup: link("OUTSIDE/empty", "sources"), apply: true},
		{name: "rendered var file links outside", setup: link("OUTSIDE/secret", "configs/dev/linux-one.pkrvars.hcl"), apply: true},
		// Links committed inside a source.
		{name: "committed template file links outside the workspace", setup: committed(map[string]string{"linux/zz.pkr.hcl": "OUTSIDE/secret"})},
		{name: "committed template file links to /etc/passwd", setup: committed(map[string]string{"linux/zz.pkr.hcl": "/etc/passwd"})},
		{name: "committed template file climbs out of the source", setup: committed(map[string]string{"linux/zz.pkr.hcl": "../../../hybrid.hcl"})},
		{name: "committed script links outside", setup: committed(map[string]string{"linux/scripts/b.sh": "OUTSIDE/secret"})},
		{name: "committed data file links outside", setup: committed(map[string]string{"linux/data/motd.txt": "../../../../outside/secret"})},
		{name: "committed scripts directory links outside", setup: committed(map[string]string{"linux/scripts": "OUTSIDE/dir"})},
		{name: "committed auto var file links to /proc/self/environ", setup: committed(map[string]string{"linux/zz.auto.pkrvars.hcl": "/proc/self/environ"})},
	}

	escapes, printed := 0, 0
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, fmt.Sprintf("case-%02d", i))
			ws := filepath.Join(dir, "ws")
			outside := filepath.Join(dir, "outside")
			writeTree(t, outside, map[string]string{
				"secret":                suiteSecret + "\n",
				"dir/outside.pkr.hcl":   "// " + suiteSecret + "\nsource \"file\" \"linux-one\" {\n  content = \"" + suiteSecret + "\"\n  target = \"x\"\n}\nbuild {\n  sources = [\"source.file.linux-one\"]\n}\n",
				"dir/evil.sh":           "echo " + suiteSecret + "\n",
				"vars/base.pkrvars.hcl": "greeting = \"" + suiteSecret + "\"\n",
				"empty/.keep":           "",
			})
			copyTree(t, tmpl, ws)
			tc.setup(t, ws, outside)
			before := treeSnapshot(t, outside)
			var out bytes.Buffer
			cmds := [][]string{{"validate"}, {"plan", "-no-color"}, {"plan", "-json"}, {"images", "-inputs"}}
			if tc.apply {
				cmds = append(cmds, []string{"apply", "-auto-approve", "-no-color"}, []string{"plan", "-no-color"})
			}
			for _, args := range cmds {
				code, o := runHybrid(t, ws, args...)
				fmt.Fprintf(&out, "$ hybrid %s (exit %d)\n%s\n", strings.Join(args, " "), code, o)
			}
			for _, leak := range suiteLeaks {
				if strings.Contains(out.String(), leak) {
					printed++
					t.Errorf("output shows %q from outside the workspace:\n%s", leak, out.String())
				}
			}
			if after := treeSnapshot(t, outside); after != before {
				escapes++
				t.Errorf("the directory outside the workspace changed:\nbefore %s\nafter  %s\n%s", before, after, out.String())
			}
			if testing.Verbose() {
				t.Log(out.String())
			}
		})
	}
	t.Logf("symlink and path suite: %d cases, %d escapes, %d contents of refused paths printed", len(cases), escapes, printed)
}

// runHybrid runs hybrid in dir and returns its exit code and combined
// output.
func runHybrid(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	s := streams{In: strings.NewReader(""), Out: &out, Err: &out}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	code := realMain(append([]string{"-chdir=" + dir}, args...), s)
	return code, out.String()
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, _ := d.Info()
		return os.WriteFile(target, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// treeSnapshot digests every entry under dir: names, kinds and contents.
func treeSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			lines = append(lines, "error "+err.Error())
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			lines = append(lines, "d "+rel)
			return nil
		}
		b, _ := os.ReadFile(p)
		sum := sha256.Sum256(b)
		lines = append(lines, "f "+rel+" "+hex.EncodeToString(sum[:8]))
		return nil
	})
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf("%d entries %s", len(lines), hex.EncodeToString(sum[:8]))
}
