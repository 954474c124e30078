package state_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/statetest"
)

// journalChanges are the commits the journal tests make after the first
// (which writes the snapshot): puts of every kind, trees, deletes and
// header fields.
func journalChanges() []*state.Change {
	tree := map[string]map[string]string{"sha256:t1": {"a.pkr.hcl": "sha256:a", "scripts/b.sh": "sha256:b"}}
	return []*state.Change{
		{Builds: map[string]*state.Build{"build.dev.a": {Env: "dev", Image: "a", Status: state.StatusSucceeded, Inputs: map[string]string{"template": "sha256:t1"},
			Artifacts: []state.Artifact{{BuilderID: "packer.file", ID: "a", Files: []string{"out/a.img"}}}}}, Trees: tree},
		{Renders: map[string]*state.Render{"render.dev.a": {Env: "dev", Image: "a", Path: "configs/dev/a.pkrvars.hcl", Values: map[string]string{"x": `"y \n z"`}}}},
		{Delete: []string{"build.dev.windows", "source.examples"}, LastRun: &state.Run{Command: "apply", Outcome: "failed"}},
		{Sources: map[string]*state.Source{"examples": {URL: "u", Ref: "v2", Commit: strings.Repeat("c", 40)}}, Packer: &state.Packer{Version: "1.9.4"}},
		{Plugins: map[string]state.Plugin{}, Delete: []string{"tree:sha256:t1"}},
	}
}

// journalFixture commits statetest.FillChange (the snapshot) then
// journalChanges (the journal), and returns the state after each commit:
// want[serial].
func journalFixture(t *testing.T, path string) []*state.State {
	t.Helper()
	ctx := context.Background()
	l := state.NewLocal(path)
	s, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []*state.State{nil}
	for i, c := range append([]*state.Change{statetest.FillChange()}, journalChanges()...) {
		if _, err := l.Commit(ctx, s.Lineage, uint64(i), c); err != nil {
			t.Fatal(err)
		}
		got, err := state.NewLocal(path).Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, got)
	}
	return want
}

