package sources

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// headOf returns the commit checked out in dir, failing the test on error.
func headOf(t *testing.T, g *Git, dir string) string {
	t.Helper()
	h, err := g.Head(context.Background(), dir)
	if err != nil {
		t.Fatalf("Head(%s): %v", dir, err)
	}
	return h
}

func mustSync(t *testing.T, g *Git, root string, src Source) *SyncResult {
	t.Helper()
	res, err := g.Sync(context.Background(), root, src)
	if err != nil {
		t.Fatalf("Sync(%+v): %v", src, err)
	}
	return res
}

func TestSyncClonesThenUpdatesInPlace(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	root := filepath.Join(t.TempDir(), "sources")
	dir := filepath.Join(root, "examples")
	src := Source{Name: "examples", URL: r.URL, Ref: "main", Commit: r.Main[1]}

	res := mustSync(t, g, root, src)
	want := &SyncResult{Dir: dir, Kind: KindBranch, Action: ActionCloned, Commit: r.Main[1]}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("first sync: wrong result (-want +got):\n%s", diff)
	}
	if got := headOf(t, g, dir); got != r.Main[1] {
		t.Errorf("HEAD = %s, want %s", got, r.Main[1])
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "f.txt")); string(b) != "line\nline\n" {
		t.Errorf("f.txt = %q, want the content of the locked commit", b)
	}
	gitBefore, err := os.Stat(filepath.Join(dir, ".git"))
	if err != nil {
		t.Fatal(err)
	}

	src.Commit = r.Main[2]
	res = mustSync(t, g, root, src)
	want = &SyncResult{Dir: dir, Kind: KindBranch, Action: ActionUpdated, From: r.Main[1], Commit: r.Main[2]}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("second sync: wrong result (-want +got):\n%s", diff)
	}
	gitAfter, err := os.Stat(filepath.Join(dir, ".git"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(gitBefore, gitAfter) {
		t.Error("the checkout was replaced, want it updated in place")
	}
	if got := headOf(t, g, dir); got != r.Main[2] {
		t.Errorf("HEAD = %s, want %s", got, r.Main[2])
	}
	if got := gitT(t, g.Env, dir, "rev-parse", "--abbrev-ref", "HEAD"); got != "HEAD" {
		t.Errorf("HEAD is on branch %q, want it detached", got)
	}

	res = mustSync(t, g, root, src)
	want = &SyncResult{Dir: dir, Kind: KindBranch, Action: ActionUnchanged, From: r.Main[2], Commit: r.Main[2]}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("third sync: wrong result (-want +got):\n%s", diff)
	}
	if s := res.String(); s != dir+": already at "+r.Main[2][:12] {
		t.Errorf("String() = %q", s)
	}
	files, err := g.Dirty(context.Background(), dir)
	if err != nil || len(files) != 0 {
		t.Errorf("Dirty after sync = %q, %v; want a clean checkout", files, err)
	}
}

func TestSyncResultString(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	tests := map[string]struct {
		res  SyncResult
		want string
	}{
		"cloned":    {SyncResult{Dir: "sources/x", Action: ActionCloned, Commit: a}, "sources/x: cloned at aaaaaaaaaaaa"},
		"updated":   {SyncResult{Dir: "sources/x", Action: ActionUpdated, From: a, Commit: b}, "sources/x: updated aaaaaaaaaaaa -> bbbbbbbbbbbb"},
		"unchanged": {SyncResult{Dir: "sources/x", Action: ActionUnchanged, From: a, Commit: a}, "sources/x: already at aaaaaaaaaaaa"},
	}
	for name, tc := range tests {
		if got := tc.res.String(); got != tc.want {
			t.Errorf("%s: String() = %q, want %q", name, got, tc.want)
		}
	}
}

func TestSyncStaysAtLockedCommit(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := newRemote(t, g.Env)
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "sources")
	dir := filepath.Join(root, "examples")

	locked, err := g.Resolve(ctx, r.URL, "main")
	if err != nil {
		t.Fatal(err)
	}
	newer := r.push(t, "upstream moved\n")
	src := Source{Name: "examples", URL: r.URL, Ref: "main", Commit: locked.Commit}
	mustSync(t, g, root, src)
	if got := headOf(t, g, dir); got != locked.Commit {
		t.Errorf("after a new upstream commit, HEAD = %s, want the locked %s", got, locked.Commit)
	}

	r.push(t, "upstream moved again\n")
	if res := mustSync(t, g, root, src); res.Action != ActionUnchanged {
		t.Errorf("Action = %s, want %s", res.Action, ActionUnchanged)
	}
	if got := headOf(t, g, dir); got != locked.Commit {
		t.Errorf("HEAD = %s, want the locked %s", got, locked.Commit)
	}
	if now, err := g.Resolve(ctx, r.URL, "main"); err != nil || now.Commit == newer || now.Commit == locked.Commit {
		t.Errorf("Resolve(main) after two pushes = %v, %v; want the newest commit", now, err)
	}
}

