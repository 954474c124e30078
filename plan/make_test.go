package plan_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// readsWorkspace copies testdata/reads (one template shared by two
// images, each reading its own script) into a temporary workspace with a
// lockfile pinning packer.
func readsWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := filepath.Walk("testdata/reads", func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/reads", p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	ws, diags := plan.LoadWorkspace(dir, config.Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	defer ws.Close()
	lf, diags := lock.Update(nil, ws.LockRequirements(), lock.Inputs{PackerVersion: "1.9.4"}, lock.Upgrade{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := lock.Write(filepath.Join(dir, lock.DefaultFilename), lf); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// planOf plans dir against st as hybrid plan does (with the caches), and
// saves the caches.
func planOf(t *testing.T, dir string, st *state.State) (*plan.Workspace, *plan.Plan) {
	t.Helper()
	ws, diags := plan.LoadWorkspaceWith(dir, config.Inputs{}, plan.LoadOptions{Caches: true})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	t.Cleanup(func() { ws.Close() })
	p, diags := plan.Make(context.Background(), ws, plan.Options{
		State: st, Lock: ws.Lock, LockDigest: ws.LockDigest, PackerVersion: ws.Lock.Packer.Version, Hasher: ws.Hasher,
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := ws.SaveCaches(); err != nil {
		t.Fatal(err)
	}
	return ws, p
}

// applied records every change of p in st as a successful apply would,
// writing the renders.
func applied(t *testing.T, dir string, st *state.State, ws *plan.Workspace, p *plan.Plan) {
	t.Helper()
	if st.Trees == nil {
		st.Trees = map[string]map[string]string{}
	}
	for _, b := range ws.Builds {
		if c := p.Change(b.RenderAddress()); c != nil && c.Action != plan.NoOp {
			path := filepath.Join(dir, filepath.FromSlash(b.Render.Path))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Render.Bytes, 0o644); err != nil {
				t.Fatal(err)
			}
			st.Renders[c.Address] = &state.Render{Env: b.Env, Image: b.Image.Name, Path: b.Render.Path,
				Digest: c.After, Fingerprint: c.After, Inputs: c.Inputs, Values: plan.RenderValues(b.Render)}
		}
		if c := p.Change(b.Address()); c != nil && c.Action != plan.NoOp {
			st.Builds[c.Address] = &state.Build{Env: b.Env, Image: b.Image.Name, Inputs: c.Inputs,
				Status: state.StatusSucceeded, Fingerprint: c.After}
			for d, files := range c.Trees {
				st.Trees[d] = files
			}
		}
	}
}

// digests matches the "(1a2b3c4d5e6f -> 6f5e4d3c2b1a)" of a file reason.
var digests = regexp.MustCompile(` \([0-9a-f]{12} -> [0-9a-f]{12}\)`)

// changed lists the addresses a plan does something to, with their
// reasons (without digests).
func changed(p *plan.Plan) map[string]string {
	out := map[string]string{}
	for _, c := range p.Changes {
		if c.Action == plan.NoOp {
			continue
		}
		var msgs []string
		for _, r := range c.Reasons {
			msgs = append(msgs, digests.ReplaceAllString(r.Message, ""))
		}
		sort.Strings(msgs)
		out[c.Address] = strings.Join(msgs, "; ")
	}
	return out
}

func write(t *testing.T, dir, rel, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPlanReadsWhatBuildsRead: a build's inputs are what its template
// reads for it, so an edit rebuilds exactly the builds that read the file,
// naming it and what reads it; a file no build reads rebuilds nothing.
// Each step plans twice, the second time from the plan cache, which must
// give the same plan.
func TestPlanReadsWhatBuildsRead(t *testing.T) {
	dir := readsWorkspace(t)
	st := state.New()
	ws, p := planOf(t, dir, st)
	if got := p.Summary; got.Build != 4 || got.Render != 4 {
		t.Fatalf("first plan: %s, want 4 builds and 4 renders", got)
	}
	applied(t, dir, st, ws, p)

	const tmpl = "templates/linux/linux.pkr.hcl"
	steps := []struct {
		name string
		edit func()
		want map[string]string
	}{
		{"nothing changed", func() {}, map[string]string{}},
		{"a file no build reads", func() { write(t, dir, "templates/linux/README.md", "# edited\n") }, map[string]string{}},
		{
			"one OS's script",
			func() { write(t, dir, "templates/linux/scripts/debian.sh", "echo debian 2\n") },
			map[string]string{
				"build.dev.linux-debian":  `file templates/linux/scripts/debian.sh changed (read by provisioner "shell-local" scripts at ` + tmpl + `:23)`,
				"build.prod.linux-debian": `file templates/linux/scripts/debian.sh changed (read by provisioner "shell-local" scripts at ` + tmpl + `:23)`,
			},
		},
		{
			"a file read through file() that names another script",
			func() {
				write(t, dir, "templates/linux/data/extra.json", `{"debian": [], "ubuntu": ["templates/linux/scripts/tools.sh"]}`)
			},
			map[string]string{
				"build.dev.linux-debian":  `file templates/linux/data/extra.json changed (read by file() in local.extra at ` + tmpl + `:11)`,
				"build.prod.linux-debian": `file templates/linux/data/extra.json changed (read by file() in local.extra at ` + tmpl + `:11)`,
				"build.dev.linux-ubuntu":  `file templates/linux/data/extra.json changed (read by file() in local.extra at ` + tmpl + `:11); file templates/linux/scripts/tools.sh added (read by provisioner "shell-local" scripts at ` + tmpl + `:23)`,
				"build.prod.linux-ubuntu": `file templates/linux/data/extra.json changed (read by file() in local.extra at ` + tmpl + `:11); file templates/linux/scripts/tools.sh added (read by provisioner "shell-local" scripts at ` + tmpl + `:23)`,
			},
		},
		{
			"the new script, now read by ubuntu only",
			func() { write(t, dir, "templates/linux/scripts/tools.sh", "echo tools 2\n") },
			map[string]string{
				"build.dev.linux-ubuntu":  `file templates/linux/scripts/tools.sh changed (read by provisioner "shell-local" scripts at ` + tmpl + `:23)`,
				"build.prod.linux-ubuntu": `file templates/linux/scripts/tools.sh changed (read by provisioner "shell-local" scripts at ` + tmpl + `:23)`,
			},
		},
	}
	for _, step := range steps {
		step.edit()
		for _, pass := range []string{"fresh", "cached"} {
			ws, p := planOf(t, dir, st)
			if diff := cmp.Diff(step.want, changed(p)); diff != "" {
				t.Errorf("%s (%s plan): wrong changes (-want +got):\n%s", step.name, pass, diff)
			}
			if pass == "cached" {
				applied(t, dir, st, ws, p)
			}
		}
	}
}

// TestPlanCacheIgnoresStaleEntries: a cache entry recorded for other file
// contents is not used.
func TestPlanCacheIgnoresStaleEntries(t *testing.T) {
	dir := readsWorkspace(t)
	st := state.New()
	ws, p := planOf(t, dir, st)
	applied(t, dir, st, ws, p)
	if _, err := os.Stat(filepath.Join(dir, "state", plan.PlanCacheFilename)); err != nil {
		t.Fatalf("the plan cache was not written: %v", err)
	}
	// The template itself changes: its snapshot and evaluations are made
	// again, and the build reads what the new template says.
	b, err := os.ReadFile(filepath.Join(dir, "templates/linux/linux.pkr.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `"${path.root}/scripts/common.sh", `, "", 1)
	write(t, dir, "templates/linux/linux.pkr.hcl", edited)
	ws, p = planOf(t, dir, st)
	for _, bd := range ws.Builds {
		for _, in := range bd.Eval.Inputs {
			if in.Path == "templates/linux/scripts/common.sh" {
				t.Errorf("%s still reads common.sh after the template stopped naming it", bd.Address())
			}
		}
	}
	if p.Summary.Rebuild != 4 {
		t.Errorf("after a template edit: %s, want 4 to rebuild", p.Summary)
	}
}

// TestForgetSourceFingerprint: a source that left hybrid.hcl is forgotten
// with the fingerprint its state record had, computed as for a source
// still configured, not its bare commit.
func TestForgetSourceFingerprint(t *testing.T) {
	dir := readsWorkspace(t)
	st := state.New()
	rec := &state.Source{URL: "https://example.invalid/templates.git", Ref: "main", Commit: strings.Repeat("1a2b3c4d", 5)}
	st.Sources["templates"] = rec
	_, p := planOf(t, dir, st)
	c := p.Change("source.templates")
	if c == nil {
		t.Fatal("no change for the forgotten source")
	}
	want := plan.Fingerprint(map[string]string{"url": rec.URL, "ref": rec.Ref, "commit": rec.Commit})
	if c.Action != plan.Delete || c.Before != want || c.After != "" {
		t.Errorf("got %s with fingerprints %q -> %q, want delete with %q -> \"\"", c.Action, c.Before, c.After, want)
	}
}