// TestJournalTornAtEveryByte cuts the journal at every byte, as a crash
// during an append would, and corrupts every byte of the last entry: Read
// always gives the state after the last whole entry, never an error or a
// mix, and the next commit lands right after it.
func TestJournalTornAtEveryByte(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "packer-hybrid.json")
	want := journalFixture(t, path)
	jpath := path + state.JournalSuffix
	journal, err := os.ReadFile(jpath)
	if err != nil {
		t.Fatal(err)
	}
	snapshot, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(journal, []byte("\n")); n != len(journalChanges()) {
		t.Fatalf("journal has %d lines, want one per commit after the first (%d)", n, len(journalChanges()))
	}
	lastStart := int64(bytes.LastIndexByte(journal[:len(journal)-1], '\n') + 1)
	wantAt := func(what string, data []byte, serial int) {
		t.Helper()
		if err := os.WriteFile(jpath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := state.NewLocal(path).Read(ctx)
		if err != nil {
			t.Fatalf("%s: Read: %v", what, err)
		}
		if diff := cmp.Diff(want[serial], got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s: Read is not the state at serial %d (-want +got):\n%s", what, serial, diff)
		}
	}

	cuts := 0
	for n := 0; n <= len(journal); n++ {
		whole := bytes.Count(journal[:n], []byte("\n"))
		wantAt(fmt.Sprintf("journal cut at byte %d", n), journal[:n], 1+whole)
		cuts++
	}
	flips := 0
	for n := lastStart; n < int64(len(journal)); n++ {
		bad := bytes.Clone(journal)
		bad[n] ^= 0x20
		wantAt(fmt.Sprintf("byte %d of the last entry corrupted", n), bad, len(want)-2)
		flips++
	}
	// The next commit after a torn entry: the torn bytes go, the commit
	// follows the last whole entry.
	commits := 0
	extra := &state.Change{Builds: map[string]*state.Build{"build.dev.after": {Env: "dev", Image: "after", Status: state.StatusFailed}}}
	for n := lastStart; n < int64(len(journal)); n += max(1, (int64(len(journal))-lastStart)/40) {
		if err := os.WriteFile(jpath, journal[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		l := state.NewLocal(path)
		s, err := l.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Commit(ctx, s.Lineage, s.Serial, extra); err != nil {
			t.Fatalf("commit after a journal cut at byte %d: %v", n, err)
		}
		got, err := state.NewLocal(path).Read(ctx)
		if err != nil {
			t.Fatalf("Read after a commit on a journal cut at byte %d: %v", n, err)
		}
		w := want[len(want)-2].DeepCopy()
		w.Apply(extra.DeepCopy())
		w.Serial++
		if diff := cmp.Diff(w, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("commit after a journal cut at byte %d (-want +got):\n%s", n, diff)
		}
		data, _ := os.ReadFile(jpath)
		if !bytes.HasPrefix(data, journal[:lastStart]) || bytes.Count(data, []byte("\n")) != len(journalChanges()) {
			t.Fatalf("journal after a commit on one cut at byte %d is not the whole entries plus the new one:\n%s", n, data)
		}
		commits++
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, snapshot) {
		t.Errorf("reads and commits rewrote the snapshot")
	}
	t.Logf("journal of %d entries, %d bytes: %d cuts and %d corrupted bytes of the last entry read as the last whole entry; %d commits after a torn entry landed after it",
		len(journalChanges()), len(journal), cuts, flips, commits)
}

// TestJournalCompactionCutShort: a crash between writing the new snapshot
// and removing the journal leaves entries the snapshot holds; Read skips
// them, and the next commit starts the journal afresh.
func TestJournalCompactionCutShort(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "packer-hybrid.json")
	l := state.NewLocal(path)
	id, err := l.Lock(ctx, state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range append([]*state.Change{statetest.FillChange()}, journalChanges()...) {
		if _, err := l.Commit(ctx, s.Lineage, uint64(i), c); err != nil {
			t.Fatal(err)
		}
	}
	journal, err := os.ReadFile(l.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	before, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.JournalPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the journal is still there after Unlock compacted it (stat: %v)", err)
	}
	if err := os.WriteFile(l.JournalPath(), journal, 0o644); err != nil {
		t.Fatal(err)
	}
	l = state.NewLocal(path)
	got, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Read with a journal already in the snapshot (-want +got):\n%s", diff)
	}
	if _, err := l.Commit(ctx, got.Lineage, got.Serial, &state.Change{LastRun: &state.Run{Command: "next"}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != 1 {
		t.Errorf("journal after the next commit has %d entries, want only the new one", n)
	}
	if got, err := state.NewLocal(path).Read(ctx); err != nil || got.Serial != before.Serial+1 || got.LastRun.Command != "next" {
		t.Errorf("Read after the next commit: serial %v, %v; want %d with its last run", got.Serial, err, before.Serial+1)
	}
}

// TestJournalBackupRestoredByHand: a snapshot put back by hand (the backup)
// is the state; journal entries that do not follow it are dropped by the
// next commit.
func TestJournalBackupRestoredByHand(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "packer-hybrid.json")
	want := journalFixture(t, path)
	l := state.NewLocal(path)
	// Compact (the first command's end), then commit into a new journal.
	id, err := l.Lock(ctx, state.LockInfo{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Commit(ctx, s.Lineage, s.Serial, &state.Change{}); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Commit(ctx, s.Lineage, s.Serial+1, &state.Change{LastRun: &state.Run{Command: "lost"}}); err != nil {
		t.Fatal(err)
	}
	backup, err := os.ReadFile(l.BackupPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, backup, 0o644); err != nil {
		t.Fatal(err)
	}
	l = state.NewLocal(path)
	got, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[1], got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Read of the restored backup (-want +got):\n%s", diff)
	}
	if _, err := l.Commit(ctx, got.Lineage, got.Serial, &state.Change{LastRun: &state.Run{Command: "after restore"}}); err != nil {
		t.Fatal(err)
	}
	got, err = state.NewLocal(path).Read(ctx)
	if err != nil || got.Serial != 2 || got.LastRun.Command != "after restore" {
		t.Errorf("Read after a commit on the restored backup: %+v, %v", got, err)
	}
}

// TestJournalEntryNotValid: an entry whose checksum matches was written
// whole, so one that cannot be used (a newer format, a bad record) is an
// error, and nothing is written over it.
func TestJournalEntryNotValid(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct{ payload, want string }{
		"newer format": {`{"format_version":3,"lineage":"%s","serial":2,"change":{}}`, "newer hybrid (format 3)"},
		"bad record":   {`{"format_version":2,"lineage":"%s","serial":2,"change":{"builds":{"nonsense":{}}}}`, `"nonsense" does not match`},
		"not a change": {`{"format_version":2,"lineage":"%s","serial":2,"change":[]}`, "cannot unmarshal"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "packer-hybrid.json")
			l := state.NewLocal(path)
			s, err := l.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.Commit(ctx, s.Lineage, 0, &state.Change{}); err != nil {
				t.Fatal(err)
			}
			payload := fmt.Sprintf(tc.payload, s.Lineage)
			sum := sha256.Sum256([]byte(payload))
			line := hex.EncodeToString(sum[:]) + " " + payload + "\n"
			if err := os.WriteFile(l.JournalPath(), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
			l = state.NewLocal(path)
			_, err = l.Read(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), l.JournalPath()) {
				t.Fatalf("Read: got %v, want an error naming the journal and containing %q", err, tc.want)
			}
			if _, err := l.Commit(ctx, s.Lineage, 1, &state.Change{}); err == nil {
				t.Errorf("Commit over a journal that does not read succeeded")
			}
			if data, _ := os.ReadFile(l.JournalPath()); string(data) != line {
				t.Errorf("the journal was changed:\n%s", data)
			}
		})
	}
}

// TestLocalCompaction: commits go to the journal; it is folded into the
// snapshot when it grows past its limit, and when a client that committed
// releases the lock, never by one that only read.
func TestLocalCompaction(t *testing.T) {
	ctx := context.Background()
	path := tempStatePath(t)
	l := state.NewLocal(path)
	const limit = 4096
	state.SetJournalLimit(l, limit)
	id, err := l.Lock(ctx, state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := state.NewManager(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	compactions, lastSnap, n := 0, uint64(0), 0
	for i := 0; i < 60 || !exists(l.JournalPath()); i++ {
		n = i + 1
		img := fmt.Sprintf("img%d", i)
		if err := m.PutBuild(state.BuildAddr("dev", img), &state.Build{Env: "dev", Image: img, Status: state.StatusSucceeded,
			Inputs: map[string]string{"template": "sha256:" + strings.Repeat("ab", 32)}}, nil); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(l.JournalPath())
		if err == nil && fi.Size() > limit {
			t.Fatalf("journal of %d bytes after commit %d, past its limit %d", fi.Size(), i+1, limit)
		}
		snap := snapshotSerial(t, path)
		if snap != lastSnap && i > 0 {
			compactions++
		}
		lastSnap = snap
		got, err := state.NewLocal(path).Read(ctx)
		if err != nil || got.Serial != uint64(n) || len(got.Builds) != n {
			t.Fatalf("Read after commit %d: serial %v, %d builds, %v", i+1, got.Serial, len(got.Builds), err)
		}
	}
	if compactions == 0 {
		t.Errorf("%d commits past a %d byte limit never compacted", n, limit)
	}
	if err := l.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if got := snapshotSerial(t, path); got != uint64(n) {
		t.Errorf("snapshot at serial %d after the committer's Unlock, want %d", got, n)
	}
	if exists(l.JournalPath()) {
		t.Errorf("journal left after the committer's Unlock")
	}
	// A client that locks and unlocks without committing (plan) leaves
	// the journal alone.
	other := state.NewLocal(path)
	s, err := other.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Commit(ctx, s.Lineage, s.Serial, &state.Change{}); err != nil {
		t.Fatal(err)
	}
	reader := state.NewLocal(path)
	id, err = reader.Lock(ctx, state.LockInfo{Operation: "plan"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.JournalPath()); err != nil {
		t.Errorf("a client that did not commit under the lock compacted on Unlock (stat: %v)", err)
	}
	t.Logf("%d commits with a %d byte journal limit: %d compactions", n, limit, compactions)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func snapshotSerial(t *testing.T, path string) uint64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := state.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return s.Serial
}

func TestJournalSymlinkRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "packer-hybrid.json")
	l := state.NewLocal(path)
	s, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Commit(ctx, s.Lineage, 0, &state.Change{}); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(dir, "outside")
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, l.JournalPath()); err != nil {
		t.Fatal(err)
	}
	l = state.NewLocal(path)
	if _, err := l.Read(ctx); err == nil {
		t.Errorf("Read through a journal that is a symlink succeeded")
	}
	if _, err := l.Commit(ctx, s.Lineage, 1, &state.Change{}); err == nil {
		t.Errorf("Commit through a journal that is a symlink succeeded")
	}
	if data, _ := os.ReadFile(outside); len(data) != 0 {
		t.Errorf("a commit wrote through the symlink: %q", data)
	}
}
