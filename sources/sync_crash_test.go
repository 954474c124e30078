package sources

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// interruptedFixture is a checkout at A of a remote with two commits, A
// and B, and what an interrupted checkout from A to B leaves.
type interruptedFixture struct {
	g      *Git
	root   string
	dir    string
	src    Source
	A, B   string
	bodies map[string]string // B's files
}

func newInterruptedFixture(t *testing.T) *interruptedFixture {
	t.Helper()
	g := newTestGit(t)
	base := t.TempDir()
	url := filepath.Join(base, "upstream.git")
	work := filepath.Join(base, "work")
	gitT(t, g.Env, base, "init", "--quiet", "--bare", "--initial-branch=main", url)
	gitT(t, g.Env, base, "init", "--quiet", "--initial-branch=main", work)
	writeFile(t, filepath.Join(work, "f.txt"), "f in A\n")
	writeFile(t, filepath.Join(work, "g.txt"), "g in A\n")
	writeFile(t, filepath.Join(work, "dir", "h.txt"), "h in A\n")
	writeFile(t, filepath.Join(work, "same.txt"), "the same in A and B\n")
	writeFile(t, filepath.Join(work, "old", "o.txt"), "only in A\n")
	gitT(t, g.Env, work, "add", "-A")
	gitT(t, g.Env, work, "commit", "--quiet", "-m", "A")
	a := gitT(t, g.Env, work, "rev-parse", "HEAD")
	bodies := map[string]string{
		"f.txt":     "f in B\n",
		"dir/h.txt": "h in B\n",
		"new.txt":   strings.Repeat("new in B\n", 100),
	}
	for p, b := range bodies {
		writeFile(t, filepath.Join(work, filepath.FromSlash(p)), b)
	}
	for _, p := range []string{"g.txt", "old/o.txt"} {
		if err := os.Remove(filepath.Join(work, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	gitT(t, g.Env, work, "add", "-A")
	gitT(t, g.Env, work, "commit", "--quiet", "-m", "B")
	b := gitT(t, g.Env, work, "rev-parse", "HEAD")
	gitT(t, g.Env, work, "push", "--quiet", url, "main")

	f := &interruptedFixture{g: g, root: filepath.Join(base, "sources"), A: a, B: b, bodies: bodies}
	f.dir = filepath.Join(f.root, "src")
	f.src = Source{Name: "src", URL: url, Ref: "main", Commit: a}
	mustSync(t, g, f.root, f.src)
	gitT(t, g.Env, f.dir, "fetch", "--quiet", "origin", "main") // B's objects, as the killed fetch got them
	return f
}

// interrupt makes the checkout look as a checkout from A to B killed half
// way leaves it: the marker, f.txt at B, g.txt and old/o.txt removed (and
// old/ left empty), new.txt half written, and a stale index.lock.
func (f *interruptedFixture) interrupt(t *testing.T) {
	t.Helper()
	if err := writeMarker(filepath.Join(f.dir, ".git"), marker{From: f.A, To: f.B}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.dir, "f.txt"), f.bodies["f.txt"])
	for _, p := range []string{"g.txt", "old/o.txt"} {
		if err := os.Remove(filepath.Join(f.dir, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(f.dir, "new.txt"), f.bodies["new.txt"][:123])
	writeFile(t, filepath.Join(f.dir, ".git", "index.lock"), "")
}

func TestSyncFinishesInterruptedCheckout(t *testing.T) {
	t.Parallel()
	f := newInterruptedFixture(t)
	f.interrupt(t)
	f.src.Commit = f.B
	res := mustSync(t, f.g, f.root, f.src)
	if res.Action != ActionUpdated || res.From != f.A || res.Commit != f.B {
		t.Errorf("Sync = %+v, want updated from A to B", res)
	}
	joined := strings.Join(res.Recovered, "\n")
	for _, w := range []string{"index.lock", "finished the interrupted checkout of " + f.B[:12]} {
		if !strings.Contains(joined, w) {
			t.Errorf("Recovered = %q, want it to mention %q", res.Recovered, w)
		}
	}
	if st := gitT(t, f.g.Env, f.dir, "status", "--porcelain", "--untracked-files=all", "--ignored"); st != "" {
		t.Errorf("status after recovery:\n%s", st)
	}
	mustNotExist(t, filepath.Join(f.dir, "old"))
	mustNotExist(t, filepath.Join(f.dir, ".git", markerName))
	if got := readFile(t, filepath.Join(f.dir, "new.txt")); got != f.bodies["new.txt"] {
		t.Errorf("new.txt = %q, want B's", got)
	}
}

func TestSyncRefusesUserChangesAfterInterruptedCheckout(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change func(t *testing.T, f *interruptedFixture)
		undo   func(t *testing.T, f *interruptedFixture)
		files  []string
	}{
		"edit of a file the checkout changes": {
			change: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "dir", "h.txt"), "my edit\n")
			},
			undo: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "dir", "h.txt"), "h in A\n")
			},
			files: []string{"dir/h.txt"},
		},
		"edit of a file the checkout does not change": {
			change: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "same.txt"), "my edit\n")
			},
			undo: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "same.txt"), "the same in A and B\n")
			},
			files: []string{"same.txt"},
		},
		"deletion of a file the checkout does not change": {
			change: func(t *testing.T, f *interruptedFixture) {
				if err := os.Remove(filepath.Join(f.dir, "same.txt")); err != nil {
					t.Fatal(err)
				}
			},
			undo: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "same.txt"), "the same in A and B\n")
			},
			files: []string{"same.txt"},
		},
		"edit of a file the checkout was writing": {
			change: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "new.txt"), "my new file\n")
			},
			undo: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "new.txt"), f.bodies["new.txt"][:10])
			},
			files: []string{"new.txt"},
		},
		"a new file": {
			change: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "notes", "mine.txt"), "my notes\n")
			},
			undo: func(t *testing.T, f *interruptedFixture) {
				if err := os.RemoveAll(filepath.Join(f.dir, "notes")); err != nil {
					t.Fatal(err)
				}
			},
			files: []string{"notes/mine.txt"},
		},
		"a file where the checkout deleted one": {
			change: func(t *testing.T, f *interruptedFixture) {
				writeFile(t, filepath.Join(f.dir, "g.txt"), "mine now\n")
			},
			undo: func(t *testing.T, f *interruptedFixture) {
				if err := os.Remove(filepath.Join(f.dir, "g.txt")); err != nil {
					t.Fatal(err)
				}
			},
			files: []string{"g.txt"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newInterruptedFixture(t)
			f.interrupt(t)
			tc.change(t, f)
			before := snapshot(t, f.dir)
			f.src.Commit = f.B
			_, err := f.g.Sync(context.Background(), f.root, f.src)
			de, ok := err.(*DirtyError)
			if !ok {
				t.Fatalf("Sync: %v, want a *DirtyError", err)
			}
			if !de.Interrupted || !slices.Equal(de.Files, tc.files) {
				t.Errorf("DirtyError = %+v, want Interrupted naming only %q", de, tc.files)
			}
			for _, w := range append([]string{"interrupted", "git stash -u", "delete " + f.dir}, tc.files...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if after := snapshot(t, f.dir); !mapsEqual(before, after) {
				t.Errorf("the checkout changed: before %v, after %v", before, after)
			}
			if _, err := os.Stat(filepath.Join(f.dir, ".git", markerName)); err != nil {
				t.Errorf("the marker is gone (%v); the next Sync could not finish the checkout", err)
			}

			// Once the user's change is gone, the next Sync finishes
			// the checkout.
			tc.undo(t, f)
			res := mustSync(t, f.g, f.root, f.src)
			if res.Commit != f.B || headOf(t, f.g, f.dir) != f.B {
				t.Errorf("Sync after undoing = %+v, want the checkout at B", res)
			}
			if st := gitT(t, f.g.Env, f.dir, "status", "--porcelain", "--untracked-files=all"); st != "" {
				t.Errorf("status after recovery:\n%s", st)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestSyncIgnoresMarkerAfterHeadMoved(t *testing.T) {
	t.Parallel()
	f := newInterruptedFixture(t)
	f.interrupt(t)
	// The user took the checkout in hand: the marker no longer describes
	// it, and its changes are the user's.
	os.Remove(filepath.Join(f.dir, ".git", "index.lock"))
	gitT(t, f.g.Env, f.dir, "stash", "--quiet", "-u")
	gitT(t, f.g.Env, f.dir, "commit", "--quiet", "--allow-empty", "-m", "mine")
	writeFile(t, filepath.Join(f.dir, "f.txt"), f.bodies["f.txt"])
	before := snapshot(t, f.dir)
	f.src.Commit = f.B
	_, err := f.g.Sync(context.Background(), f.root, f.src)
	de, ok := err.(*DirtyError)
	if !ok || de.Interrupted || !slices.Equal(de.Files, []string{"f.txt"}) {
		t.Fatalf("Sync: %v, want a plain *DirtyError naming f.txt", err)
	}
	if !mapsEqual(before, snapshot(t, f.dir)) {
		t.Error("the checkout changed")
	}
}

func TestSyncKeepsIndexLockWithoutMarker(t *testing.T) {
	t.Parallel()
	f := newInterruptedFixture(t)
	// A lock file in a checkout with no marker may be a user's git at
	// work: Sync must not remove it, and fails rather than wait.
	lock := filepath.Join(f.dir, ".git", "index.lock")
	writeFile(t, lock, "")
	f.src.Commit = f.B
	if _, err := f.g.Sync(context.Background(), f.root, f.src); err == nil || !strings.Contains(err.Error(), "index.lock") {
		t.Errorf("Sync: %v, want git's error about index.lock", err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("index.lock: %v; it must be kept", err)
	}
	if h := headOf(t, f.g, f.dir); h != f.A {
		t.Errorf("HEAD = %s, want it left at A", h)
	}
	mustNotExist(t, filepath.Join(f.dir, ".git", markerName))
}

func TestSyncRemovesOnlyItsTempClones(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	root := filepath.Join(t.TempDir(), "sources")
	ours := []string{".src.tmp-1", ".src.tmp-4294967295"}
	theirs := []string{".src.tmp-", ".src.tmp-x1", ".srcx.tmp-1", ".src.tmp-1.tmp-2", "src.tmp-1", ".src.lockx"}
	for _, n := range append(append([]string{}, ours...), theirs...) {
		writeFile(t, filepath.Join(root, n, "f.txt"), "x\n")
	}
	res := mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	if !strings.Contains(strings.Join(res.Recovered, "\n"), "removed 2 unfinished clones") {
		t.Errorf("Recovered = %q, want it to say two clones were removed", res.Recovered)
	}
	for _, n := range ours {
		mustNotExist(t, filepath.Join(root, n))
	}
	for _, n := range theirs {
		if _, err := os.Stat(filepath.Join(root, n, "f.txt")); err != nil {
			t.Errorf("%s: %v; Sync of src must keep it", n, err)
		}
	}
	mustNotExist(t, lockPath(root, "src"))
}

func TestLockRecordRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range []lockRecord{{}, {pid: 12, pgid: 34, start: 56}, {pid: 1}} {
		s := formatRecord(r)
		if len(s) != recordSize {
			t.Errorf("formatRecord(%+v) is %d bytes, want %d", r, len(s), recordSize)
		}
		if got := parseRecord(s); got != r {
			t.Errorf("parseRecord(formatRecord(%+v)) = %+v", r, got)
		}
	}
	for _, s := range []string{"", "garbage", "hybrid=x git=1", "git=5 start=3"} {
		if got := parseRecord(s); got != (lockRecord{}) {
			t.Errorf("parseRecord(%q) = %+v, want the zero record", s, got)
		}
	}
}

func TestSyncWaitsForLock(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	root := filepath.Join(t.TempDir(), "sources")
	l, err := lockSource(context.Background(), root, "src")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = g.Sync(ctx, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	if err == nil || !strings.Contains(err.Error(), "another hybrid is syncing it") {
		t.Errorf("Sync while the source is locked: %v, want it to wait and give up", err)
	}
	mustNotExist(t, filepath.Join(root, "src"))
	done := make(chan error, 1)
	go func() {
		_, err := g.Sync(context.Background(), root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	l.unlock()
	if err := <-done; err != nil {
		t.Errorf("Sync once the lock is free: %v", err)
	}
}

func TestSyncLockFileLinkIsNotFollowed(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	root := filepath.Join(t.TempDir(), "sources")
	outside := filepath.Join(t.TempDir(), "precious.txt")
	writeFile(t, outside, "precious\n")
	missing := filepath.Join(t.TempDir(), "created.txt")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// A lock file name holding a link, as a hostile workspace could
	// commit it: hybrid must neither write the target nor create it.
	if err := os.Symlink(outside, lockPath(root, "src")); err != nil {
		t.Skipf("cannot make a symbolic link: %v", err)
	}
	if err := os.Symlink(missing, lockPath(root, "other")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	mustSync(t, g, root, Source{Name: "other", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	if got := readFile(t, outside); got != "precious\n" {
		t.Errorf("the link's target = %q; it must be untouched", got)
	}
	mustNotExist(t, missing)
	mustNotExist(t, lockPath(root, "src"))
}

func TestStoreFetchRemovesStaleGitLocks(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	root := filepath.Join(t.TempDir(), "sources")
	s := g.Store(root, "src")
	ctx := context.Background()
	if err := s.Fetch(ctx, r.URL, "main", r.Main[1]); err != nil {
		t.Fatal(err)
	}
	// What a git fetch killed while it updated refs leaves: without
	// removing them, every later fetch and pin would fail.
	for _, p := range []string{"packed-refs.lock", "shallow.lock", "config.lock", "refs/hybrid/locked/" + r.Main[2] + ".lock"} {
		writeFile(t, filepath.Join(s.Dir(), filepath.FromSlash(p)), "")
	}
	if err := s.Fetch(ctx, r.URL, "main", r.Main[2]); err != nil {
		t.Fatalf("Fetch after a killed fetch: %v", err)
	}
	mustHave(t, s, r.Main[2])
	if m, _ := filepath.Glob(filepath.Join(s.Dir(), "*.lock")); len(m) > 0 {
		t.Errorf("lock files left: %q", m)
	}
}
