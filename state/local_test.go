package state_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/statetest"
)

// tempStatePath is a state path in a fresh directory that does not exist yet,
// so the backend has to create it.
func tempStatePath(t *testing.T) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "state", "packer-hybrid.json")
}

func TestLocalConformance(t *testing.T) {
	statetest.TestBackend(t,
		func(t *testing.T) state.Backend { return state.NewLocal(tempStatePath(t)) },
		func(t *testing.T, b state.Backend) state.Backend { return state.NewLocal(b.(*state.Local).Path()) })
}

// TestLocalConformanceCompacting runs the suite with a journal compacted
// every few commits.
func TestLocalConformanceCompacting(t *testing.T) {
	local := func(path string) state.Backend {
		l := state.NewLocal(path)
		state.SetJournalLimit(l, 2048)
		return l
	}
	statetest.TestBackend(t,
		func(t *testing.T) state.Backend { return local(tempStatePath(t)) },
		func(t *testing.T, b state.Backend) state.Backend { return local(b.(*state.Local).Path()) })
}

func TestLocalBackupKept(t *testing.T) {
	ctx := context.Background()
	path := tempStatePath(t)
	b := state.NewLocal(path)
	s, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.LastRun = &state.Run{Command: "first", Who: "a@b", Outcome: "ok"}
	if err := b.Write(ctx, s, false); err != nil {
		t.Fatal(err)
	}
	first := s.DeepCopy()
	s.LastRun.Command = "second"
	if err := b.Write(ctx, s, false); err != nil {
		t.Fatal(err)
	}
	wantBackup := func(what string, want *state.State) {
		t.Helper()
		got, err := b.ReadBackup()
		if err != nil {
			t.Fatalf("%s: ReadBackup: %v", what, err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: backup (-want +got):\n%s", what, diff)
		}
	}
	wantBackup("after a Write", first)

	// Commits go to the journal; the backup is the snapshot that the
	// compaction at Unlock replaces: the state before the command.
	before := s.DeepCopy()
	id, err := b.Lock(ctx, state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := state.NewManager(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range []string{"a", "b", "c"} {
		if err := m.PutBuild(state.BuildAddr("dev", img), &state.Build{Env: "dev", Image: img, Status: state.StatusSucceeded}, nil); err != nil {
			t.Fatal(err)
		}
	}
	wantBackup("while committing", first)
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}
	wantBackup("after the command", before)
}

func TestLocalDefaultPath(t *testing.T) {
	if got := state.NewLocal("").Path(); got != state.DefaultPath {
		t.Errorf("NewLocal(\"\").Path() = %q, want %q", got, state.DefaultPath)
	}
	if state.DefaultPath != "state/packer-hybrid.json" {
		t.Errorf("DefaultPath = %q", state.DefaultPath)
	}
}

func TestLocalRefusesBadState(t *testing.T) {
	for name, want := range badStates {
		t.Run(name, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join("testdata/bad", name))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "packer-hybrid.json")
			if err := os.WriteFile(path, orig, 0o644); err != nil {
				t.Fatal(err)
			}

			b := state.NewLocal(path)
			_, err = b.Read(context.Background())
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Read: got %v, want an error naming %s and containing %q", err, path, want)
			}
			// Neither the backend that failed to read the file, nor a new
			// one that never read it, may replace it.
			for _, b := range []*state.Local{b, state.NewLocal(path)} {
				for _, force := range []bool{false, true} {
					s := state.New()
					if err := b.Write(context.Background(), s, force); err == nil || !strings.Contains(err.Error(), "refusing to overwrite a state that could not be read") {
						t.Errorf("Write (force %v) over a bad state: got %v, want a refusal", force, err)
					}
				}
				if _, err := b.Commit(context.Background(), testLineage, 0, &state.Change{}); err == nil || !strings.Contains(err.Error(), "refusing to overwrite a state that could not be read") {
					t.Errorf("Commit over a bad state: got %v, want a refusal", err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(orig, got) {
				t.Errorf("the refused write changed the file:\n%s", got)
			}
			if _, err := os.Stat(path + state.BackupSuffix); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused write left a backup (stat: %v)", err)
			}
			if _, err := os.Stat(path + state.JournalSuffix); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused commit left a journal (stat: %v)", err)
			}
			if _, err := state.NewManager(context.Background(), b); err == nil {
				t.Errorf("NewManager over a bad state succeeded")
			}
		})
	}
}

