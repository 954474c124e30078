package sources

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// storeRefs lists the refs of the store s, one "name commit" a line.
func storeRefs(t *testing.T, g *Git, s *Store) []string {
	t.Helper()
	out := gitT(t, g.Env, s.Dir(), "--git-dir="+s.Dir(), "for-each-ref", "--format=%(refname) %(objectname)")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// mustHave fails the test unless s has commit.
func mustHave(t *testing.T, s *Store, commit string) {
	t.Helper()
	has, err := s.Has(context.Background(), commit)
	if err != nil || !has {
		t.Fatalf("Has(%s) = %v, %v; want true", commit, has, err)
	}
}

func TestStoreDir(t *testing.T) {
	g := &Git{}
	dir := t.TempDir()
	t.Chdir(dir)
	if got, want := g.Store("sources", "examples").Dir(), filepath.Join(dir, "sources", ".store", "examples.git"); got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
	if got, want := g.Store("/ws/sources", "x").Dir(), filepath.Join("/ws/sources", StoreDir, "x.git"); got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
	mustNotExist(t, filepath.Join(dir, "sources"))
}

func TestStoreFetchRefKinds(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	tests := map[string]struct{ ref, commit string }{
		"branch tip":         {"main", r.Main[2]},
		"branch ancestor":    {"main", r.Main[0]},
		"full branch name":   {"refs/heads/feature", r.Feature},
		"annotated tag":      {"v1.0", r.Main[1]},
		"lightweight tag":    {"refs/tags/light", r.Main[0]},
		"commit":             {r.Feature, r.Feature},
		"commit, other case": {strings.ToUpper(r.Main[1]), strings.ToUpper(r.Main[1])},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "sources")
			s := g.Store(root, "src")
			if has, err := s.Has(context.Background(), tc.commit); has || err != nil {
				t.Fatalf("Has before Fetch = %v, %v; want false, nil", has, err)
			}
			if err := s.Fetch(context.Background(), r.URL, tc.ref, tc.commit); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			mustHave(t, s, tc.commit)
			commit := strings.ToLower(tc.commit)
			want := []string{"refs/hybrid/locked/" + commit + " " + commit}
			if diff := cmp.Diff(want, storeRefs(t, g, s)); diff != "" {
				t.Errorf("wrong refs in the store (-want +got):\n%s", diff)
			}
			if got := gitT(t, g.Env, s.Dir(), "--git-dir="+s.Dir(), "rev-parse", "--is-bare-repository"); got != "true" {
				t.Errorf("the store is not a bare repository: %s", got)
			}
			// Nothing but the store in the sources directory, and no
			// temporary directory beside the store.
			for _, dir := range []string{root, filepath.Join(root, StoreDir)} {
				entries, err := os.ReadDir(dir)
				if err != nil || len(entries) != 1 {
					t.Errorf("%s holds %v, %v; want only the store", dir, entries, err)
				}
			}
		})
	}
}

func TestStoreFetchPresentCommitIsOffline(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	ctx := context.Background()
	s := g.Store(filepath.Join(t.TempDir(), "sources"), "src")
	if err := s.Fetch(ctx, r.URL, "main", r.Main[1]); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(t.TempDir(), "gone.git")
	for _, ref := range []string{"main", "v9", r.Main[1]} {
		if err := s.Fetch(ctx, gone, ref, r.Main[1]); err != nil {
			t.Errorf("Fetch of a present commit with ref %s from a missing remote: %v", ref, err)
		}
	}
	if err := s.Fetch(ctx, gone, "feature", r.Feature); err == nil || errors.Is(err, ErrRefNotFound) || !strings.Contains(err.Error(), "check the URL") {
		t.Errorf("Fetch of an absent commit from a missing remote: %v, want an error saying to check the URL", err)
	}
	mustHave(t, s, r.Main[1])
}

func TestStoreFetchUnknownCommit(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	unknown := strings.Repeat("0123456789", 4)
	tests := map[string]struct {
		ref, says string
	}{
		"branch":       {"main", "not in the history of main"},
		"missing ref":  {"nope", "fetching nope"},
		"commit ref":   {unknown, "is not in"},
		"other branch": {"feature", "hybrid lock -upgrade src"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := g.Store(filepath.Join(t.TempDir(), "sources"), "src")
			err := s.Fetch(context.Background(), r.URL, tc.ref, unknown)
			if !errors.Is(err, ErrRefNotFound) {
				t.Fatalf("Fetch: %v, want ErrRefNotFound", err)
			}
			for _, w := range []string{unknown, "source src", tc.says} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// The branches and tags fetched while looking are not kept.
			if refs := storeRefs(t, g, s); len(refs) != 0 {
				t.Errorf("refs left in the store: %q", refs)
			}
		})
	}
}

