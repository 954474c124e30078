package plan_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// cachedWorkspace is readsWorkspace with what the caches must follow: a
// var file, a hybrid.hcl variable fed by HYBRID_VAR_site, and a template
// variable each of them sets.
func cachedWorkspace(t *testing.T) string {
	t.Helper()
	dir := readsWorkspace(t)
	write(t, dir, "templates/linux/motd.pkr.hcl", "variable \"motd_text\" {\n  type    = string\n  default = \"\"\n}\n")
	if err := os.MkdirAll(filepath.Join(dir, "vars"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "vars/common.pkrvars.hcl", "motd_text = \"hello\"\n")
	hcl, err := os.ReadFile(filepath.Join(dir, "hybrid.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(hcl), `values = { output_dir = "output/dev" }`, `values = { output_dir = "output/${var.site}" }`, 1)
	s = strings.Replace(s, `  build    = "file.linux-os"`, "  build    = \"file.linux-os\"\n  var_files = [\"vars/common.pkrvars.hcl\"]", 1)
	s += "\nvariable \"site\" {\n  type    = string\n  default = \"dev\"\n}\n"
	write(t, dir, "hybrid.hcl", s)
	return dir
}

// cachedPlan plans dir as hybrid plan does: the caches loaded and saved,
// the local state read through its summary. It returns the plan and
// whether the state was a summary.
func cachedPlan(t *testing.T, dir string, environ []string) (*plan.Plan, bool) {
	t.Helper()
	if environ == nil {
		environ = []string{}
	}
	ws, diags := plan.LoadWorkspaceWith(dir, config.Inputs{Environ: environ}, plan.LoadOptions{Caches: true})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	defer ws.Close()
	st, err := state.NewLocal(filepath.Join(dir, "state", "packer-hybrid.json")).ReadSummary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, diags := plan.Make(context.Background(), ws, plan.Options{
		State: st, Lock: ws.Lock, LockDigest: ws.LockDigest, PackerVersion: ws.Lock.Packer.Version, Hasher: ws.Hasher,
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if err := ws.SaveCaches(); err != nil {
		t.Fatal(err)
	}
	return p, st.Summarized()
}

// freshPlan plans dir without any cache, reading the whole state.
func freshPlan(t *testing.T, dir string, environ []string) *plan.Plan {
	t.Helper()
	if environ == nil {
		environ = []string{}
	}
	ws, diags := plan.LoadWorkspaceWith(dir, config.Inputs{Environ: environ}, plan.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	defer ws.Close()
	st, err := state.NewLocal(filepath.Join(dir, "state", "packer-hybrid.json")).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, diags := plan.Make(context.Background(), ws, plan.Options{
		State: st, Lock: ws.Lock, LockDigest: ws.LockDigest, PackerVersion: ws.Lock.Packer.Version, Hasher: ws.Hasher,
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

// outcome is every change of a plan, no-ops included: its action, its
// fingerprints, its inputs and its reasons.
func outcome(p *plan.Plan) map[string]string {
	out := map[string]string{}
	for _, c := range p.Changes {
		var lines []string
		for _, name := range sortedKeys(c.Inputs) {
			lines = append(lines, "  input "+name+" = "+c.Inputs[name])
		}
		for _, r := range c.Reasons {
			lines = append(lines, "  reason "+r.Message)
		}
		out[c.Address] = c.Action.String() + " " + c.Before + " -> " + c.After + "\n" + strings.Join(lines, "\n")
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestPlanCachesFollowEveryInput: with every cache warm (stat cache, plan
// cache, state summary), an edit of a template file, a var file,
// hybrid.hcl, an environment variable feeding a variable, the lockfile or
// the state changes the plan exactly as it does without caches; the plan
// made right after, from the caches that plan saved, is the same; and
// undoing the edit gives "no changes" again.
func TestPlanCachesFollowEveryInput(t *testing.T) {
	dir := cachedWorkspace(t)
	ctx := context.Background()
	backend := state.NewLocal(filepath.Join(dir, "state", "packer-hybrid.json"))
	st, err := backend.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ws, p := planOf(t, dir, st)
	applied(t, dir, st, ws, p)
	if err := backend.Write(ctx, st, false); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if p, _ := cachedPlan(t, dir, nil); p.HasChanges() {
			t.Fatalf("plan after apply: %v", changed(p))
		}
	}
	if _, summarized := cachedPlan(t, dir, nil); !summarized {
		t.Fatal("a plan of an unchanged state did not read its summary")
	}

	// edit replaces old with new in a workspace file and returns the undo.
	edit := func(rel, old, new string) func() {
		t.Helper()
		path := filepath.Join(dir, filepath.FromSlash(rel))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s has no %q", rel, old)
		}
		write(t, dir, rel, strings.Replace(string(b), old, new, 1))
		return func() { write(t, dir, rel, string(b)) }
	}
	for _, tc := range []struct {
		name    string
		change  func() (undo func())
		environ []string
		// want: address -> a reason it must give
		want map[string]string
	}{{
		name: "template file",
		change: func() func() {
			return edit("templates/linux/linux.pkr.hcl", `"${path.root}/scripts/common.sh", `, "")
		},
		want: map[string]string{"build.dev.linux-debian": "file templates/linux/linux.pkr.hcl changed", "build.prod.linux-ubuntu": "file templates/linux/scripts/common.sh removed"},
	}, {
		name:   "template variable file",
		change: func() func() { return edit("templates/linux/motd.pkr.hcl", `"motd_text"`, `"motd_body"`) },
		want: map[string]string{"build.dev.linux-ubuntu": "file templates/linux/motd.pkr.hcl changed",
			"render.dev.linux-ubuntu": `var motd_text removed (was "hello")`},
	}, {
		name:   "var file",
		change: func() func() { return edit("vars/common.pkrvars.hcl", `"hello"`, `"bye"`) },
		want:   map[string]string{"render.dev.linux-debian": `var motd_text "hello" -> "bye"`, "build.prod.linux-ubuntu": "rendered var file"},
	}, {
		name:   "hybrid.hcl",
		change: func() func() { return edit("hybrid.hcl", `"output/prod"`, `"output/production"`) },
		want:   map[string]string{"render.prod.linux-debian": `var output_dir "output/prod" -> "output/production"`},
	}, {
		name:    "environment variable",
		change:  func() func() { return func() {} },
		environ: []string{"HYBRID_VAR_site=elsewhere"},
		want:    map[string]string{"render.dev.linux-ubuntu": `var output_dir "output/dev" -> "output/elsewhere"`},
	}, {
		name:   "lockfile",
		change: func() func() { return edit(lock.DefaultFilename, `version     = "1.9.4"`, `version     = "1.9.5"`) },
		want:   map[string]string{"build.dev.linux-debian": "packer 1.9.4 -> 1.9.5"},
	}, {
		name: "state",
		change: func() func() {
			s, err := backend.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			before := s.DeepCopy().Builds["build.prod.linux-debian"]
			rec := s.DeepCopy().Builds["build.prod.linux-debian"]
			rec.Fingerprint = "sha256:0000"
			rec.Inputs["template"] = "sha256:1111"
			commit := func(b *state.Build) {
				s, err := backend.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := backend.Commit(ctx, s.Lineage, s.Serial, &state.Change{Builds: map[string]*state.Build{"build.prod.linux-debian": b}}); err != nil {
					t.Fatal(err)
				}
			}
			commit(rec)
			return func() { commit(before) }
		},
		want: map[string]string{"build.prod.linux-debian": "template files changed"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			undo := tc.change()
			first, _ := cachedPlan(t, dir, tc.environ)
			if diff := cmp.Diff(outcome(freshPlan(t, dir, tc.environ)), outcome(first)); diff != "" {
				t.Errorf("plan with warm caches differs from the plan without (-without +with):\n%s", diff)
			}
			got := changed(first)
			for addr, reason := range tc.want {
				if !strings.Contains(got[addr], reason) {
					t.Errorf("%s: %q, want a reason with %q (plan: %v)", addr, got[addr], reason, got)
				}
			}
			// The plan made from the caches the first one saved.
			again, summarized := cachedPlan(t, dir, tc.environ)
			if diff := cmp.Diff(outcome(first), outcome(again)); diff != "" {
				t.Errorf("second plan, from the caches (-first +second):\n%s", diff)
			}
			if !summarized {
				t.Error("the second plan did not read the state's summary")
			}
			undo()
			for range 2 {
				if p, _ := cachedPlan(t, dir, nil); p.HasChanges() {
					t.Fatalf("after undoing the edit: %v", changed(p))
				}
			}
		})
	}
}
