package apply_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// recordingSink keeps every output line apply gives, by address.
type recordingSink struct {
	mu     sync.Mutex
	output map[string][]string
}

func (r *recordingSink) NodeStarted(string, plan.Action)    {}
func (r *recordingSink) StillRunning(string, time.Duration) {}
func (r *recordingSink) NodeFinished(apply.NodeResult)      {}
func (r *recordingSink) Output(addr, line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.output[addr] = append(r.output[addr], line)
}

// TestForgetRemovesRenders checks what apply does with the var files of
// renders it forgets: it removes those still as hybrid wrote them, and the
// environment directories that leaves empty; it leaves a file edited by
// hand, a link, and anything outside the configs directory, and says so.
func TestForgetRemovesRenders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files := map[string]string{
		"hybrid.hcl":      "environment \"dev\" {}\n",
		"hybrid.lock.hcl": "packer {\n  version = \"1.9.4\"\n}\n",
		// Written by hybrid, unchanged since.
		"configs/dev/gone.pkrvars.hcl":    "gone = true\n",
		"configs/stage/alone.pkrvars.hcl": "alone = true\n",
		// Edited by hand since hybrid wrote "edited = 1".
		"configs/dev/edited.pkrvars.hcl": "edited = 2\n",
		// Recorded outside the configs directory, as a damaged or hostile
		// state might say.
		"templates/outside.pkrvars.hcl": "outside = true\n",
		"secret.pkrvars.hcl":            "secret = true\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A link where hybrid wrote a file, to a file outside configs/.
	if err := os.Symlink("../../secret.pkrvars.hcl", filepath.Join(dir, "configs", "dev", "link.pkrvars.hcl")); err != nil {
		t.Fatal(err)
	}

	renders := map[string]struct{ path, wrote string }{
		"render.dev.gone":     {"configs/dev/gone.pkrvars.hcl", "gone = true\n"},
		"render.stage.alone":  {"configs/stage/alone.pkrvars.hcl", "alone = true\n"},
		"render.dev.edited":   {"configs/dev/edited.pkrvars.hcl", "edited = 1\n"},
		"render.dev.missing":  {"configs/dev/missing.pkrvars.hcl", "missing = true\n"},
		"render.dev.outside":  {"templates/outside.pkrvars.hcl", "outside = true\n"},
		"render.dev.dotdot":   {"configs/../secret.pkrvars.hcl", "secret = true\n"},
		"render.dev.absolute": {filepath.ToSlash(filepath.Join(dir, "secret.pkrvars.hcl")), "secret = true\n"},
		"render.dev.link":     {"configs/dev/link.pkrvars.hcl", "secret = true\n"},
	}
	st := state.New()
	for addr, r := range renders {
		parts := strings.Split(addr, ".")
		st.Renders[addr] = &state.Render{Env: parts[1], Image: parts[2], Path: r.path, Digest: plan.Digest([]byte(r.wrote)),
			Fingerprint: plan.Digest([]byte(r.wrote)), Inputs: map[string]string{}, Values: map[string]string{}}
	}
	if err := state.NewLocal(filepath.Join(dir, "state", "packer-hybrid.json")).Write(ctx, st, false); err != nil {
		t.Fatal(err)
	}

	pd := makePlan(ctx, t, dir)
	defer pd.unlock(t)
	var deletes []string
	for _, c := range pd.plan.Changes {
		if c.Action == plan.Delete {
			deletes = append(deletes, c.Address)
		}
	}
	var want []string
	for addr := range renders {
		want = append(want, addr)
	}
	sort.Strings(want)
	if diff := cmp.Diff(want, deletes); diff != "" {
		t.Fatalf("the plan does not forget every render (-want +got):\n%s", diff)
	}

	sink := &recordingSink{output: map[string][]string{}}
	res, err := apply.Run(ctx, apply.Options{
		Workspace: pd.ws, Plan: pd.plan, State: state.NewManagerFor(pd.backend, pd.state),
		Lock: pd.lock, Parallelism: 4, Sink: sink,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, nr := range res.Nodes {
		if nr.Outcome != apply.Succeeded {
			t.Errorf("%s: %s (%v), want succeeded", nr.Address, nr.Outcome, nr.Err)
		}
	}

	wantOutput := map[string][]string{
		"render.dev.gone":     {"removed configs/dev/gone.pkrvars.hcl"},
		"render.stage.alone":  {"removed configs/stage/alone.pkrvars.hcl", "removed the empty directory configs/stage/"},
		"render.dev.edited":   {"left configs/dev/edited.pkrvars.hcl in place: it was edited since hybrid wrote it (" + short(plan.Digest([]byte("edited = 2\n"))) + ", recorded " + short(plan.Digest([]byte("edited = 1\n"))) + "); delete it by hand if nothing needs it"},
		"render.dev.outside":  {"left templates/outside.pkrvars.hcl in place: it is not inside the configs directory configs/, the only place hybrid removes renders from"},
		"render.dev.dotdot":   {"left configs/../secret.pkrvars.hcl in place: it is not inside the configs directory configs/, the only place hybrid removes renders from"},
		"render.dev.absolute": {"left " + renders["render.dev.absolute"].path + " in place: it is not inside the configs directory configs/, the only place hybrid removes renders from"},
		"render.dev.link":     {"left configs/dev/link.pkrvars.hcl in place: it is not a file hybrid wrote (a symlink)"},
	}
	if diff := cmp.Diff(wantOutput, sink.output); diff != "" {
		t.Errorf("wrong node output (-want +got):\n%s", diff)
	}

	exists := func(name string) bool {
		_, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(name)))
		return err == nil
	}
	for name, want := range map[string]bool{
		"configs/dev/gone.pkrvars.hcl":    false,
		"configs/stage/alone.pkrvars.hcl": false,
		"configs/stage":                   false,
		"configs/dev/edited.pkrvars.hcl":  true,
		"configs/dev/link.pkrvars.hcl":    true,
		"configs/dev":                     true,
		"configs":                         true,
		"templates/outside.pkrvars.hcl":   true,
		"secret.pkrvars.hcl":              true,
	} {
		if got := exists(name); got != want {
			t.Errorf("%s exists: %v, want %v", name, got, want)
		}
	}

	// Every render is forgotten, whatever happened to its file.
	after, err := state.NewLocal(pd.backend.Path()).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Renders) != 0 {
		t.Errorf("the state still records %d renders", len(after.Renders))
	}
}

func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
