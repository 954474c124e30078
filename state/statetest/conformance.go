// Package statetest holds the conformance suite every state.Backend must
// pass. It is imported by tests only.
package statetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/hybridcore/hybrid/state"
)

// lockWait bounds the waits in the lock tests; they end as soon as the lock
// is released, so it only matters when a backend is broken.
const lockWait = 30 * time.Second

// TestBackend runs the conformance suite. newBackend returns a client of a
// new, empty store each time it is called; second returns another client of
// the store b is a client of, as another process would have one: its own
// lock, its own view of the store.
func TestBackend(t *testing.T, newBackend func(t *testing.T) state.Backend, second func(t *testing.T, b state.Backend) state.Backend) {
	t.Helper()
	ctx := context.Background()

	t.Run("read empty", func(t *testing.T) {
		b := newBackend(t)
		s := mustRead(t, b)
		if s.FormatVersion != state.FormatVersion || s.Serial != 0 {
			t.Errorf("new state has format %d serial %d, want format %d serial 0", s.FormatVersion, s.Serial, state.FormatVersion)
		}
		if _, err := uuid.Parse(s.Lineage); err != nil {
			t.Errorf("new state lineage %q is not a UUID", s.Lineage)
		}
		if got := s.Addresses(); len(got) != 0 {
			t.Errorf("new state has entries %v", got)
		}
	})

	t.Run("commit and read back", func(t *testing.T) {
		b := newBackend(t)
		s := mustRead(t, b)
		c := FillChange()
		c.Trees = map[string]map[string]string{"sha256:" + strings.Repeat("4", 64): {"templates/ubuntu.pkr.hcl": "sha256:" + strings.Repeat("6", 64)}}
		want := s.DeepCopy()
		want.Apply(c.DeepCopy())
		want.Serial = 1
		if got := mustCommit(t, b, s.Lineage, 0, c); got != 1 {
			t.Fatalf("first Commit returned serial %d, want 1", got)
		}
		wantState(t, "Read after Commit", want, mustRead(t, b))
		wantState(t, "Read by a second client", want, mustRead(t, second(t, b)))
	})

	t.Run("serial increments", func(t *testing.T) {
		b := newBackend(t)
		s := mustRead(t, b)
		for want := uint64(1); want <= 3; want++ {
			run := &state.Run{Command: "commit", Outcome: strconv.FormatUint(want, 10)}
			if got := mustCommit(t, b, s.Lineage, want-1, &state.Change{LastRun: run}); got != want {
				t.Fatalf("Commit %d returned serial %d", want, got)
			}
			got := mustRead(t, b)
			if got.Serial != want || got.LastRun == nil || got.LastRun.Outcome != run.Outcome {
				t.Fatalf("after commit %d Read gives serial %d, last run %+v", want, got.Serial, got.LastRun)
			}
		}
		// A change that changes nothing is a commit all the same.
		if got := mustCommit(t, b, s.Lineage, 3, &state.Change{}); got != 4 {
			t.Errorf("empty Commit returned serial %d, want 4", got)
		}
	})

	t.Run("stale serial refused", func(t *testing.T) {
		b := newBackend(t)
		lineage := mustRead(t, b).Lineage
		for serial := range uint64(17) {
			mustCommit(t, b, lineage, serial, buildChange("dev", fmt.Sprintf("img%d", serial), nil))
		}
		before := mustRead(t, b)
		for _, stale := range []uint64{0, 16, 18, 42} {
			_, err := b.Commit(ctx, lineage, stale, buildChange("dev", "late", nil))
			if err == nil {
				t.Errorf("Commit at serial %d over serial 17 succeeded, want it refused", stale)
				continue
			}
			for _, want := range []string{strconv.FormatUint(stale, 10), "17"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("stale Commit error %q does not name serial %s", err, want)
				}
			}
		}
		wantState(t, "after refused commits", before, mustRead(t, b))
	})

	t.Run("other lineage refused", func(t *testing.T) {
		b := newBackend(t)
		lineage := mustRead(t, b).Lineage
		mustCommit(t, b, lineage, 0, FillChange())
		if got := mustRead(t, b).Lineage; got != lineage {
			t.Fatalf("lineage after the first commit %q, want %q", got, lineage)
		}
		other := uuid.NewString()
		_, err := b.Commit(ctx, other, 1, buildChange("dev", "late", nil))
		if err == nil || !strings.Contains(err.Error(), lineage) || !strings.Contains(err.Error(), other) {
			t.Errorf("Commit of another lineage: got %v, want an error naming %s and %s", err, lineage, other)
		}
		got := mustRead(t, b)
		if got.Lineage != lineage || got.Serial != 1 || got.Builds[state.BuildAddr("dev", "late")] != nil {
			t.Errorf("after a refused commit: lineage %q serial %d, want %q and 1, without the change", got.Lineage, got.Serial, lineage)
		}
	})

	t.Run("invalid change refused", func(t *testing.T) {
		b := newBackend(t)
		lineage := mustRead(t, b).Lineage
		mustCommit(t, b, lineage, 0, FillChange())
		before := mustRead(t, b)
		for name, c := range map[string]*state.Change{
			"build key without env":  {Builds: map[string]*state.Build{"nonsense": {Status: state.StatusFailed}}},
			"render at a build key":  {Renders: map[string]*state.Render{"build.dev.x": {}}},
			"null record":            {Sources: map[string]*state.Source{"examples": nil}},
			"put and delete one key": {Builds: buildChange("dev", "x", nil).Builds, Delete: []string{"build.dev.x"}},
			"delete of no record":    {Delete: []string{"image.dev.x"}},
		} {
			if _, err := b.Commit(ctx, lineage, 1, c); err == nil {
				t.Errorf("%s: Commit succeeded, want it refused", name)
			}
		}
		wantState(t, "after refused changes", before, mustRead(t, b))
	})

	t.Run("write", func(t *testing.T) {
		b := newBackend(t)
		s := mustRead(t, b)
		Fill(s)
		mustWrite(t, b, s, false)
		if s.Serial != 1 {
			t.Fatalf("Write to an empty store set serial %d, want 1", s.Serial)
		}
		wantState(t, "Read after Write", s, mustRead(t, b))
		mustCommit(t, b, s.Lineage, 1, buildChange("dev", "after", nil))

		stale := s.DeepCopy() // at serial 1, the store at 2
		if err := b.Write(ctx, stale, false); err == nil {
			t.Errorf("Write of a state read at serial 1 over serial 2 succeeded, want it refused")
		}
		other := state.New()
		other.Serial = 2
		err := b.Write(ctx, other, false)
		if err == nil || !strings.Contains(err.Error(), "lineage") {
			t.Errorf("Write of another lineage: got %v, want an error about the lineage", err)
		}
		if got := mustRead(t, b); got.Serial != 2 || got.Lineage != s.Lineage || got.Builds[state.BuildAddr("dev", "after")] == nil {
			t.Fatalf("after refused writes: serial %d lineage %s, want serial 2, lineage %s and the committed build", got.Serial, got.Lineage, s.Lineage)
		}

		// A newer state replaces the stored one without force.
		newer := mustRead(t, b)
		newer.Serial = 10
		delete(newer.Builds, state.BuildAddr("dev", "windows"))
		mustWrite(t, b, newer, false)
		if newer.Serial != 11 {
			t.Errorf("Write of serial 10 over 2 set serial %d, want 11", newer.Serial)
		}
		wantState(t, "Read after a newer Write", newer, mustRead(t, b))

		// Force replaces an older state and another lineage, and the
		// serial still moves past the stored one.
		stale.Serial = 1
		mustWrite(t, b, stale, true)
		if stale.Serial != 12 {
			t.Errorf("forced Write of serial 1 over 11 set serial %d, want 12", stale.Serial)
		}
		wantState(t, "Read after a forced Write", stale, mustRead(t, b))
		other = state.New()
		Fill(other)
		mustWrite(t, b, other, true)
		if other.Serial != 13 {
			t.Errorf("forced Write of another lineage set serial %d, want 13", other.Serial)
		}
		wantState(t, "Read after a forced Write of another lineage", other, mustRead(t, b))
		if _, err := b.Commit(ctx, s.Lineage, 13, buildChange("dev", "old", nil)); err == nil {
			t.Errorf("Commit for the replaced lineage succeeded, want it refused")
		}
		mustCommit(t, b, other.Lineage, 13, buildChange("dev", "new", nil))
		if got := mustRead(t, second(t, b)); got.Serial != 14 || got.Lineage != other.Lineage || got.Builds[state.BuildAddr("dev", "new")] == nil {
			t.Errorf("a second client reads serial %d lineage %s, want 14, %s and the new build", got.Serial, got.Lineage, other.Lineage)
		}
	})

	t.Run("deletes and tree pruning", func(t *testing.T) {
		b := newBackend(t)
		s := mustRead(t, b)
		c := FillChange()
		c.Trees = map[string]map[string]string{
			treeDigest("a"): {"a.pkr.hcl": "sha256:a"},
			treeDigest("b"): {"b.pkr.hcl": "sha256:b"},
		}
		mustCommit(t, b, s.Lineage, 0, c)
		// Deletes by address and by tree key; deleting what is not
		// there is not an error.
		mustCommit(t, b, s.Lineage, 1, &state.Change{Delete: []string{
			state.BuildAddr("dev", "windows"), state.SourceAddr("examples"), state.RenderAddr("prod", "ubuntu"),
			state.TreeKey(treeDigest("a")), state.BuildAddr("dev", "gone"),
		}})
		got := mustRead(t, b)
		if diff := cmp.Diff([]string{state.BuildAddr("prod", "ubuntu")}, got.Addresses()); diff != "" {
			t.Errorf("addresses after deletes (-want +got):\n%s", diff)
		}
		if _, ok := got.Trees[treeDigest("a")]; ok || got.Trees[treeDigest("b")] == nil {
			t.Errorf("trees after deleting tree a: %v, want b only", got.Trees)
		}

		// Through a Manager, trees follow the builds that read them.
		b = newBackend(t)
		m, err := state.NewManager(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		t1, t2, t3, lone := treeDigest("t1"), treeDigest("t2"), treeDigest("t3"), treeDigest("lone")
		files := func(d string) map[string]string { return map[string]string{d + ".pkr.hcl": "sha256:" + d[len(d)-4:]} }
		mustManager(t, m.PutBuild(state.BuildAddr("dev", "one"), build("dev", "one", map[string]string{"template": t1}),
			map[string]map[string]string{t1: files(t1), lone: files(lone)}))
		mustManager(t, m.PutBuild(state.BuildAddr("dev", "two"), build("dev", "two", map[string]string{"template": t1, "inputs": t2}),
			map[string]map[string]string{t1: files(t1), t2: files(t2)}))
		wantTrees(t, "two builds", b, t1, t2)
		mustManager(t, m.Forget(state.BuildAddr("dev", "one")))
		wantTrees(t, "a shared tree outlives one of its builds", b, t1, t2)
		mustManager(t, m.PutBuild(state.BuildAddr("dev", "two"), build("dev", "two", map[string]string{"template": t3}),
			map[string]map[string]string{t3: files(t3)}))
		wantTrees(t, "a rebuild that reads another tree", b, t3)
		mustManager(t, m.PutRender(state.RenderAddr("dev", "two"), &state.Render{Env: "dev", Image: "two", Digest: "sha256:r"}))
		mustManager(t, m.PutSource("examples", &state.Source{URL: "u", Ref: "main", Commit: "c"}))
		mustManager(t, m.Forget(state.SourceAddr("examples")))
		mustManager(t, m.Forget(state.BuildAddr("dev", "two")))
		wantTrees(t, "no builds", b)
		got = mustRead(t, second(t, b))
		wantState(t, "a second client's Read of what the manager committed", m.State(), got)
		if diff := cmp.Diff([]string{state.RenderAddr("dev", "two")}, got.Addresses()); diff != "" {
			t.Errorf("addresses (-want +got):\n%s", diff)
		}
		if got.Serial != 8 {
			t.Errorf("serial %d after 8 manager commits, want 8", got.Serial)
		}
	})

	t.Run("concurrent commits through one manager", func(t *testing.T) {
		const goroutines, commits = 8, 12
		b := newBackend(t)
		m, err := state.NewManager(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*commits)
		for g := range goroutines {
			wg.Go(func() {
				for i := range commits {
					env, image := fmt.Sprintf("env%d", g), fmt.Sprintf("image%d", i)
					if i%3 == 0 {
						errs <- m.PutRender(state.RenderAddr(env, image), &state.Render{Env: env, Image: image, Digest: "sha256:" + image})
						continue
					}
					tree := treeDigest(env + image)
					errs <- m.PutBuild(state.BuildAddr(env, image), build(env, image, map[string]string{"template": tree}),
						map[string]map[string]string{tree: {"f": "sha256:f"}})
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("commit: %v", err)
			}
		}
		got := mustRead(t, second(t, b))
		if n := len(got.Renders) + len(got.Builds); n != goroutines*commits || got.Serial != goroutines*commits || len(got.Trees) != len(got.Builds) {
			t.Errorf("a second client reads %d records and %d trees at serial %d, want %d records, a tree per build, serial %d",
				n, len(got.Trees), got.Serial, goroutines*commits, goroutines*commits)
		}
		wantState(t, "the store, against the manager's state", m.State(), got)
	})

	t.Run("second client", func(t *testing.T) {
		a := newBackend(t)
		b := second(t, a)
		idA := mustLock(t, a, ctx, "a")
		_, err := b.Lock(ctx, state.LockInfo{Operation: "b"})
		if le := wantLockError(t, err); le.Info == nil || le.Info.ID != idA {
			t.Errorf("b's LockError.Info = %+v, want a's lock %s", le.Info, idA)
		}
		ma, err := state.NewManager(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		mustManager(t, ma.Commit(FillChange()))
		mustManager(t, ma.PutBuild(state.BuildAddr("dev", "a"), build("dev", "a", nil), nil))
		wantState(t, "b's Read of a's commits", ma.State(), mustRead(t, b))
		mustUnlock(t, a, idA)

		idB := mustLock(t, b, ctx, "b")
		mb, err := state.NewManager(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		mustManager(t, mb.PutBuild(state.BuildAddr("dev", "b"), build("dev", "b", nil), nil))
		// a's manager read serial 2; the store is at 3 now.
		err = ma.PutBuild(state.BuildAddr("dev", "late"), build("dev", "late", nil), nil)
		var we *state.WriteError
		if !errors.As(err, &we) {
			t.Errorf("a's commit over b's: got %v, want a *state.WriteError", err)
		}
		mustUnlock(t, b, idB)
		got := mustRead(t, a)
		wantState(t, "a's Read of b's commit", mb.State(), got)
		if got.Builds[state.BuildAddr("dev", "late")] != nil {
			t.Errorf("a's refused commit is in the state")
		}
	})

	t.Run("lock exclusive", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, ctx, "conformance")
		_, err := b.Lock(ctx, state.LockInfo{Operation: "second"})
		le := wantLockError(t, err)
		if le.Info == nil || le.Info.ID != id || le.Info.Operation != "conformance" {
			t.Errorf("LockError.Info = %+v, want the holder's info (ID %s, operation conformance)", le.Info, id)
		}
		for _, want := range []string{id, "force-unlock", "-lock-timeout"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("lock error %q does not mention %q", err, want)
			}
		}
		_, err = second(t, b).Lock(ctx, state.LockInfo{Operation: "other client"})
		if le := wantLockError(t, err); le.Info == nil || le.Info.ID != id {
			t.Errorf("a second client's LockError.Info = %+v, want the holder's lock %s", le.Info, id)
		}
		mustUnlock(t, b, id)
	})

	t.Run("unlock", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, ctx, "first")
		mustUnlock(t, b, id)
		id2 := mustLock(t, b, ctx, "again")
		if id2 == id {
			t.Errorf("a new lock reused ID %s", id)
		}
		mustUnlock(t, b, id2)
		if err := b.Unlock(id2); err == nil {
			t.Errorf("Unlock of a released lock succeeded, want an error")
		}
		other := second(t, b)
		id3 := mustLock(t, other, ctx, "other client")
		if err := b.Unlock(id3); err == nil {
			t.Errorf("Unlock of another client's lock succeeded, want an error")
		}
		mustUnlock(t, other, id3)
	})

	t.Run("wrong ID unlock", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, ctx, "held")
		if err := b.Unlock(uuid.NewString()); err == nil {
			t.Errorf("Unlock with a wrong ID succeeded, want an error")
		}
		_, err := b.Lock(ctx, state.LockInfo{Operation: "second"})
		wantLockError(t, err)
		mustUnlock(t, b, id)
	})

	t.Run("lock timeout waits then succeeds", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, ctx, "holder")
		released := make(chan error, 1)
		go func() {
			time.Sleep(200 * time.Millisecond)
			released <- b.Unlock(id)
		}()
		wctx, cancel := context.WithTimeout(ctx, lockWait)
		defer cancel()
		waiter := second(t, b)
		id2, err := waiter.Lock(wctx, state.LockInfo{Operation: "waiter"})
		if err != nil {
			t.Fatalf("Lock with a deadline while the holder releases: %v", err)
		}
		if err := <-released; err != nil {
			t.Fatalf("Unlock by the holder: %v", err)
		}
		if id2 == id {
			t.Errorf("the waiter got the holder's lock ID %s", id)
		}
		mustUnlock(t, waiter, id2)
	})

	t.Run("lock timeout expires", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, ctx, "holder")
		wctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		_, err := b.Lock(wctx, state.LockInfo{Operation: "waiter"})
		le := wantLockError(t, err)
		if le.Waited <= 0 {
			t.Errorf("LockError.Waited = %v after a deadline, want > 0", le.Waited)
		}
		mustUnlock(t, b, id)
	})

	t.Run("lock info", func(t *testing.T) {
		b := newBackend(t)
		other := second(t, b)
		for _, c := range []state.Backend{b, other} {
			if info, err := c.LockInfo(ctx); err != nil || info != nil {
				t.Errorf("LockInfo while unlocked = %+v, %v; want nil", info, err)
			}
		}
		id, err := b.Lock(ctx, state.LockInfo{Operation: "apply", Who: "alice@build1", Version: "0.1.0"})
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]state.Backend{"holder": b, "second client": other} {
			info, err := c.LockInfo(ctx)
			if err != nil || info == nil {
				t.Errorf("%s: LockInfo while locked = %+v, %v; want the holder's info", name, info, err)
				continue
			}
			if info.ID != id || info.Operation != "apply" || info.Who != "alice@build1" || info.Version != "0.1.0" || info.Created.IsZero() {
				t.Errorf("%s: LockInfo = %+v, want lock %s of alice@build1 (apply, 0.1.0) with its creation time", name, info, id)
			}
		}
		mustUnlock(t, b, id)
		if info, err := other.LockInfo(ctx); err != nil || info != nil {
			t.Errorf("LockInfo after Unlock = %+v, %v; want nil", info, err)
		}
	})

	t.Run("force unlock", func(t *testing.T) {
		b := newBackend(t)
		other := second(t, b)
		id := mustLock(t, b, ctx, "apply")
		if err := other.ForceUnlock(ctx, uuid.NewString()); err == nil {
			t.Errorf("ForceUnlock with a wrong ID succeeded, want an error")
		}
		if info, err := other.LockInfo(ctx); err != nil || info == nil || info.ID != id {
			t.Errorf("after a refused ForceUnlock, LockInfo = %+v, %v; want lock %s", info, err, id)
		}
		// The holder may force-unlock its own lock.
		if err := b.ForceUnlock(ctx, id); err != nil {
			t.Errorf("ForceUnlock of the client's own lock: %v", err)
		}
		if info, err := other.LockInfo(ctx); err != nil || info != nil {
			t.Errorf("LockInfo after ForceUnlock = %+v, %v; want nil", info, err)
		}
		id2 := mustLock(t, other, ctx, "plan")
		// Another client removes the lock whoever holds it (the local
		// backend cannot take the OS lock from a live process and says
		// so: that is why the error is not checked here).
		_ = b.ForceUnlock(ctx, id2)
		if info, err := b.LockInfo(ctx); err != nil || info != nil {
			t.Errorf("LockInfo after another client's ForceUnlock = %+v, %v; want nil", info, err)
		}
		_ = other.Unlock(id2)
		mustUnlock(t, b, mustLock(t, b, ctx, "after"))
	})
}

