package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// hashTree writes files (path -> content; a content starting with "->" is a
// symbolic link to the rest) under a new root.
func hashTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func sum(s string) string { return Digest([]byte(s)) }

func TestHasherTrees(t *testing.T) {
	root := hashTree(t, map[string]string{
		"tmpl/a.pkr.hcl":         "a",
		"tmpl/data/ks.cfg":       "ks",
		"tmpl/.git/HEAD":         "ref",
		"tmpl/deep/er/x.sh":      "x",
		"tmpl/link-file":         "->a.pkr.hcl",
		"tmpl/link-dir":          "->data",
		"tmpl/loop":              "->../tmpl",
		"tmpl/dangling":          "->nowhere",
		"shared/s.sh":            "s",
		"linked-tmpl":            "->tmpl",
		"scripts/one.ps1":        "1",
		"scripts/sub/two.ps1":    "2",
		"scripts/sub/notes.txt":  "n",
		"scripts/sub/.git/x.ps1": "git",
		"single.txt":             "single",
	})
	want := map[string]string{
		"tmpl/a.pkr.hcl":    sum("a"),
		"tmpl/data/ks.cfg":  sum("ks"),
		"tmpl/deep/er/x.sh": sum("x"),
		"tmpl/link-file":    sum("a"),
		// A linked directory inside the workspace is read like any other,
		// so an edit inside it is seen; a link back up is not followed.
		"tmpl/link-dir/ks.cfg": sum("ks"),
		"tmpl/dangling":        "missing",
	}
	linked := map[string]string{}
	for k, v := range want {
		linked["linked-tmpl"+strings.TrimPrefix(k, "tmpl")] = v
	}
	cases := []struct {
		name string
		get  func(h *Hasher) (*Tree, error)
		want map[string]string
	}{
		{"dir", func(h *Hasher) (*Tree, error) { return h.Dir("tmpl") }, want},
		{"dir with trailing slash", func(h *Hasher) (*Tree, error) { return h.Dir("tmpl/") }, want},
		{"linked dir", func(h *Hasher) (*Tree, error) { return h.Dir("linked-tmpl") }, linked},
		{"missing dir", func(h *Hasher) (*Tree, error) { return h.Dir("nope") }, map[string]string{}},
		{"dir that is a file", func(h *Hasher) (*Tree, error) { return h.Dir("single.txt") }, map[string]string{"single.txt": sum("single")}},
		{"glob", func(h *Hasher) (*Tree, error) { return h.Glob("scripts/**/*.ps1") }, map[string]string{
			"scripts/one.ps1": sum("1"), "scripts/sub/two.ps1": sum("2"),
		}},
		{"glob of one file", func(h *Hasher) (*Tree, error) { return h.Glob("single.txt") }, map[string]string{"single.txt": sum("single")}},
		{"glob from the root", func(h *Hasher) (*Tree, error) { return h.Glob("**/s.sh") }, map[string]string{"shared/s.sh": sum("s")}},
		{"files", func(h *Hasher) (*Tree, error) { return h.Files("single.txt", "gone.txt", "shared") }, map[string]string{
			"single.txt": sum("single"), "gone.txt": "missing", "shared": "not-a-file",
		}},
	}
	for _, cache := range []bool{false, true} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/cache=%v", tc.name, cache), func(t *testing.T) {
				var c *StatCache
				if cache {
					c = NewStatCache()
				}
				tree, err := tc.get(NewHasher(root, c))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, tree.Files); diff != "" {
					t.Errorf("wrong files (-want +got):\n%s", diff)
				}
				if tree.Digest != TreeDigest(tc.want) {
					t.Errorf("tree digest %s, want the digest of its files", tree.Digest)
				}
			})
		}
	}
}

// TestHasherLinkOutsideWorkspace checks that a linked directory or file
// leading out of the workspace is not read.
func TestHasherLinkOutsideWorkspace(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := hashTree(t, map[string]string{"tmpl/a": "a"})
	if err := os.Symlink(outside, filepath.Join(root, "tmpl", "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "tmpl", "secret")); err != nil {
		t.Fatal(err)
	}
	tree, err := NewHasher(root, nil).Dir("tmpl")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tmpl/a": sum("a"), "tmpl/out": "outside-workspace", "tmpl/secret": "outside-workspace"}
	if diff := cmp.Diff(want, tree.Files); diff != "" {
		t.Errorf("wrong files (-want +got):\n%s", diff)
	}
}

// TestHasherRoots checks that the root may be given as ".", relative or
// absolute, with the same workspace-relative names.
func TestHasherRoots(t *testing.T) {
	root := hashTree(t, map[string]string{"a/b.txt": "b", "c.txt": "c"})
	want := map[string]string{"a/b.txt": sum("b"), "c.txt": sum("c")}
	t.Chdir(filepath.Dir(root))
	for _, r := range []string{root, root + "/", filepath.Base(root), "./" + filepath.Base(root)} {
		tree, err := NewHasher(r, nil).Dir(".")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, tree.Files); diff != "" {
			t.Errorf("root %q: wrong files (-want +got):\n%s", r, diff)
		}
	}
	t.Chdir(root)
	tree, err := NewHasher(".", nil).Glob("**")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, tree.Files); diff != "" {
		t.Errorf("root \".\": wrong files (-want +got):\n%s", diff)
	}
}