func TestStoreFetchBranchMovedOn(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := newRemote(t, g.Env)
	ctx := context.Background()
	locked := r.Main[2]
	// main is rewritten; the locked commit stays reachable from another
	// branch only.
	gitT(t, r.env, r.work, "push", "--quiet", "origin", locked+":refs/heads/keep")
	gitT(t, r.env, r.work, "reset", "--quiet", "--hard", r.Main[0])
	rewritten := r.commitLocal(t, "main", "f.txt", "rewritten\n")
	gitT(t, r.env, r.work, "push", "--quiet", "--force", "origin", "main")

	s := g.Store(filepath.Join(t.TempDir(), "sources"), "src")
	if err := s.Fetch(ctx, r.URL, "main", locked); err != nil {
		t.Fatalf("Fetch of a commit main no longer leads to: %v", err)
	}
	mustHave(t, s, locked)
	if err := s.Fetch(ctx, r.URL, "main", rewritten); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"refs/hybrid/locked/" + locked + " " + locked,
		"refs/hybrid/locked/" + rewritten + " " + rewritten,
	}
	got := storeRefs(t, g, s)
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("wrong refs (-want +got):\n%s", diff)
	}

	// Both commits survive git gc, even with every unreachable object
	// pruned at once.
	gitT(t, g.Env, s.Dir(), "--git-dir="+s.Dir(), "gc", "--quiet", "--prune=now")
	mustHave(t, s, locked)
	mustHave(t, s, rewritten)
}

func TestStoreRecoversBrokenStore(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	// A repository that a broken store might point git at: it must stay
	// untouched.
	other := filepath.Join(t.TempDir(), "other")
	gitT(t, g.Env, t.TempDir(), "init", "--quiet", other)
	otherGit := filepath.Join(other, ".git")
	// Checked once the parallel subtests are done.
	t.Cleanup(func() {
		if refs := gitT(t, g.Env, other, "for-each-ref"); refs != "" {
			t.Errorf("the other repository got refs: %s", refs)
		}
		if objects := gitT(t, g.Env, other, "count-objects"); objects != "0 objects, 0 kilobytes" {
			t.Errorf("the other repository got objects: %s", objects)
		}
	})
	tests := map[string]func(t *testing.T, dir string){
		"empty directory": func(t *testing.T, dir string) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		},
		"garbage file":  func(t *testing.T, dir string) { writeFile(t, dir, "garbage\n") },
		"half-made":     func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "HEAD"), "ref: refs/heads/main\n") },
		"file pointing": func(t *testing.T, dir string) { writeFile(t, dir, "gitdir: "+otherGit+"\n") },
		"link to another repository": func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(otherGit, dir); err != nil {
				t.Skipf("cannot make a symbolic link: %v", err)
			}
		},
		"store of the other object format": func(t *testing.T, dir string) {
			gitT(t, g.Env, t.TempDir(), "init", "--quiet", "--bare", "--object-format=sha256", dir)
		},
		"non-bare repository": func(t *testing.T, dir string) {
			gitT(t, g.Env, t.TempDir(), "init", "--quiet", dir)
		},
	}
	for name, breakStore := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "sources")
			s := g.Store(root, "src")
			breakStore(t, s.Dir())
			if has, err := s.Has(context.Background(), r.Main[2]); has || err != nil {
				t.Errorf("Has on a broken store = %v, %v; want false, nil", has, err)
			}
			if err := s.Fetch(context.Background(), r.URL, "main", r.Main[2]); err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			mustHave(t, s, r.Main[2])
			if fi, err := os.Lstat(s.Dir()); err != nil || !fi.IsDir() {
				t.Errorf("store = %v, %v; want a directory", fi, err)
			}
		})
	}
}