// Fill puts one entry of every kind, with every field set, into s.
func Fill(s *state.State) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	s.Packer = &state.Packer{Version: "1.9.4", Path: ".tools/bin/packer"}
	s.Plugins["github.com/hashicorp/vsphere"] = state.Plugin{Source: "github.com/hashicorp/vsphere", Version: "1.2.3"}
	s.Sources["examples"] = &state.Source{URL: "https://example.com/examples.git", Ref: "main", Commit: strings.Repeat("ab", 20), SyncedAt: at}
	s.Renders[state.RenderAddr("prod", "ubuntu")] = &state.Render{
		Env: "prod", Image: "ubuntu", Path: "configs/prod/ubuntu.pkrvars.hcl",
		Digest: "sha256:" + strings.Repeat("0", 64), Fingerprint: "sha256:" + strings.Repeat("1", 64),
		Inputs:     map[string]string{"var_file:common.pkrvars.hcl": "sha256:" + strings.Repeat("2", 64)},
		Values:     map[string]string{"vm_mem_size": "4096", "vm_name": `"ubuntu <22.04>"`},
		RenderedAt: at,
	}
	s.Builds[state.BuildAddr("prod", "ubuntu")] = &state.Build{
		Env: "prod", Image: "ubuntu", Fingerprint: "sha256:" + strings.Repeat("3", 64),
		Inputs: map[string]string{"template": "sha256:" + strings.Repeat("4", 64)},
		Status: state.StatusSucceeded,
		Artifacts: []state.Artifact{{
			BuilderID: "packer.file", ID: "ubuntu-2204", String: "Stored file: out/ubuntu.img",
			Files: []string{"out/ubuntu.img", "out/ubuntu.sha256"},
		}},
		ManifestDigest: "sha256:" + strings.Repeat("5", 64),
		PackerRunUUID:  uuid.NewString(),
		Started:        at,
		Finished:       at.Add(90 * time.Second),
		Duration:       90*time.Second + 250*time.Millisecond,
		LogPath:        "logs/build.prod.ubuntu.log",
		ExitCode:       0,
	}
	s.Builds[state.BuildAddr("dev", "windows")] = &state.Build{
		Env: "dev", Image: "windows", Status: state.StatusFailed, ExitCode: 1,
		Error: "packer build exited with status 1", Started: at, Finished: at.Add(time.Second),
		Duration: time.Second,
	}
	s.LastRun = &state.Run{Command: "apply", Who: "ci@runner", When: at, Outcome: "succeeded"}
}