func TestSyncRefKinds(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	tests := map[string]struct {
		ref, commit string
		kind        RefKind
	}{
		"branch tip":              {"main", r.Main[2], KindBranch},
		"branch ancestor":         {"main", r.Main[0], KindBranch},
		"full branch name":        {"refs/heads/main", r.Main[1], KindBranch},
		"other branch":            {"feature", r.Feature, KindBranch},
		"annotated tag":           {"v1.0", r.Main[1], KindTag},
		"full tag name":           {"refs/tags/v1.0", r.Main[1], KindTag},
		"lightweight tag":         {"light", r.Main[0], KindTag},
		"commit on main":          {r.Main[0], r.Main[0], KindCommit},
		"commit on another":       {r.Feature, r.Feature, KindCommit},
		"commit in upper case":    {strings.ToUpper(r.Main[1]), strings.ToUpper(r.Main[1]), KindCommit},
		"tag of an ambiguous ref": {"refs/tags/dup", r.Main[2], KindTag},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "sources")
			res := mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: tc.ref, Commit: tc.commit})
			commit := strings.ToLower(tc.commit)
			want := &SyncResult{Dir: filepath.Join(root, "src"), Kind: tc.kind, Action: ActionCloned, Commit: commit}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
			if got := headOf(t, g, filepath.Join(root, "src")); got != commit {
				t.Errorf("HEAD = %s, want %s", got, commit)
			}
		})
	}
}

func TestSyncRefusesTamperedCommit(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	unknown := strings.Repeat("0123456789", 4)
	tests := map[string]struct {
		ref, commit string
		want        TamperError
	}{
		"commit of another branch": {
			ref: "main", commit: r.Feature,
			want: TamperError{Name: "src", URL: r.URL, Ref: "main", Kind: KindBranch, Commit: r.Feature, RefCommit: r.Main[2]},
		},
		"commit that does not exist": {
			ref: "main", commit: unknown,
			want: TamperError{Name: "src", URL: r.URL, Ref: "main", Kind: KindBranch, Commit: unknown, RefCommit: r.Main[2]},
		},
		"commit the tag does not point to": {
			ref: "v1.0", commit: r.Main[2],
			want: TamperError{Name: "src", URL: r.URL, Ref: "v1.0", Kind: KindTag, Commit: r.Main[2], RefCommit: r.Main[1]},
		},
		"commit other than the commit ref": {
			ref: r.Main[0], commit: r.Main[1],
			want: TamperError{Name: "src", URL: r.URL, Ref: r.Main[0], Kind: KindCommit, Commit: r.Main[1], RefCommit: r.Main[0]},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "sources")
			_, err := g.Sync(context.Background(), root, Source{Name: "src", URL: r.URL, Ref: tc.ref, Commit: tc.commit})
			var te *TamperError
			if !errors.As(err, &te) {
				t.Fatalf("Sync: %v, want a *TamperError", err)
			}
			if diff := cmp.Diff(tc.want, *te); diff != "" {
				t.Errorf("wrong error (-want +got):\n%s", diff)
			}
			for _, w := range []string{tc.commit, "edited by hand", "hybrid lock -upgrade src"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			mustNotExist(t, filepath.Join(root, "src"))
		})
	}

	t.Run("existing checkout stays", func(t *testing.T) {
		t.Parallel()
		root := filepath.Join(t.TempDir(), "sources")
		dir := filepath.Join(root, "src")
		// A commit ref fetches every branch, so the commit of feature is
		// present: the check must be on history, not on presence.
		mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: r.Feature, Commit: r.Feature})
		before := snapshot(t, dir)
		_, err := g.Sync(context.Background(), root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Feature})
		var te *TamperError
		if !errors.As(err, &te) {
			t.Fatalf("Sync: %v, want a *TamperError", err)
		}
		if got := headOf(t, g, dir); got != r.Feature {
			t.Errorf("HEAD = %s, want it left at %s", got, r.Feature)
		}
		if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
			t.Errorf("checkout changed (-before +after):\n%s", diff)
		}
	})
}

