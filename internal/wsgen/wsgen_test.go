package wsgen_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/wsgen"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/sources"
)

// medium is big enough to have every feature (Windows directories shared by
// four images, derived chains, both stacks, several platforms) and small
// enough to generate in a moment.
var medium = wsgen.Spec{Seed: 7, Images: 40, DerivedPercent: 20, Envs: 5, Sources: 6, Files: 1200, TotalBytes: 3 << 20}

func generate(t *testing.T, spec wsgen.Spec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ws")
	if err := wsgen.Generate(dir, spec); err != nil {
		t.Fatal(err)
	}
	return dir
}

// load checks that the workspace validates without a single diagnostic and
// that its lockfile satisfies it, as hybrid validate and plan require.
func load(t *testing.T, dir string) (*plan.Workspace, *lock.File) {
	t.Helper()
	ws, diags := plan.LoadWorkspace(dir, config.Inputs{})
	for _, d := range diags {
		t.Errorf("diagnostic: %s", d.Error())
	}
	if diags.HasErrors() {
		t.FailNow()
	}
	lf, diags := lock.ReadWith(ws.Parser, filepath.Join(dir, lock.DefaultFilename))
	diags = append(diags, lf.Check(ws.LockRequirements())...)
	for _, d := range diags {
		t.Errorf("lockfile diagnostic: %s", d.Error())
	}
	return ws, lf
}

func TestGenerateValidates(t *testing.T) {
	for name, spec := range map[string]wsgen.Spec{
		"small":  wsgen.Small(),
		"medium": medium,
		// The benchmark's shape with few files, to check every image and
		// environment of the full size.
		"default-shape": func() wsgen.Spec { s := wsgen.Default(); s.Files, s.TotalBytes = 1500, 4<<20; return s }(),
		"one-source":    {Seed: 3, Images: 5, Envs: 1, Sources: 1, Files: 40, TotalBytes: 100000},
		"many-envs":     {Seed: 4, Images: 6, DerivedPercent: 50, Envs: 8, Sources: 2, Files: 100, TotalBytes: 50000},
		"many-sources":  {Seed: 5, Images: 50, DerivedPercent: 10, Envs: 2, Sources: 25, Files: 600, TotalBytes: 1 << 20},
	} {
		t.Run(name, func(t *testing.T) {
			dir := generate(t, spec)
			ws, lf := load(t, dir)
			if got, want := len(ws.Builds), spec.Images*spec.Envs; got != want {
				t.Errorf("%d builds, want %d", got, want)
			}
			if got := len(ws.Config.Sources); got != spec.Sources {
				t.Errorf("%d sources, want %d", got, spec.Sources)
			}
			derived := 0
			for _, img := range ws.Config.Images {
				if len(img.DependsOn) > 0 {
					derived++
				}
			}
			if want := spec.Images * spec.DerivedPercent / 100; derived != want {
				t.Errorf("%d derived images, want %d", derived, want)
			}

			// A first plan builds everything; its trees are the input files.
			p, diags := plan.Make(context.Background(), ws, plan.Options{Lock: lf, PackerVersion: lf.Packer.Version})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if got, want := p.Summary.Build, spec.Images*spec.Envs; got != want {
				t.Errorf("plan builds %d, want %d (%s)", got, want, p.Summary)
			}
			files := map[string]bool{}
			for _, c := range p.Changes {
				for _, tree := range c.Trees {
					for f, d := range tree {
						if d == "missing" || d == "not-a-file" {
							t.Errorf("%s: input %s is %s", c.Address, f, d)
						}
						files[f] = true
					}
				}
			}
			if len(files) != spec.Files {
				t.Errorf("%d input files, want %d", len(files), spec.Files)
			}
			var size int64
			for f := range files {
				fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f)))
				if err != nil {
					t.Fatal(err)
				}
				size += fi.Size()
			}
			if size != spec.TotalBytes {
				t.Errorf("input files total %d bytes, want %d", size, spec.TotalBytes)
			}
		})
	}
}