// FillChange is a change that puts what Fill does: one record of every
// kind with every field set, and the header's packer, plugins and last run.
func FillChange() *state.Change {
	s := state.New()
	Fill(s)
	return &state.Change{
		Sources: s.Sources, Renders: s.Renders, Builds: s.Builds,
		LastRun: s.LastRun, Packer: s.Packer, Plugins: s.Plugins,
	}
}

// treeDigest is a digest in the form plan gives trees, made from name.
func treeDigest(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func build(env, image string, inputs map[string]string) *state.Build {
	return &state.Build{Env: env, Image: image, Status: state.StatusSucceeded, Inputs: inputs, Fingerprint: "sha256:" + image}
}

func buildChange(env, image string, inputs map[string]string) *state.Change {
	return &state.Change{Builds: map[string]*state.Build{state.BuildAddr(env, image): build(env, image, inputs)}}
}

// wantState compares two states, taking empty and missing maps as equal.
func wantState(t *testing.T, what string, want, got *state.State) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// wantTrees checks the trees b stores.
func wantTrees(t *testing.T, what string, b state.Backend, digests ...string) {
	t.Helper()
	var got []string
	for d := range mustRead(t, b).Trees {
		got = append(got, d)
	}
	if diff := cmp.Diff(digests, got, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: trees (-want +got):\n%s", what, diff)
	}
}

func mustRead(t *testing.T, b state.Backend) *state.State {
	t.Helper()
	s, err := b.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return s
}

func mustCommit(t *testing.T, b state.Backend, lineage string, serial uint64, c *state.Change) uint64 {
	t.Helper()
	got, err := b.Commit(context.Background(), lineage, serial, c)
	if err != nil {
		t.Fatalf("Commit at serial %d: %v", serial, err)
	}
	if got != serial+1 {
		t.Fatalf("Commit at serial %d returned serial %d, want %d", serial, got, serial+1)
	}
	return got
}

func mustManager(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Manager commit: %v", err)
	}
}

func mustWrite(t *testing.T, b state.Backend, s *state.State, force bool) {
	t.Helper()
	if err := b.Write(context.Background(), s, force); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func mustLock(t *testing.T, b state.Backend, ctx context.Context, op string) string {
	t.Helper()
	id, err := b.Lock(ctx, state.LockInfo{Operation: op, Version: "test"})
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if id == "" {
		t.Fatalf("Lock returned an empty ID")
	}
	return id
}

func mustUnlock(t *testing.T, b state.Backend, id string) {
	t.Helper()
	if err := b.Unlock(id); err != nil {
		t.Fatalf("Unlock(%s): %v", id, err)
	}
}

func wantLockError(t *testing.T, err error) *state.LockError {
	t.Helper()
	var le *state.LockError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while held: got %v (%T), want a *state.LockError", err, err)
	}
	return le
}