func TestSyncRefusesDirtyCheckout(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	tests := map[string]struct {
		change func(t *testing.T, dir string)
		files  []string
	}{
		"modified": {
			change: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "f.txt"), "my edit\n") },
			files:  []string{"f.txt"},
		},
		"untracked": {
			change: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "notes", "todo.txt"), "mine\n") },
			files:  []string{"notes/todo.txt"},
		},
		"staged": {
			change: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "new.txt"), "staged\n")
				gitT(t, g.Env, dir, "add", "new.txt")
			},
			files: []string{"new.txt"},
		},
		"deleted": {
			change: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "f.txt")); err != nil {
					t.Fatal(err)
				}
			},
			files: []string{"f.txt"},
		},
		"renamed": {
			change: func(t *testing.T, dir string) { gitT(t, g.Env, dir, "mv", "f.txt", "g.txt") },
			files:  []string{"g.txt"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "sources")
			dir := filepath.Join(root, "src")
			src := Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[1]}
			mustSync(t, g, root, src)
			tc.change(t, dir)
			before := snapshot(t, dir)
			index := readFile(t, filepath.Join(dir, ".git", "index"))

			src.Commit = r.Main[2]
			_, err := g.Sync(context.Background(), root, src)
			var de *DirtyError
			if !errors.As(err, &de) {
				t.Fatalf("Sync: %v, want a *DirtyError", err)
			}
			if diff := cmp.Diff(&DirtyError{Dir: dir, Files: tc.files}, de); diff != "" {
				t.Errorf("wrong error (-want +got):\n%s", diff)
			}
			for _, w := range append([]string{"commit, stash or remove them", "delete " + dir}, tc.files...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Errorf("checkout changed (-before +after):\n%s", diff)
			}
			if readFile(t, filepath.Join(dir, ".git", "index")) != index {
				t.Error("the index changed")
			}
			if got := headOf(t, g, dir); got != r.Main[1] {
				t.Errorf("HEAD = %s, want it left at %s", got, r.Main[1])
			}
			files, err := g.Dirty(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.files, files); diff != "" {
				t.Errorf("Dirty: wrong files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSyncIgnoredFilesAreNotDirty(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	root := filepath.Join(t.TempDir(), "sources")
	dir := filepath.Join(root, "src")
	mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[1]})
	writeFile(t, filepath.Join(dir, ".git", "info", "exclude"), "*.log\n")
	writeFile(t, filepath.Join(dir, "build.log"), "output\n")
	mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	if got := readFile(t, filepath.Join(dir, "build.log")); got != "output\n" {
		t.Errorf("ignored file = %q, want it kept", got)
	}
}

func TestSyncRefusesOtherOrigin(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r1, r2 := newRemote(t, g.Env), newRemote(t, g.Env)
	root := filepath.Join(t.TempDir(), "sources")
	dir := filepath.Join(root, "src")
	mustSync(t, g, root, Source{Name: "src", URL: r1.URL, Ref: "main", Commit: r1.Main[1]})
	before := snapshot(t, dir)

	_, err := g.Sync(context.Background(), root, Source{Name: "src", URL: r2.URL, Ref: "main", Commit: r2.Main[2]})
	var oe *OriginError
	if !errors.As(err, &oe) {
		t.Fatalf("Sync: %v, want an *OriginError", err)
	}
	if diff := cmp.Diff(&OriginError{Dir: dir, Want: r2.URL, Got: r1.URL}, oe); diff != "" {
		t.Errorf("wrong error (-want +got):\n%s", diff)
	}
	for _, w := range []string{"fix the url", "delete " + dir} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("checkout changed (-before +after):\n%s", diff)
	}
	if got := headOf(t, g, dir); got != r1.Main[1] {
		t.Errorf("HEAD = %s, want it left at %s", got, r1.Main[1])
	}

	gitT(t, g.Env, dir, "remote", "remove", "origin")
	_, err = g.Sync(context.Background(), root, Source{Name: "src", URL: r1.URL, Ref: "main", Commit: r1.Main[1]})
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "has no origin remote") {
		t.Errorf("Sync without an origin: %v, want an *OriginError saying so", err)
	}
}