func TestLocalReadFailureIsRemembered(t *testing.T) {
	path := tempStatePath(t)
	ctx := context.Background()
	good := state.NewLocal(path)
	s, err := good.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Write(ctx, s, false); err != nil {
		t.Fatal(err)
	}
	valid, _ := os.ReadFile(path)

	b := state.NewLocal(path)
	if err := os.WriteFile(path, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(ctx); err == nil {
		t.Fatal("Read of a truncated state succeeded")
	}
	// Someone puts a valid file back: the backend still refuses until it
	// has read it.
	if err := os.WriteFile(path, valid, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, s, false); err == nil {
		t.Errorf("Write after a failed Read succeeded, want a refusal until the next Read")
	}
	if _, err := b.Commit(ctx, s.Lineage, s.Serial, &state.Change{}); err == nil {
		t.Errorf("Commit after a failed Read succeeded, want a refusal until the next Read")
	}
	if _, err := b.Read(ctx); err != nil {
		t.Fatalf("Read of the restored state: %v", err)
	}
	if err := b.Write(ctx, s, false); err != nil {
		t.Errorf("Write after a successful Read: %v", err)
	}
	if _, err := b.Commit(ctx, s.Lineage, s.Serial, &state.Change{}); err != nil {
		t.Errorf("Commit after a successful Read: %v", err)
	}
}

func TestLocalMigratesV1(t *testing.T) {
	v1, err := os.ReadFile("testdata/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "packer-hybrid.json")
	if err := os.WriteFile(path, v1, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b := state.NewLocal(path)
	s, err := b.Read(ctx)
	if err != nil {
		t.Fatalf("Read of a format 1 state: %v", err)
	}
	if diff := cmp.Diff(v1Want(), s); diff != "" {
		t.Fatalf("Read (-want +got):\n%s", diff)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, v1) {
		t.Errorf("Read rewrote the file")
	}

	if err := b.Write(ctx, s, false); err != nil {
		t.Fatalf("Write: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"format_version": 2,`)) || !bytes.Contains(data, []byte(`"render.prod.base": {`)) || bytes.Contains(data, []byte(`"address"`)) {
		t.Errorf("the state was not rewritten in format 2:\n%s", data)
	}
	if backup, _ := os.ReadFile(path + state.BackupSuffix); !bytes.Equal(backup, v1) {
		t.Errorf("the backup is not the format 1 file:\n%s", backup)
	}
	want := v1Want()
	want.Serial = 8
	got, err := state.NewLocal(path).Read(ctx)
	if err != nil {
		t.Fatalf("Read of the rewritten state: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rewritten state (-want +got):\n%s", diff)
	}
}

func TestLocalLockErrorSaysWhoAndSince(t *testing.T) {
	path := tempStatePath(t)
	holder, other := state.NewLocal(path), state.NewLocal(path)
	id, err := holder.Lock(context.Background(), state.LockInfo{Operation: "apply", Who: "alice@build1", Version: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Unlock(id)

	_, err = other.Lock(context.Background(), state.LockInfo{Operation: "plan"})
	var le *state.LockError
	if !errors.As(err, &le) || le.Info == nil {
		t.Fatalf("second Lock: got %v, want a *LockError with the holder's info", err)
	}
	if le.Info.Who != "alice@build1" || le.Info.Operation != "apply" || le.Info.Version != "0.1.0" || le.Info.PID != os.Getpid() || le.Info.Created.IsZero() {
		t.Errorf("holder info = %+v", le.Info)
	}
	for _, want := range []string{
		"state is locked by alice@build1 (hybrid apply, pid ",
		" since " + le.Info.Created.Format("2006-01-02T15:04:05Z07:00"),
		"lock ID " + id + "; use -lock-timeout to wait, or hybrid force-unlock " + id + " if the holder is gone",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error %q does not contain %q", err, want)
		}
	}
	info, err := os.ReadFile(path + state.LockInfoSuffix)
	if err != nil || !bytes.Contains(info, []byte(`"id": "`+id+`"`)) {
		t.Errorf("lock info file: %v\n%s", err, info)
	}
}

func TestLocalUnlockRemovesInfo(t *testing.T) {
	path := tempStatePath(t)
	b := state.NewLocal(path)
	id, err := b.Lock(context.Background(), state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + state.LockInfoSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock info left after Unlock (stat: %v)", err)
	}
	if b.StaleLock() != nil {
		t.Errorf("StaleLock() = %+v after a clean lock", b.StaleLock())
	}
}

func TestLocalForceUnlock(t *testing.T) {
	path := tempStatePath(t)
	holder, admin := state.NewLocal(path), state.NewLocal(path)
	id, err := holder.Lock(context.Background(), state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}

	err = admin.ForceUnlock(context.Background(), "not-the-id")
	if err == nil || !strings.Contains(err.Error(), "does not match the current lock "+id) {
		t.Errorf("ForceUnlock with a wrong ID: got %v, want an error naming %s", err, id)
	}
	// The holder is alive in this process: its lock info goes, but the
	// OS lock stays with it, and the error says so.
	err = admin.ForceUnlock(context.Background(), id)
	if err == nil || !strings.Contains(err.Error(), "still holds the OS lock") {
		t.Errorf("ForceUnlock of a live holder: got %v, want it to name the process", err)
	}
	if _, err := os.Stat(path + state.LockInfoSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock info still there after ForceUnlock (stat: %v)", err)
	}
	if err := holder.Unlock(id); err != nil {
		t.Errorf("the holder's Unlock after a force-unlock: %v", err)
	}
	if err := admin.ForceUnlock(context.Background(), id); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("ForceUnlock with no lock: got %v, want 'not locked'", err)
	}

	// A backend may force-unlock its own lock.
	id, err = holder.Lock(context.Background(), state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.ForceUnlock(context.Background(), id); err != nil {
		t.Errorf("ForceUnlock of the backend's own lock: %v", err)
	}
	if id, err := admin.Lock(context.Background(), state.LockInfo{}); err != nil {
		t.Errorf("Lock after ForceUnlock: %v", err)
	} else {
		admin.Unlock(id)
	}
}

func TestLocalCleansTemps(t *testing.T) {
	ctx := context.Background()
	path := tempStatePath(t)
	b := state.NewLocal(path)
	s, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, s, false); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	leftovers := []string{
		atomicfile.TempPrefix + "packer-hybrid.json-123",
		atomicfile.TempPrefix + "packer-hybrid.json.backup-456",
		atomicfile.TempPrefix + "packer-hybrid.json.lock.info-789",
	}
	unrelated := atomicfile.TempPrefix + "hybrid.lock.hcl-1"
	plant := func() {
		t.Helper()
		for _, name := range append(leftovers, unrelated) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	present := func() []string {
		t.Helper()
		var names []string
		for _, name := range leftovers {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				names = append(names, name)
			}
		}
		return names
	}

	// While another client holds the lock, its writes may be in flight:
	// this client's writes are refused, and nothing is removed.
	other := state.NewLocal(path)
	id, err := other.Lock(ctx, state.LockInfo{})
	if err != nil {
		t.Fatal(err)
	}
	plant()
	var le *state.LockError
	if err := b.Write(ctx, s, false); !errors.As(err, &le) {
		t.Errorf("Write while another client holds the lock: got %v, want a *LockError", err)
	}
	if _, err := b.Commit(ctx, s.Lineage, s.Serial, &state.Change{}); !errors.As(err, &le) {
		t.Errorf("Commit while another client holds the lock: got %v, want a *LockError", err)
	}
	if got := present(); len(got) != len(leftovers) {
		t.Errorf("Write while another client holds the lock removed temp files; left %v", got)
	}
	other.Unlock(id)

	// The next Write with the lock free removes them.
	if err := b.Write(ctx, s, false); err != nil {
		t.Fatal(err)
	}
	if got := present(); len(got) != 0 {
		t.Errorf("temp files left after Write: %v", got)
	}

	// So does the next Lock.
	plant()
	id, err = b.Lock(ctx, state.LockInfo{})
	if err != nil {
		t.Fatal(err)
	}
	b.Unlock(id)
	if got := present(); len(got) != 0 {
		t.Errorf("temp files left after Lock: %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, unrelated)); err != nil {
		t.Errorf("another file's temp file was removed: %v", err)
	}
}

func TestLocalCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := state.NewLocal(tempStatePath(t)).Lock(ctx, state.LockInfo{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a canceled context: got %v, want context.Canceled", err)
	}
}
