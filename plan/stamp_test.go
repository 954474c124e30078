package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stampFixture is a workspace with files, a nested directory, a link, a
// checkout's .git directory and a state directory, every entry dated an
// hour back so that a change made now moves its mtime.
func stampFixture(t *testing.T) string {
	t.Helper()
	dir := hashTree(t, map[string]string{
		"hybrid.hcl":                          "image \"a\" {}\n",
		"templates/linux/a.pkr.hcl":           "source \"null\" \"a\" {}\n",
		"templates/linux/scripts/setup.sh":    "echo hi\n",
		"vars/dev.pkrvars.hcl":                "x = 1\n",
		"sources/repo/README.md":              "readme\n",
		"sources/repo/.git/HEAD":              "0123456789012345678901234567890123456789\n",
		"sources/repo/.git/index":             "index\n",
		"sources/repo/.git/config":            "[core]\n",
		"sources/repo/.git/info/exclude":      "*.tmp\n",
		"sources/repo/.git/refs/heads/main":   "0123456789012345678901234567890123456789\n",
		"sources/repo/.git/objects/01/234567": "blob\n",
		"state/packer-hybrid.json":            "{}\n",
		"templates/current":                   "->linux",
	})
	old := time.Now().Add(-time.Hour)
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustStamp(t *testing.T, dir string) Stamp {
	t.Helper()
	s, err := StampWorkspace(dir, Owned{Dir: "state", Prefixes: []string{"packer-hybrid.", ".hybrid-tmp-"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStampSeesEveryChange: every kind of change a plan could read moves
// the stamp; what a plan does not read (the state directory, git's object
// store) does not.
func TestStampSeesEveryChange(t *testing.T) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0
	write := func(name, content string) func(string) error {
		return func(dir string) error {
			return os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(content), 0o644)
		}
	}
	for _, tc := range []struct {
		name   string
		change func(dir string) error
	}{
		{"file rewritten, same size", write("vars/dev.pkrvars.hcl", "x = 2\n")},
		{"file appended", write("hybrid.hcl", "image \"a\" {}\n# more\n")},
		{"file added", write("templates/linux/scripts/new.sh", "")},
		{"hidden file added", write("templates/linux/.env", "")},
		{"file removed", func(dir string) error { return os.Remove(filepath.Join(dir, "vars", "dev.pkrvars.hcl")) }},
		{"file renamed", func(dir string) error {
			return os.Rename(filepath.Join(dir, "vars", "dev.pkrvars.hcl"), filepath.Join(dir, "vars", "prod.pkrvars.hcl"))
		}},
		{"file moved to another directory", func(dir string) error {
			return os.Rename(filepath.Join(dir, "templates", "linux", "scripts", "setup.sh"), filepath.Join(dir, "templates", "linux", "setup.sh"))
		}},
		{"file touched", func(dir string) error {
			now := time.Now()
			return os.Chtimes(filepath.Join(dir, "templates", "linux", "a.pkr.hcl"), now, now)
		}},
		{"mode changed", func(dir string) error {
			return os.Chmod(filepath.Join(dir, "templates", "linux", "scripts", "setup.sh"), 0o755)
		}},
		{"empty directory added", func(dir string) error { return os.Mkdir(filepath.Join(dir, "templates", "windows"), 0o755) }},
		{"link retargeted", func(dir string) error {
			link := filepath.Join(dir, "templates", "current")
			if err := os.Remove(link); err != nil {
				return err
			}
			return os.Symlink("windows", link)
		}},
		{"link replaced by a directory", func(dir string) error {
			link := filepath.Join(dir, "templates", "current")
			if err := os.Remove(link); err != nil {
				return err
			}
			return os.Mkdir(link, 0o755)
		}},
		{"checkout HEAD moved", write("sources/repo/.git/HEAD", "9876543210987654321098765432109876543210\n")},
		{"checkout branch moved", write("sources/repo/.git/refs/heads/main", "9876543210987654321098765432109876543210\n")},
		{"checkout index written", write("sources/repo/.git/index", "index2\n")},
		{"checkout file edited", write("sources/repo/README.md", "README\n")},
		{"a file of someone's in the state directory", write("state/notes.txt", "")},
		{"checkout settings edited", write("sources/repo/.git/config", "[core]\n\tautocrlf = true\n")},
		{"checkout excludes edited", write("sources/repo/.git/info/exclude", "*.log\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := stampFixture(t)
			before := mustStamp(t, dir)
			if before.Unsettled != "" {
				t.Fatalf("a workspace last changed an hour ago is not settled: %s", before.Unsettled)
			}
			if err := tc.change(dir); err != nil {
				t.Fatal(err)
			}
			if after := mustStamp(t, dir); after.Digest == before.Digest {
				t.Errorf("the stamp did not move")
			}
		})
	}
	for _, tc := range []struct {
		name   string
		change func(dir string) error
	}{
		{"state written", write("state/packer-hybrid.json", "{\"serial\": 2}\n")},
		{"state file added", write("state/packer-hybrid.planmemo", "memo")},
		{"state written atomically", write("state/.hybrid-tmp-packer-hybrid.json-123", "{}")},
		{"git object added", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "sources", "repo", ".git", "objects", "01", "999999"), []byte("blob"), 0o644)
		}},
		{"git temporary file", write("sources/repo/.git/index.lock", "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := stampFixture(t)
			before := mustStamp(t, dir)
			if err := tc.change(dir); err != nil {
				t.Fatal(err)
			}
			if after := mustStamp(t, dir); after.Digest != before.Digest {
				t.Errorf("the stamp moved for what no plan reads")
			}
		})
	}
}

