// Package statetest holds the conformance suite every state.Backend must
// pass. It is imported by tests only.
package statetest

import (
	"context"
	"errors"
	"strings"
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
// new, empty store each time it is called; the backend must also implement
// state.BackupReader.
func TestBackend(t *testing.T, newBackend func(t *testing.T) state.Backend) {
	t.Helper()
	t.Run("read missing", func(t *testing.T) {
		b := newBackend(t)
		s, err := b.Read()
		if err != nil {
			t.Fatalf("Read of an empty store: %v", err)
		}
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

	t.Run("roundtrip", func(t *testing.T) {
		b := newBackend(t)
		s := mustRead(t, b)
		Fill(s)
		mustWrite(t, b, s)
		got := mustRead(t, b)
		if diff := cmp.Diff(s, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Read after Write (-written +read):\n%s", diff)
		}
	})

	t.Run("serial increments", func(t *testing.T) {
		b := newBackend(t)
		s := mustRead(t, b)
		for want := uint64(1); want <= 3; want++ {
			mustWrite(t, b, s)
			if s.Serial != want {
				t.Fatalf("after write %d the state has serial %d", want, s.Serial)
			}
			if got := mustRead(t, b).Serial; got != want {
				t.Fatalf("after write %d Read gives serial %d", want, got)
			}
		}
		stale := s.DeepCopy()
		stale.Serial = 1
		if err := b.Write(stale); err == nil {
			t.Errorf("Write of a state read at serial 1 over serial 3 succeeded, want it refused")
		}
		if got := mustRead(t, b).Serial; got != 3 {
			t.Errorf("after a refused write Read gives serial %d, want 3", got)
		}
	})

	t.Run("lineage fixed", func(t *testing.T) {
		b := newBackend(t)
		s := mustRead(t, b)
		lineage := s.Lineage
		mustWrite(t, b, s)
		if got := mustRead(t, b).Lineage; got != lineage {
			t.Fatalf("lineage after first write %q, want %q", got, lineage)
		}
		other := state.New()
		other.Serial = s.Serial
		err := b.Write(other)
		if err == nil || !strings.Contains(err.Error(), "lineage") {
			t.Errorf("Write of another lineage: got %v, want an error about the lineage", err)
		}
		got := mustRead(t, b)
		if got.Lineage != lineage || got.Serial != 1 {
			t.Errorf("after a refused write: lineage %q serial %d, want %q and 1", got.Lineage, got.Serial, lineage)
		}
	})

	t.Run("backup kept", func(t *testing.T) {
		b := newBackend(t)
		br, ok := b.(state.BackupReader)
		if !ok {
			t.Fatalf("%T does not implement state.BackupReader", b)
		}
		s := mustRead(t, b)
		s.LastRun = &state.Run{Command: "first", Who: "a@b", Outcome: "ok"}
		mustWrite(t, b, s)
		first := s.DeepCopy()
		s.LastRun.Command = "second"
		mustWrite(t, b, s)
		got, err := br.ReadBackup()
		if err != nil {
			t.Fatalf("ReadBackup: %v", err)
		}
		if diff := cmp.Diff(first, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("backup is not the previous state (-want +got):\n%s", diff)
		}
	})

	t.Run("lock exclusive", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, context.Background(), "conformance")
		_, err := b.Lock(context.Background(), state.LockInfo{Operation: "second"})
		le := wantLockError(t, err)
		if le.Info == nil || le.Info.ID != id || le.Info.Operation != "conformance" {
			t.Errorf("LockError.Info = %+v, want the holder's info (ID %s, operation conformance)", le.Info, id)
		}
		for _, want := range []string{id, "force-unlock", "-lock-timeout"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("lock error %q does not mention %q", err, want)
			}
		}
		mustUnlock(t, b, id)
	})

	t.Run("unlock", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, context.Background(), "first")
		mustUnlock(t, b, id)
		id2 := mustLock(t, b, context.Background(), "again")
		if id2 == id {
			t.Errorf("a new lock reused ID %s", id)
		}
		mustUnlock(t, b, id2)
		if err := b.Unlock(id2); err == nil {
			t.Errorf("Unlock of a released lock succeeded, want an error")
		}
	})

	t.Run("wrong ID unlock", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, context.Background(), "held")
		if err := b.Unlock(uuid.NewString()); err == nil {
			t.Errorf("Unlock with a wrong ID succeeded, want an error")
		}
		_, err := b.Lock(context.Background(), state.LockInfo{Operation: "second"})
		wantLockError(t, err)
		mustUnlock(t, b, id)
	})

	t.Run("lock timeout waits then succeeds", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, context.Background(), "holder")
		released := make(chan error, 1)
		go func() {
			time.Sleep(200 * time.Millisecond)
			released <- b.Unlock(id)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), lockWait)
		defer cancel()
		id2, err := b.Lock(ctx, state.LockInfo{Operation: "waiter"})
		if err != nil {
			t.Fatalf("Lock with a deadline while the holder releases: %v", err)
		}
		if err := <-released; err != nil {
			t.Fatalf("Unlock by the holder: %v", err)
		}
		if id2 == id {
			t.Errorf("the waiter got the holder's lock ID %s", id)
		}
		mustUnlock(t, b, id2)
	})

	t.Run("lock timeout expires", func(t *testing.T) {
		b := newBackend(t)
		id := mustLock(t, b, context.Background(), "holder")
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		_, err := b.Lock(ctx, state.LockInfo{Operation: "waiter"})
		le := wantLockError(t, err)
		if le.Waited <= 0 {
			t.Errorf("LockError.Waited = %v after a deadline, want > 0", le.Waited)
		}
		mustUnlock(t, b, id)
	})
}

// TestSharedStore checks two clients, a and b, of one new, empty store: the
// lock excludes across clients and a write by one is what the other reads.
func TestSharedStore(t *testing.T, a, b state.Backend) {
	t.Helper()
	idA := mustLock(t, a, context.Background(), "a")
	_, err := b.Lock(context.Background(), state.LockInfo{Operation: "b"})
	if le := wantLockError(t, err); le.Info == nil || le.Info.ID != idA {
		t.Errorf("b's LockError.Info = %+v, want a's lock %s", le.Info, idA)
	}
	s := mustRead(t, a)
	Fill(s)
	mustWrite(t, a, s)
	got := mustRead(t, b)
	if diff := cmp.Diff(s, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("b reads something else than a wrote (-a +b):\n%s", diff)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		released <- a.Unlock(idA)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	idB, err := b.Lock(ctx, state.LockInfo{Operation: "b"})
	if err != nil {
		t.Fatalf("b waiting for a's lock: %v", err)
	}
	if err := <-released; err != nil {
		t.Fatalf("a's Unlock: %v", err)
	}
	if err := a.Unlock(idB); err == nil {
		t.Errorf("a released b's lock")
	}
	got.Builds[state.BuildAddr("dev", "extra")] = &state.Build{Env: "dev", Image: "extra", Status: state.StatusFailed}
	mustWrite(t, b, got)
	if err := a.Write(s); err == nil {
		t.Errorf("a's write of a state b has since replaced succeeded, want it refused")
	}
	mustUnlock(t, b, idB)
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

func mustRead(t *testing.T, b state.Backend) *state.State {
	t.Helper()
	s, err := b.Read()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return s
}

func mustWrite(t *testing.T, b state.Backend, s *state.State) {
	t.Helper()
	if err := b.Write(s); err != nil {
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