// TestGenerateShape checks the features a realistic workspace needs.
func TestGenerateShape(t *testing.T) {
	dir := generate(t, medium)
	ws, _ := load(t, dir)
	users := map[string]int{}
	chains, puppet, none, inputs := 0, 0, 0, 0
	for _, img := range ws.Config.Images {
		users[img.Template]++
		for _, dep := range img.DependsOn {
			if len(ws.Config.Images[dep.Name].DependsOn) > 0 {
				chains++
			}
		}
		switch img.Provisioner {
		case "puppet":
			puppet++
		case "none":
			none++
		}
		inputs += len(img.Inputs)
	}
	shared := 0
	for dir, n := range users {
		if n > 1 && strings.HasPrefix(dir, "sources/") {
			shared++
		}
	}
	for what, n := range map[string]int{
		"template directories of a source shared by several images": shared,
		"derived images built on derived images":                    chains,
		"images provisioned with puppet":                            puppet,
		"images without provisioning":                               none,
		"input globs":                                               inputs,
	} {
		if n == 0 {
			t.Errorf("no %s", what)
		}
	}
	for _, env := range ws.Config.EnvironmentNames() {
		if env != "dev" && ws.Config.Environments[env].Parent == nil {
			t.Errorf("environment %s has no parent", env)
		}
	}
	for _, name := range ws.Config.SourceNames() {
		s := ws.Config.Sources[name]
		if _, err := os.Stat(filepath.Join(dir, s.Path, "README.md")); err != nil {
			t.Errorf("source %s is not laid out like a checkout: %v", name, err)
		}
	}
	examples, _ := filepath.Glob(filepath.Join(dir, "vars", "*.pkrvars.hcl.example"))
	if len(examples) < 4 {
		t.Errorf("%d shared *.pkrvars.hcl.example files, want at least 4", len(examples))
	}
}

// TestGenerateDeterministic generates twice with one seed and once with
// another: the same seed gives the same bytes, another seed other bytes.
func TestGenerateDeterministic(t *testing.T) {
	a := treeDigests(t, generate(t, medium))
	b := treeDigests(t, generate(t, medium))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two workspaces from one spec differ (-first +second):\n%s", diff)
	}
	other := medium
	other.Seed++
	c := treeDigests(t, generate(t, other))
	same := 0
	for p, d := range c {
		if a[p] == d {
			same++
		}
	}
	if same == len(c) {
		t.Error("another seed gave the same workspace")
	}
}

func treeDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == ".git" {
			// git's index holds stat data; the commits are compared
			// through the lockfile, which pins them.
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(data)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateErrors(t *testing.T) {
	cases := map[string]struct {
		spec wsgen.Spec
		want string
	}{
		"no images":        {wsgen.Spec{Envs: 1, Sources: 1, Files: 10}, "images is 0"},
		"no environments":  {wsgen.Spec{Images: 1, Sources: 1, Files: 10}, "envs is 0"},
		"no sources":       {wsgen.Spec{Images: 1, Envs: 1, Files: 10}, "sources is 0"},
		"negative bytes":   {wsgen.Spec{Images: 1, Envs: 1, Sources: 1, Files: 10, TotalBytes: -1}, "total bytes is -1"},
		"derived too many": {wsgen.Spec{Images: 1, DerivedPercent: 95, Envs: 1, Sources: 1, Files: 10}, "derived percent is 95"},
		"too few files":    {wsgen.Spec{Images: 20, Envs: 1, Sources: 2, Files: 10}, "files is 10, but"},
		"too many images":  {wsgen.Spec{Images: 1000, Envs: 1, Sources: 1, Files: 100000}, "do not fit in 1 sources"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := wsgen.Generate(filepath.Join(t.TempDir(), "ws"), tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestGenerateRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := wsgen.Generate(dir, wsgen.Small())
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("error %v, want a refusal", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries after a refusal, want 1", len(entries))
	}
}

// TestGenerateGit makes the sources real checkouts: the lockfile pins their
// commits, which are the same in every generation, and a plan inspecting
// them with git sees neither drift nor local changes.
func TestGenerateGit(t *testing.T) {
	git, err := sources.NewGit()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	spec := wsgen.Small()
	dir := generate(t, spec)
	ws, lf := load(t, dir)
	p, diags := plan.Make(context.Background(), ws, plan.Options{Lock: lf, PackerVersion: lf.Packer.Version, Git: git})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, c := range p.Changes {
		if c.Type != plan.TypeSource {
			continue
		}
		for _, r := range c.Reasons {
			if r.Kind != plan.ReasonNew && r.Kind != plan.ReasonNeededBy {
				t.Errorf("%s: %s", c.Address, r.Message)
			}
		}
		head, err := git.Head(context.Background(), filepath.Join(dir, "sources", c.Source))
		if err != nil {
			t.Fatal(err)
		}
		if head != lf.Sources[c.Source].Commit {
			t.Errorf("%s: checkout at %s, lockfile pins %s", c.Address, head, lf.Sources[c.Source].Commit)
		}
	}
	again := generate(t, spec)
	a, _ := os.ReadFile(filepath.Join(dir, lock.DefaultFilename))
	b, _ := os.ReadFile(filepath.Join(again, lock.DefaultFilename))
	if diff := cmp.Diff(string(a), string(b)); diff != "" {
		t.Errorf("the lockfiles of two generations differ (-first +second):\n%s", diff)
	}
}