// TestStampUnsettled: an entry changed within the racy window, or a .git
// file whose repository lives elsewhere, makes a stamp that must not be
// kept.
func TestStampUnsettled(t *testing.T) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	// The fixture's ctimes are when it was made: a window shorter than
	// the wait after it leaves it settled.
	racyWindow = 100 * time.Millisecond
	dir := stampFixture(t)
	time.Sleep(2 * racyWindow)
	if s := mustStamp(t, dir); s.Unsettled != "" || s.Entries < 14 {
		t.Fatalf("fixture stamp: %+v", s)
	}
	if err := os.WriteFile(filepath.Join(dir, "vars", "dev.pkrvars.hcl"), []byte("x = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s := mustStamp(t, dir); !strings.HasPrefix(s.Unsettled, "vars") {
		t.Errorf("a file written now: Unsettled = %q, want the file or its directory", s.Unsettled)
	}

	dir = stampFixture(t)
	if err := os.WriteFile(filepath.Join(dir, "templates", ".git"), []byte("gitdir: /elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * racyWindow)
	if s := mustStamp(t, dir); !strings.Contains(s.Unsettled, "templates/.git") {
		t.Errorf("a .git file: Unsettled = %q", s.Unsettled)
	}
}

// TestStampIsDeterministic: the same workspace stamps the same however the
// walk is scheduled, and a missing workspace is an error.
func TestStampIsDeterministic(t *testing.T) {
	dir := stampFixture(t)
	// Enough directories that the walk reads many at once.
	for i := range 40 {
		sub := filepath.Join(dir, "templates", fmt.Sprintf("t%02d", i), "scripts")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for j := range 5 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("s%d.sh", j)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := mustStamp(t, dir)
	if first.Entries < 19+40*7 {
		t.Fatalf("stamped %d entries", first.Entries)
	}
	for range 20 {
		if s := mustStamp(t, dir); s.Digest != first.Digest || s.Entries != first.Entries {
			t.Fatalf("stamps differ: %+v, then %+v", first, s)
		}
	}
	if _, err := StampWorkspace(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing workspace was stamped")
	}
}

// TestStampFiles: files outside the workspace are stamped by their stat,
// or as absent.
func TestStampFiles(t *testing.T) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0
	dir := t.TempDir()
	cfg := filepath.Join(dir, "gitconfig")
	absent := StampFiles(cfg)
	if err := os.WriteFile(cfg, []byte("[user]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(cfg, old, old); err != nil {
		t.Fatal(err)
	}
	present := StampFiles(cfg)
	if present.Digest == absent.Digest || present.Entries != 1 || present.Unsettled != "" {
		t.Fatalf("absent %+v, present %+v", absent, present)
	}
	if err := os.WriteFile(cfg, []byte("[core]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if StampFiles(cfg).Digest == present.Digest {
		t.Error("an edited file stamps the same")
	}
	racyWindow = time.Hour
	if s := StampFiles(cfg); s.Unsettled == "" {
		t.Error("a file written now is settled")
	}
}
