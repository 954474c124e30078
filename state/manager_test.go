package state_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/state"
)

func TestManagerConcurrentCommitsKeepEveryEntry(t *testing.T) {
	const goroutines, updates = 6, 10
	ctx := context.Background()
	path := tempStatePath(t)
	m, err := state.NewManager(ctx, state.NewLocal(path))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*updates)
	for g := range goroutines {
		wg.Go(func() {
			for i := range updates {
				env, image := fmt.Sprintf("env%d", g), fmt.Sprintf("image%d", i)
				errs <- m.PutBuild(state.BuildAddr(env, image), &state.Build{Env: env, Image: image, Status: state.StatusSucceeded}, nil)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("PutBuild: %v", err)
		}
	}
	got, err := state.NewLocal(path).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Builds) != goroutines*updates || got.Serial != goroutines*updates {
		t.Errorf("state on disk has %d builds at serial %d, want %d at serial %d", len(got.Builds), got.Serial, goroutines*updates, goroutines*updates)
	}
	if diff := cmp.Diff(m.State(), got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the manager's state differs from the disk (-manager +disk):\n%s", diff)
	}
}

// failing is a backend whose commits fail while fail is set.
type failing struct {
	state.Backend
	fail bool
}

func (f *failing) Commit(ctx context.Context, lineage string, serial uint64, c *state.Change) (uint64, error) {
	if f.fail {
		return 0, errors.New("disk on fire")
	}
	return f.Backend.Commit(ctx, lineage, serial, c)
}

func TestManagerFailedCommitChangesNothing(t *testing.T) {
	ctx := context.Background()
	path := tempStatePath(t)
	b := &failing{Backend: state.NewLocal(path)}
	m, err := state.NewManager(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.PutSource("examples", &state.Source{URL: "u", Ref: "main", Commit: "c"}); err != nil {
		t.Fatal(err)
	}
	before := m.State()

	// A change that is not valid is refused before the backend sees it.
	if err := m.PutBuild("nonsense", &state.Build{}, nil); err == nil {
		t.Errorf("PutBuild with an invalid address succeeded")
	}
	if err := m.Commit(nil); err == nil {
		t.Errorf("Commit(nil) succeeded")
	}
	// A commit the backend refuses is a WriteError.
	b.fail = true
	err = m.Forget(state.SourceAddr("examples"))
	var we *state.WriteError
	if !errors.As(err, &we) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Forget with a failing backend: got %v, want a *WriteError with the backend's message", err)
	}
	if diff := cmp.Diff(before, m.State()); diff != "" {
		t.Errorf("failed commits changed the state (-before +after):\n%s", diff)
	}
	b.fail = false
	disk, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if disk.Serial != 1 {
		t.Errorf("serial on disk %d after one successful commit, want 1", disk.Serial)
	}
	// The manager goes on from where it was.
	if err := m.Forget(state.SourceAddr("examples")); err != nil {
		t.Errorf("Forget after the backend recovered: %v", err)
	}
}

func TestManagerCopiesWhatItCommits(t *testing.T) {
	m, err := state.NewManager(context.Background(), state.NewLocal(tempStatePath(t)))
	if err != nil {
		t.Fatal(err)
	}
	b := &state.Build{Env: "dev", Image: "a", Status: state.StatusSucceeded, Inputs: map[string]string{"template": "sha256:t"}}
	trees := map[string]map[string]string{"sha256:t": {"a.pkr.hcl": "sha256:f"}}
	if err := m.PutBuild(state.BuildAddr("dev", "a"), b, trees); err != nil {
		t.Fatal(err)
	}
	b.Inputs["template"] = "changed"
	trees["sha256:t"]["a.pkr.hcl"] = "changed"
	m.View(func(s *state.State) {
		if got := s.Builds[state.BuildAddr("dev", "a")].Inputs["template"]; got != "sha256:t" {
			t.Errorf("the caller's build changed the manager's state: %s", got)
		}
		if got := s.Trees["sha256:t"]["a.pkr.hcl"]; got != "sha256:f" {
			t.Errorf("the caller's tree changed the manager's state: %s", got)
		}
	})
}

// TestManagerPrunesOrphanTrees: trees a state was read with that no build
// refers to go with the next change to the builds.
func TestManagerPrunesOrphanTrees(t *testing.T) {
	ctx := context.Background()
	path := tempStatePath(t)
	l := state.NewLocal(path)
	s := state.New()
	s.Builds[state.BuildAddr("dev", "a")] = &state.Build{Env: "dev", Image: "a", Inputs: map[string]string{"template": "sha256:used"}}
	s.Trees = map[string]map[string]string{"sha256:used": {"a": "1"}, "sha256:orphan": {"b": "2"}}
	if err := l.Write(ctx, s, false); err != nil {
		t.Fatal(err)
	}
	m, err := state.NewManager(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.PutRender(state.RenderAddr("dev", "a"), &state.Render{}); err != nil {
		t.Fatal(err)
	}
	if got := len(m.State().Trees); got != 2 {
		t.Errorf("a render's commit pruned trees: %d left, want 2", got)
	}
	if err := m.PutBuild(state.BuildAddr("dev", "b"), &state.Build{Inputs: map[string]string{"template": "sha256:used"}}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := state.NewLocal(path).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]map[string]string{"sha256:used": {"a": "1"}}, got.Trees); diff != "" {
		t.Errorf("trees after a build's commit (-want +got):\n%s", diff)
	}
}