func TestSyncRefusesNonCheckout(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	// The workspace is itself a git repository, as it usually is: a plain
	// directory under sources/ must not be taken for a checkout of it.
	ws := t.TempDir()
	gitT(t, g.Env, ws, "init", "--quiet")
	root := filepath.Join(ws, "sources")
	dir := filepath.Join(root, "src")
	writeFile(t, filepath.Join(dir, "mine.txt"), "my file\n")
	writeFile(t, filepath.Join(root, "file"), "a file\n")
	before := snapshot(t, ws)

	for _, name := range []string{"src", "file"} {
		_, err := g.Sync(context.Background(), root, Source{Name: name, URL: r.URL, Ref: "main", Commit: r.Main[2]})
		if !errors.Is(err, ErrNotRepository) {
			t.Errorf("Sync %s: %v, want ErrNotRepository", name, err)
		}
	}
	if _, err := g.Head(context.Background(), dir); !errors.Is(err, ErrNotRepository) {
		t.Errorf("Head: %v, want ErrNotRepository", err)
	}
	if _, err := g.Dirty(context.Background(), dir); !errors.Is(err, ErrNotRepository) {
		t.Errorf("Dirty: %v, want ErrNotRepository", err)
	}
	if diff := cmp.Diff(before, snapshot(t, ws)); diff != "" {
		t.Errorf("workspace changed (-before +after):\n%s", diff)
	}
}

func TestHeadOfMissingCheckout(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	dir := filepath.Join(t.TempDir(), "sources", "src")
	if _, err := g.Head(context.Background(), dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Head: %v, want fs.ErrNotExist", err)
	}
	if _, err := g.Dirty(context.Background(), dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Dirty: %v, want fs.ErrNotExist", err)
	}
}

func TestSyncFailureLeavesNoCheckout(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	missing := filepath.Join(t.TempDir(), "missing.git")
	tests := map[string]struct {
		src Source
		is  error
	}{
		"unreachable repository": {src: Source{URL: missing, Ref: "main", Commit: r.Main[0]}},
		"unknown ref":            {src: Source{URL: r.URL, Ref: "nope", Commit: r.Main[0]}, is: ErrRefNotFound},
		"unknown commit":         {src: Source{URL: r.URL, Ref: strings.Repeat("1", 40), Commit: strings.Repeat("1", 40)}, is: ErrRefNotFound},
		"unreachable with commit": {
			src: Source{URL: missing, Ref: r.Main[0], Commit: r.Main[0]},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "sources")
			tc.src.Name = "src"
			_, err := g.Sync(context.Background(), root, tc.src)
			if err == nil {
				t.Fatal("Sync succeeded, want an error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			mustNotExist(t, filepath.Join(root, "src"))
		})
	}
}

func TestSyncRejectsUnsafeInputBeforeGitRuns(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	tmp := t.TempDir()
	marker := filepath.Join(tmp, "pwned")
	good := Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]}
	tests := map[string]func(*Source){
		"upload-pack url":  func(s *Source) { s.URL = "--upload-pack=touch " + marker },
		"ext url":          func(s *Source) { s.URL = "ext::sh -c touch% " + marker },
		"fd url":           func(s *Source) { s.URL = "fd::3" },
		"ssh proxy url":    func(s *Source) { s.URL = "ssh://-oProxyCommand=touch%20" + marker + "/r" },
		"output ref":       func(s *Source) { s.Ref = "--output=" + marker },
		"option commit":    func(s *Source) { s.Commit = "--output=" + marker },
		"short commit":     func(s *Source) { s.Commit = r.Main[2][:12] },
		"parent name":      func(s *Source) { s.Name = "../x" },
		"nested name":      func(s *Source) { s.Name = "a/b" },
		"git name":         func(s *Source) { s.Name = ".git" },
		"empty name":       func(s *Source) { s.Name = "" },
		"absolute name":    func(s *Source) { s.Name = marker },
		"dot name":         func(s *Source) { s.Name = "." },
		"option-like name": func(s *Source) { s.Name = "-x" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			src := good
			mutate(&src)
			root := filepath.Join(tmp, name, "sources")
			_, err := g.Sync(context.Background(), root, src)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Sync: %v, want ErrInvalid", err)
			}
			mustNotExist(t, filepath.Join(tmp, name))
			mustNotExist(t, marker)
			mustNotExist(t, filepath.Join(tmp, "x"))
			if src.URL != good.URL || src.Ref != good.Ref {
				if _, err := g.Resolve(context.Background(), src.URL, src.Ref); !errors.Is(err, ErrInvalid) {
					t.Errorf("Resolve: %v, want ErrInvalid", err)
				}
				mustNotExist(t, marker)
			}
		})
	}
}