func TestStoreRemovesStaleTempDirs(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	root := filepath.Join(t.TempDir(), "sources")
	s := g.Store(root, "src")
	parent := filepath.Join(root, StoreDir)
	// Fetch holds the source's lock: every temporary store of src is a
	// killed Fetch's, however young. Those of other sources stay, even
	// one whose name starts like src's.
	stale := filepath.Join(parent, ".tmp-src.git-123")
	fresh := filepath.Join(parent, ".tmp-src.git-456")
	otherSource := filepath.Join(parent, ".tmp-srcx.git-789")
	longerName := filepath.Join(parent, ".tmp-src.git-b.git-789")
	for _, dir := range []string{stale, fresh, otherSource, longerName} {
		writeFile(t, filepath.Join(dir, "HEAD"), "ref: refs/heads/main\n")
	}
	if err := s.Fetch(context.Background(), r.URL, "main", r.Main[2]); err != nil {
		t.Fatal(err)
	}
	mustHave(t, s, r.Main[2])
	mustNotExist(t, stale)
	mustNotExist(t, fresh)
	for _, dir := range []string{otherSource, longerName} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: %v; a Fetch of src must keep it", dir, err)
		}
	}
}

func TestStoreFetchSHA256(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	gitDir, commit := commitFixture(t, g.Env, "sha256", map[string]fixtureFile{"f": {"100644", "f\n"}})
	gitT(t, g.Env, gitDir, "--git-dir="+gitDir, "update-ref", "refs/heads/main", commit)
	root := filepath.Join(t.TempDir(), "sources")
	s := g.Store(root, "src")
	ctx := context.Background()
	if err := s.Fetch(ctx, gitDir, "main", commit); err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	mustHave(t, s, commit)
	if got := gitT(t, g.Env, s.Dir(), "--git-dir="+s.Dir(), "rev-parse", "--show-object-format"); got != "sha256" {
		t.Errorf("object format %s, want sha256", got)
	}
	dir, err := g.ObjectsFor(ctx, root, "src", commit)
	if err != nil || dir != s.Dir() {
		t.Fatalf("ObjectsFor = %q, %v; want the store", dir, err)
	}
	tr, err := g.OpenTree(ctx, dir, commit)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if b, err := tr.ReadFile("f"); err != nil || string(b) != "f\n" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
}

func TestStoreRejectsUnsafeInputBeforeGitRuns(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	tmp := t.TempDir()
	marker := filepath.Join(tmp, "pwned")
	type args struct{ name, url, ref, commit string }
	good := args{"src", r.URL, "main", r.Main[2]}
	tests := map[string]func(*args){
		"upload-pack url": func(a *args) { a.url = "--upload-pack=touch " + marker },
		"ext url":         func(a *args) { a.url = "ext::sh -c touch% " + marker },
		"output ref":      func(a *args) { a.ref = "--output=" + marker },
		"refspec ref":     func(a *args) { a.ref = "main:refs/heads/x" },
		"option commit":   func(a *args) { a.commit = "--output=" + marker },
		"short commit":    func(a *args) { a.commit = r.Main[2][:12] },
		"parent name":     func(a *args) { a.name = "../x" },
		"store name":      func(a *args) { a.name = ".store" },
		"empty name":      func(a *args) { a.name = "" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			a := good
			mutate(&a)
			root := filepath.Join(tmp, name, "sources")
			s := g.Store(root, a.name)
			if err := s.Fetch(context.Background(), a.url, a.ref, a.commit); !errors.Is(err, ErrInvalid) {
				t.Errorf("Fetch: %v, want ErrInvalid", err)
			}
			if a.url == good.url && a.ref == good.ref {
				if _, err := s.Has(context.Background(), a.commit); !errors.Is(err, ErrInvalid) {
					t.Errorf("Has: %v, want ErrInvalid", err)
				}
				if _, err := g.ObjectsFor(context.Background(), root, a.name, a.commit); !errors.Is(err, ErrInvalid) {
					t.Errorf("ObjectsFor: %v, want ErrInvalid", err)
				}
			}
			mustNotExist(t, filepath.Join(tmp, name))
			mustNotExist(t, marker)
		})
	}
}

func TestStoreIgnoresInheritedRepositoryVariables(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	other := t.TempDir()
	gitT(t, g.Env, other, "init", "--quiet")
	g.Env = append(g.Env[:len(g.Env):len(g.Env)], "GIT_DIR="+filepath.Join(other, ".git"), "GIT_OBJECT_DIRECTORY="+filepath.Join(other, "objects"))
	s := g.Store(filepath.Join(t.TempDir(), "sources"), "src")
	if err := s.Fetch(context.Background(), r.URL, "main", r.Main[2]); err != nil {
		t.Fatal(err)
	}
	mustHave(t, s, r.Main[2])
	mustNotExist(t, filepath.Join(other, "objects"))
	if refs := gitT(t, isolatedEnv(t), other, "for-each-ref"); refs != "" {
		t.Errorf("the repository named by GIT_DIR got refs: %s", refs)
	}
}