// TestHasherMatchesReference compares the parallel walker and hasher with
// a plain walk and hash of a random tree, cold and through a saved cache.
func TestHasherMatchesReference(t *testing.T) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0
	r := rand.New(rand.NewPCG(1, 2))
	files := map[string]string{}
	for i := 0; i < 600; i++ {
		depth := r.IntN(5)
		var parts []string
		for d := 0; d < depth; d++ {
			parts = append(parts, fmt.Sprintf("d%d", r.IntN(6)))
		}
		parts = append(parts, fmt.Sprintf("f%d.txt", i))
		content := strings.Repeat(fmt.Sprintf("%d ", i), r.IntN(3000))
		files[strings.Join(parts, "/")] = content
	}
	root := hashTree(t, files)
	want := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		s := sha256.Sum256(data)
		want[filepath.ToSlash(rel)] = "sha256:" + hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cachePath := filepath.Join(t.TempDir(), "cache")
	for _, pass := range []string{"cold", "warm"} {
		c := LoadStatCache(cachePath)
		tree, err := NewHasher(root, c).Dir(".")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, tree.Files); diff != "" {
			t.Errorf("%s: wrong files (-want +got):\n%s", pass, diff)
		}
		if err := c.Save(cachePath); err != nil {
			t.Fatal(err)
		}
		if pass == "warm" && len(c.entries) != len(want) {
			t.Errorf("warm: cache holds %d entries, want %d", len(c.entries), len(want))
		}
	}
}

func TestHasherUnreadableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads directories whatever their mode")
	}
	root := hashTree(t, map[string]string{"t/a/x": "x", "t/b/y": "y"})
	locked := filepath.Join(root, "t", "b")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	if _, err := NewHasher(root, nil).Dir("t"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("error %v, want permission denied", err)
	}
}

func TestStatCacheRoundTrip(t *testing.T) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0
	c := NewStatCache()
	c.scanStart = time.Now().Add(time.Hour)
	entries := map[string]cacheEntry{
		"a":                {fileStat{Size: 1, Mtime: 2, Ctime: 3, Ino: 4}, "sha256:aa"},
		"dir/with space":   {fileStat{Size: 0, Mtime: -5, Ctime: 6, Ino: 18446744073709551615}, "sha256:bb"},
		"unicode/é/ü.txt":  {fileStat{Size: 1 << 40, Mtime: 1, Ctime: 1, Ino: 1}, "sha256:cc"},
		"skipped\nnewline": {fileStat{Size: 1}, "sha256:dd"},
	}
	for p, e := range entries {
		c.record(p, e.stat, e.digest)
	}
	path := filepath.Join(t.TempDir(), "cache")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	delete(entries, "skipped\nnewline")
	got := LoadStatCache(path).entries
	if diff := cmp.Diff(entries, got, cmp.AllowUnexported(cacheEntry{})); diff != "" {
		t.Errorf("wrong entries after a round trip (-want +got):\n%s", diff)
	}
}

// TestHasherConcurrent asks for the same trees from many goroutines: each
// is computed once and every caller gets it.
func TestHasherConcurrent(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 50; i++ {
		files[fmt.Sprintf("t%d/f%d", i%5, i)] = fmt.Sprint(i)
	}
	root := hashTree(t, files)
	h := NewHasher(root, NewStatCache())
	const callers = 16
	got := make([][]*Tree, callers)
	done := make(chan int)
	for c := 0; c < callers; c++ {
		go func() {
			for i := 0; i < 5; i++ {
				tree, err := h.Dir(fmt.Sprintf("t%d", (i+c)%5))
				if err != nil {
					t.Error(err)
				}
				got[c] = append(got[c], tree)
			}
			done <- c
		}()
	}
	for c := 0; c < callers; c++ {
		<-done
	}
	first := map[string]*Tree{}
	for c := range got {
		for i, tree := range got[c] {
			dir := fmt.Sprintf("t%d", (i+c)%5)
			if len(tree.Files) != 10 {
				t.Errorf("%s has %d files, want 10", dir, len(tree.Files))
			}
			if f, ok := first[dir]; ok && f != tree {
				t.Errorf("%s was computed more than once", dir)
			}
			first[dir] = tree
		}
	}
}

// FuzzLoadStatCache feeds arbitrary bytes to the stat cache reader: it must
// not panic, and whatever it accepts must survive being written and read
// again.
func FuzzLoadStatCache(f *testing.F) {
	f.Add([]byte(statCacheHeader + "\nsha256:ab 1 2 3 4 a/b c\n"))
	f.Add([]byte(statCacheHeader + "\n"))
	f.Add([]byte(statCacheHeader + "\nd 1 2 3\n"))
	f.Add([]byte("hybrid-statcache 0\n"))
	f.Add([]byte(statCacheHeader + "\nd -1 -2 -3 18446744073709551615 p\nd 1 2 3 4 p\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := parseStatCache(data)
		if len(c.entries) == 0 {
			return
		}
		// Keep every entry, whatever its times.
		c.scanStart = time.Unix(0, math.MaxInt64).Add(racyWindow)
		want := map[string]cacheEntry{}
		for p, e := range c.entries {
			if !strings.ContainsAny(p, "\n\r") && e.stat.Mtime != math.MaxInt64 && e.stat.Ctime != math.MaxInt64 {
				want[p] = e
			}
		}
		if diff := cmp.Diff(want, parseStatCache(c.encode()).entries, cmp.AllowUnexported(cacheEntry{})); diff != "" {
			t.Errorf("entries changed across a write and a read (-want +got):\n%s", diff)
		}
	})
}