func TestSyncSymlinkOutsideRoot(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	root := filepath.Join(t.TempDir(), "sources")
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "keep.txt"), "keep\n")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "src")); err != nil {
		t.Skipf("cannot make a symbolic link: %v", err)
	}
	_, err := g.Sync(context.Background(), root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("Sync through a link out of the root: %v, want an error", err)
	}
	if diff := cmp.Diff(map[string]string{".": snapshot(t, outside)["."], "keep.txt": "-rw-r--r-- keep\n"}, snapshot(t, outside)); diff != "" {
		t.Errorf("the link target changed (-want +got):\n%s", diff)
	}

	// A link that stays inside the root is followed.
	if err := os.Remove(filepath.Join(root, "src")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(root, "src")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, g, root, Source{Name: "real", URL: r.URL, Ref: "main", Commit: r.Main[1]})
	res := mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	if res.Action != ActionUpdated || headOf(t, g, filepath.Join(root, "real")) != r.Main[2] {
		t.Errorf("Sync through a link inside the root = %+v, want the linked checkout updated", res)
	}
}

func TestSyncIgnoresInheritedRepositoryVariables(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	// hybrid run from a git hook inherits GIT_DIR and GIT_WORK_TREE of the
	// repository running the hook; they must not redirect the sync.
	other := t.TempDir()
	gitT(t, g.Env, other, "init", "--quiet")
	otherHead := readFile(t, filepath.Join(other, ".git", "HEAD"))
	g.Env = append(g.Env[:len(g.Env):len(g.Env)], "GIT_DIR="+filepath.Join(other, ".git"), "GIT_WORK_TREE="+other, "GIT_INDEX_FILE="+filepath.Join(other, "idx"))

	root := filepath.Join(t.TempDir(), "sources")
	mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	if got := headOf(t, g, filepath.Join(root, "src")); got != r.Main[2] {
		t.Errorf("HEAD = %s, want %s", got, r.Main[2])
	}
	if readFile(t, filepath.Join(other, ".git", "HEAD")) != otherHead {
		t.Error("the repository named by GIT_DIR changed")
	}
	mustNotExist(t, filepath.Join(other, "f.txt"))
	mustNotExist(t, filepath.Join(other, "idx"))
}

func TestSyncRelativeLocalURL(t *testing.T) {
	g := newTestGit(t)
	r := newRemote(t, g.Env)
	t.Chdir(filepath.Dir(r.URL))
	src := Source{Name: "src", URL: "upstream.git", Ref: "main", Commit: r.Main[2]}
	root := "sources"
	mustSync(t, g, root, src)
	if got := gitT(t, g.Env, filepath.Join(root, "src"), "config", "remote.origin.url"); got != r.URL {
		t.Errorf("origin = %q, want the absolute path %q", got, r.URL)
	}
	if res := mustSync(t, g, root, src); res.Action != ActionUnchanged || res.Dir != filepath.Join("sources", "src") {
		t.Errorf("second Sync = %+v, want unchanged at sources/src", res)
	}
	if _, err := g.Resolve(context.Background(), "upstream.git", "main"); err != nil {
		t.Errorf("Resolve with a relative path: %v", err)
	}
}

func TestSyncCommitRefOffline(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := newRemote(t, g.Env)
	root := filepath.Join(t.TempDir(), "sources")
	src := Source{Name: "src", URL: r.URL, Ref: r.Main[1], Commit: r.Main[1]}
	mustSync(t, g, root, src)
	// Once the commit is present, a commit ref needs no remote.
	if err := os.Rename(r.URL, r.URL+".gone"); err != nil {
		t.Fatal(err)
	}
	if res := mustSync(t, g, root, src); res.Action != ActionUnchanged {
		t.Errorf("Action = %s, want %s", res.Action, ActionUnchanged)
	}
}

func TestSyncCancelled(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	root := filepath.Join(t.TempDir(), "sources")
	_, err := g.Sync(ctx, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Sync: %v, want context.Canceled", err)
	}
	mustNotExist(t, filepath.Join(root, "src"))
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	out := " M f.txt\x00?? new dir/a b.txt\x00R  to.txt\x00from.txt\x00A  added\x00 D gone\x00"
	want := []string{"f.txt", "new dir/a b.txt", "to.txt", "added", "gone"}
	if diff := cmp.Diff(want, parseStatus([]byte(out))); diff != "" {
		t.Errorf("wrong result (-want +got):\n%s", diff)
	}
}

func TestDirtyErrorListsAtMostTenFiles(t *testing.T) {
	t.Parallel()
	var files []string
	for i := 0; i < 12; i++ {
		files = append(files, string(rune('a'+i))+".txt")
	}
	msg := (&DirtyError{Dir: "sources/x", Files: files}).Error()
	for _, w := range []string{"12 files", "a.txt", "j.txt", "and 2 more", "delete sources/x"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not mention %q", msg, w)
		}
	}
	if strings.Contains(msg, "k.txt") {
		t.Errorf("%q lists more than ten files", msg)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