func TestObjectsFor(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	ctx := context.Background()
	tests := map[string]struct {
		store, checkout string // commits fetched into each; "" for none
		commit          string
		want            string // "store", "checkout" or "" for a NotFetchedError
	}{
		"store only":                 {store: r.Main[1], commit: r.Main[1], want: "store"},
		"checkout only":              {checkout: r.Main[1], commit: r.Main[1], want: "checkout"},
		"both: the store first":      {store: r.Main[1], checkout: r.Main[1], commit: r.Main[1], want: "store"},
		"store lacks it":             {store: r.Feature, checkout: r.Main[2], commit: r.Main[1], want: "checkout"},
		"neither":                    {commit: r.Main[1]},
		"checkout lacks it":          {checkout: r.Main[0], commit: r.Feature},
		"upper case, store only":     {store: r.Main[1], commit: strings.ToUpper(r.Main[1]), want: "store"},
		"upper case, checkout only":  {checkout: r.Main[1], commit: strings.ToUpper(r.Main[1]), want: "checkout"},
		"upper case, neither":        {commit: strings.ToUpper(r.Main[1])},
		"store and checkout lack it": {store: r.Main[0], checkout: r.Main[0], commit: r.Feature},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "sources")
			if tc.store != "" {
				if err := g.Store(root, "src").Fetch(ctx, r.URL, tc.store, tc.store); err != nil {
					t.Fatal(err)
				}
			}
			if tc.checkout != "" {
				mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: tc.checkout})
			}
			rootReal, _ := filepath.EvalSymlinks(root)
			got, err := g.ObjectsFor(ctx, root, "src", tc.commit)
			want := map[string]string{"store": g.Store(root, "src").Dir(), "checkout": filepath.Join(rootReal, "src", ".git")}[tc.want]
			if tc.want == "" {
				var nf *NotFetchedError
				if !errors.As(err, &nf) {
					t.Fatalf("ObjectsFor = %q, %v; want a *NotFetchedError", got, err)
				}
				commit := strings.ToLower(tc.commit)
				if diff := cmp.Diff(&NotFetchedError{Name: "src", Commit: commit}, nf); diff != "" {
					t.Errorf("wrong error (-want +got):\n%s", diff)
				}
				wantMsg := "commit " + commit[:12] + " of source src is not in the local object store; run hybrid init (or hybrid sources sync src) to fetch it"
				if err.Error() != wantMsg {
					t.Errorf("error %q, want %q", err, wantMsg)
				}
				return
			}
			if err != nil || got != want {
				t.Fatalf("ObjectsFor = %q, %v; want %q", got, err, want)
			}
			tr, err := g.OpenTree(ctx, got, tc.commit)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			if _, err := tr.ReadFile("f.txt"); err != nil {
				t.Errorf("ReadFile(f.txt) from %s: %v", got, err)
			}
		})
	}
}

func TestObjectsForIgnoresUnsafeCheckouts(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	ctx := context.Background()
	elsewhere := filepath.Join(t.TempDir(), "elsewhere")
	mustSync(t, g, elsewhere, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
	tests := map[string]func(t *testing.T, root string){
		// A checkout whose .git is a file pointing at another repository.
		"gitfile": func(t *testing.T, root string) {
			writeFile(t, filepath.Join(root, "src", ".git"), "gitdir: "+filepath.Join(elsewhere, "src", ".git")+"\n")
		},
		// A checkout that is a link leading out of the sources directory.
		"link outside": func(t *testing.T, root string) {
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(elsewhere, "src"), filepath.Join(root, "src")); err != nil {
				t.Skipf("cannot make a symbolic link: %v", err)
			}
		},
		// A store that is a file pointing at another repository.
		"store gitfile": func(t *testing.T, root string) {
			writeFile(t, g.Store(root, "src").Dir(), "gitdir: "+filepath.Join(elsewhere, "src", ".git")+"\n")
		},
	}
	for name, setup := range tests {
		t.Run(name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "sources")
			setup(t, root)
			got, err := g.ObjectsFor(ctx, root, "src", r.Main[2])
			var nf *NotFetchedError
			if !errors.As(err, &nf) {
				t.Errorf("ObjectsFor = %q, %v; want a *NotFetchedError", got, err)
			}
		})
	}
	if _, err := g.ObjectsFor(ctx, filepath.Join(t.TempDir(), "missing"), "src", r.Main[2]); !errors.As(err, new(*NotFetchedError)) {
		t.Errorf("ObjectsFor with a missing sources directory: %v, want a *NotFetchedError", err)
	}
}
