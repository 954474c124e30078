package plan

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStatCacheNeverHidesAChange edits a file in every way that keeps or
// changes its stat and checks the hasher always sees the new content.
func TestStatCacheNeverHidesAChange(t *testing.T) {
	// With no racy window every entry is cached, so this test shows the
	// stat comparison alone catches each edit.
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0
	root := t.TempDir()
	cachePath := filepath.Join(root, "cache")
	write := func(name, content string, mtime time.Time) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	digestOf := func(name string) string {
		t.Helper()
		c := LoadStatCache(cachePath)
		tree, err := NewHasher(root, c).Files(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Save(cachePath); err != nil {
			t.Fatal(err)
		}
		return tree.Files[name]
	}
	old := time.Now().Add(-time.Hour)
	write("a", "one", old)
	time.Sleep(10 * time.Millisecond) // the scan starts after the write
	if got := digestOf("a"); got != Digest([]byte("one")) {
		t.Fatalf("first digest %s", got)
	}
	if n := len(LoadStatCache(cachePath).entries); n != 1 {
		t.Fatalf("cache holds %d entries, want 1", n)
	}
	// Same size, same mtime, new content: the ctime (and for a rename, the
	// inode) still moves, so the cache must not vouch for the old digest.
	write("a", "two", old)
	if got := digestOf("a"); got != Digest([]byte("two")) {
		t.Errorf("same size and mtime: digest %s, want the new content's", got)
	}
	// Replaced by rename: new inode.
	tmp := filepath.Join(root, "a.new")
	os.WriteFile(tmp, []byte("six"), 0o644)
	os.Chtimes(tmp, old, old)
	os.Rename(tmp, filepath.Join(root, "a"))
	if got := digestOf("a"); got != Digest([]byte("six")) {
		t.Errorf("replaced by rename: digest %s, want the new content's", got)
	}
	// Removed: the tree says so.
	os.Remove(filepath.Join(root, "a"))
	if got := digestOf("a"); got != "missing" {
		t.Errorf("removed file: digest %s, want missing", got)
	}
}

// TestStatCacheRacyClean checks that a file modified in the same moment as
// the scan is not trusted by the next scan.
func TestStatCacheRacyClean(t *testing.T) {
	root := t.TempDir()
	cachePath := filepath.Join(root, "cache")
	p := filepath.Join(root, "f")
	os.WriteFile(p, []byte("fresh"), 0o644)
	c := LoadStatCache(cachePath)
	if _, err := NewHasher(root, c).Files("f"); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(cachePath); err != nil {
		t.Fatal(err)
	}
	if n := len(LoadStatCache(cachePath).entries); n != 0 {
		t.Errorf("a file written just now was cached (%d entries): a same-tick edit could go unseen", n)
	}
	old := time.Now().Add(-time.Minute)
	os.Chtimes(p, old, old)
	// The ctime just moved with Chtimes, so this scan still may not trust it.
	c = LoadStatCache(cachePath)
	NewHasher(root, c).Files("f")
	c.Save(cachePath)
	if n := len(LoadStatCache(cachePath).entries); n != 0 {
		t.Errorf("a file whose ctime is fresh was cached (%d entries)", n)
	}
}

func TestStatCacheCorruptIsEmpty(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cache")
	for _, content := range []string{"", "not a cache\n", statCacheHeader + "\nsha256:x 1 2\n", statCacheHeader + "\nd x 2 3 4 f\n"} {
		os.WriteFile(p, []byte(content), 0o644)
		if n := len(LoadStatCache(p).entries); n != 0 {
			t.Errorf("cache %q gave %d entries, want none", content, n)
		}
	}
}

func TestSaveCreatesNoDirectory(t *testing.T) {
	root := t.TempDir()
	c := NewStatCache()
	c.record("f", fileStat{Size: 1}, "d")
	if err := c.Save(filepath.Join(root, "state", "cache")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "state")); !os.IsNotExist(err) {
		t.Errorf("Save created the state directory: a plan must not")
	}
}

func TestMatchGlob(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"files/**", "files/a", true},
		{"files/**", "files/a/b/c", true},
		{"files/**/*.sh", "files/x/y.sh", true},
		{"files/**/*.sh", "files/y.sh", true},
		{"files/**/*.sh", "files/y.txt", false},
		{"files/*.sh", "files/x/y.sh", false},
		{"a/b", "a/b", true},
		{"a/b", "a/bc", false},
		{"**", "anything/at/all", true},
	}
	for _, tc := range cases {
		if got := matchGlob(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}
