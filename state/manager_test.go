package state_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/state"
)

func TestManagerConcurrentUpdatesKeepEveryEntry(t *testing.T) {
	const goroutines, updates = 6, 10
	path := tempStatePath(t)
	m, err := state.NewManager(state.NewLocal(path))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*updates)
	for g := range goroutines {
		wg.Go(func() {
			for i := range updates {
				env, image := fmt.Sprintf("env%d", g), fmt.Sprintf("image%d", i)
				errs <- m.Update(func(s *state.State) error {
					s.Builds[state.BuildAddr(env, image)] = &state.Build{Env: env, Image: image, Status: state.StatusSucceeded}
					return nil
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	got, err := state.NewLocal(path).Read()
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

func TestManagerFailedUpdateChangesNothing(t *testing.T) {
	path := tempStatePath(t)
	b := state.NewLocal(path)
	m, err := state.NewManager(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Update(func(s *state.State) error {
		s.Sources["examples"] = &state.Source{URL: "u", Ref: "main", Commit: "c"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := m.State()

	boom := errors.New("boom")
	if err := m.Update(func(s *state.State) error {
		delete(s.Sources, "examples")
		return boom
	}); !errors.Is(err, boom) {
		t.Errorf("Update returned %v, want the callback's error", err)
	}
	// A change that cannot be encoded is refused by the write.
	if err := m.Update(func(s *state.State) error {
		s.Builds["nonsense"] = &state.Build{}
		return nil
	}); err == nil {
		t.Errorf("Update with an invalid entry succeeded")
	}
	if diff := cmp.Diff(before, m.State()); diff != "" {
		t.Errorf("failed updates changed the state (-before +after):\n%s", diff)
	}
	disk, err := b.Read()
	if err != nil {
		t.Fatal(err)
	}
	if disk.Serial != 1 {
		t.Errorf("serial on disk %d after one successful update, want 1", disk.Serial)
	}
	if err := m.Update(nil); err == nil {
		t.Errorf("Update(nil) succeeded")
	}
}
