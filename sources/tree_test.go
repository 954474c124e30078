package sources

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixtureFile is one entry of a commit made by commitFixture.
type fixtureFile struct {
	// mode is the git mode: 100644, 100755, 120000 (content is the link's
	// target) or 160000 (content is the submodule's commit).
	mode    string
	content string
}

// commitFixture makes a repository in a temporary directory, of the object
// format format ("sha1" or "sha256"), with one commit holding exactly files,
// and returns its .git directory and the commit. Entries are written to the
// index directly, so links and submodules need no support from the file
// system.
func commitFixture(t testing.TB, env []string, format string, files map[string]fixtureFile) (string, string) {
	t.Helper()
	dir := t.TempDir()
	gitT(t, env, dir, "init", "--quiet", "--object-format="+format, dir)
	blobs := t.TempDir()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var blobList, index strings.Builder
	var blobPaths []string
	for i, p := range paths {
		if files[p].mode == "160000" {
			continue
		}
		b := filepath.Join(blobs, strconv.Itoa(i))
		writeFile(t, b, files[p].content)
		blobList.WriteString(b + "\n")
		blobPaths = append(blobPaths, p)
	}
	oids := strings.Fields(gitIn(t, env, dir, blobList.String(), "hash-object", "-w", "--no-filters", "--stdin-paths"))
	if len(oids) != len(blobPaths) {
		t.Fatalf("hash-object gave %d names for %d files", len(oids), len(blobPaths))
	}
	oidOf := make(map[string]string)
	for i, p := range blobPaths {
		oidOf[p] = oids[i]
	}
	for _, p := range paths {
		oid := oidOf[p]
		if files[p].mode == "160000" {
			oid = files[p].content
		}
		fmt.Fprintf(&index, "%s %s\t%s\n", files[p].mode, oid, p)
	}
	gitIn(t, env, dir, index.String(), "update-index", "--add", "--index-info")
	tree := gitT(t, env, dir, "write-tree")
	commit := gitT(t, env, dir, "commit-tree", "-m", "fixture", tree)
	return filepath.Join(dir, ".git"), commit
}

// gitIn runs git with stdin as its standard input and returns its trimmed
// output.
func gitIn(t testing.TB, env []string, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// fixtureFiles is the tree most tests read: nested directories, an
// executable, links inside the tree (to a file, to a directory, through
// another link, back up to a directory above), links leading outside it, a
// dangling link, a link loop and a submodule.
func fixtureFiles(format string) map[string]fixtureFile {
	sub := strings.Repeat("5", 40)
	if format == "sha256" {
		sub = strings.Repeat("5", 64)
	}
	return map[string]fixtureFile{
		"README.md":     {"100644", "readme\n"},
		"bin/run.sh":    {"100755", "#!/bin/sh\necho hi\n"},
		"a/b/c.txt":     {"100644", "deep\n"},
		"a/b/d.txt":     {"100644", "other\n"},
		"a/file-link":   {"120000", "b/c.txt"},
		"a/dir-link":    {"120000", "b"},
		"a/b/back":      {"120000", ".."},
		"a/b/up":        {"120000", "../../README.md"},
		"a/escape":      {"120000", "../../outside.txt"},
		"a/sneaky":      {"120000", "../../repo/README.md"},
		"abs":           {"120000", "/etc/passwd"},
		"chain":         {"120000", "a/file-link"},
		"via-dir-link":  {"120000", "a/dir-link/d.txt"},
		"dangling":      {"120000", "nope.txt"},
		"loop1":         {"120000", "loop2"},
		"loop2":         {"120000", "loop1"},
		"sub":           {"160000", sub},
		"file-as-dir":   {"120000", "README.md/x"},
		"escape-via-up": {"120000", "a/dir-link/../../.."},
	}
}

// fixtureTree opens the tree of fixtureFiles, closed when the test ends.
func fixtureTree(t testing.TB, format string) (*Tree, *Git, string) {
	t.Helper()
	g := newTestGit(t)
	gitDir, commit := commitFixture(t, g.Env, format, fixtureFiles(format))
	tr, err := g.OpenTree(context.Background(), gitDir, commit)
	if err != nil {
		t.Fatalf("OpenTree: %v", err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr, g, gitDir
}

// revParse returns the object name of rev in gitDir.
func revParse(t testing.TB, env []string, gitDir, rev string) string {
	t.Helper()
	return gitT(t, env, gitDir, "--git-dir="+gitDir, "rev-parse", "--verify", rev)
}

func TestTreeReadFile(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"sha1", "sha256"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			tr, _, _ := fixtureTree(t, format)
			tests := map[string]struct {
				name string
				want string
				is   error
			}{
				"top file":                  {name: "README.md", want: "readme\n"},
				"nested file":               {name: "a/b/c.txt", want: "deep\n"},
				"executable":                {name: "bin/run.sh", want: "#!/bin/sh\necho hi\n"},
				"link to a file":            {name: "a/file-link", want: "deep\n"},
				"through a linked dir":      {name: "a/dir-link/d.txt", want: "other\n"},
				"link up to the root":       {name: "a/b/up", want: "readme\n"},
				"link to a link":            {name: "chain", want: "deep\n"},
				"link through a linked dir": {name: "via-dir-link", want: "other\n"},
				"through the cycle link":    {name: "a/b/back/b/c.txt", want: "deep\n"},
				"missing":                   {name: "nope", is: fs.ErrNotExist},
				"missing in a dir":          {name: "a/b/nope", is: fs.ErrNotExist},
				"under a file":              {name: "README.md/x", is: fs.ErrNotExist},
				"dangling link":             {name: "dangling", is: fs.ErrNotExist},
				"link under a file":         {name: "file-as-dir", is: fs.ErrNotExist},
				"link leading up and out":   {name: "a/escape", is: ErrLinkOutside},
				"link out and back in":      {name: "a/sneaky", is: ErrLinkOutside},
				"absolute link":             {name: "abs", is: ErrLinkOutside},
				"link up then out":          {name: "escape-via-up", is: ErrLinkOutside},
				"link loop":                 {name: "loop1", is: errLinkLoop},
				"directory":                 {name: "a", is: errIsDir},
				"submodule":                 {name: "sub", is: errSubmodule},
				"absolute path":             {name: "/etc/passwd", is: fs.ErrInvalid},
				"parent path":               {name: "../x", is: fs.ErrInvalid},
				"dot dot inside":            {name: "a/../README.md", is: fs.ErrInvalid},
				"trailing slash":            {name: "a/", is: fs.ErrInvalid},
				"empty":                     {name: "", is: fs.ErrInvalid},
			}
			for name, tc := range tests {
				got, err := tr.ReadFile(tc.name)
				if tc.is != nil {
					if !errors.Is(err, tc.is) {
						t.Errorf("%s: ReadFile(%q) = %q, %v; want an error wrapping %v", name, tc.name, got, err, tc.is)
					}
					continue
				}
				if err != nil || string(got) != tc.want {
					t.Errorf("%s: ReadFile(%q) = %q, %v; want %q", name, tc.name, got, err, tc.want)
				}
			}
		})
	}
}

func TestTreeLinkOutsideMessage(t *testing.T) {
	t.Parallel()
	tr, _, _ := fixtureTree(t, "sha1")
	tests := map[string]string{
		"a/escape": "read a/escape: symbolic link a/escape -> ../../outside.txt leads outside the source",
		"abs":      "read abs: symbolic link abs -> /etc/passwd leads outside the source",
		// The link blamed is the one whose ".." climbs out, not the last.
		"escape-via-up": "read escape-via-up: symbolic link escape-via-up -> a/dir-link/../../.. leads outside the source",
	}
	for name, want := range tests {
		_, err := tr.ReadFile(name)
		if err == nil || err.Error() != want {
			t.Errorf("ReadFile(%q): %v, want %q", name, err, want)
		}
	}
	for _, op := range []func(string) error{
		func(n string) error { _, err := tr.Stat(n); return err },
		func(n string) error { _, err := tr.Open(n); return err },
		func(n string) error { _, err := tr.Digest(n); return err },
		func(n string) error { _, err := tr.ReadDir(n); return err },
	} {
		if err := op("abs"); !errors.Is(err, ErrLinkOutside) {
			t.Errorf("abs: %v, want ErrLinkOutside", err)
		}
	}
	if target, err := tr.ReadLink("abs"); err != nil || target != "/etc/passwd" {
		t.Errorf("ReadLink(abs) = %q, %v; want the target as recorded", target, err)
	}
	if fi, err := tr.Lstat("abs"); err != nil || fi.Mode().Type() != fs.ModeSymlink || fi.Size() != int64(len("/etc/passwd")) {
		t.Errorf("Lstat(abs) = %v, %v; want a link of the target's length", fi, err)
	}
	if _, err := tr.ReadLink("README.md"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("ReadLink of a file: %v, want fs.ErrInvalid", err)
	}
}

func TestTreeReadDir(t *testing.T) {
	t.Parallel()
	tr, _, _ := fixtureTree(t, "sha1")
	type ent struct {
		Name string
		Type fs.FileMode
	}
	list := func(name string) ([]ent, error) {
		entries, err := tr.ReadDir(name)
		var out []ent
		for _, e := range entries {
			if e.IsDir() != (e.Type() == fs.ModeDir) {
				t.Errorf("%s/%s: IsDir %v with type %v", name, e.Name(), e.IsDir(), e.Type())
			}
			out = append(out, ent{e.Name(), e.Type()})
		}
		return out, err
	}
	ab := []ent{{"back", fs.ModeSymlink}, {"c.txt", 0}, {"d.txt", 0}, {"up", fs.ModeSymlink}}
	tests := map[string]struct {
		want []ent
		is   error
	}{
		".": {want: []ent{
			{"README.md", 0}, {"a", fs.ModeDir}, {"abs", fs.ModeSymlink}, {"bin", fs.ModeDir},
			{"chain", fs.ModeSymlink}, {"dangling", fs.ModeSymlink}, {"escape-via-up", fs.ModeSymlink},
			{"file-as-dir", fs.ModeSymlink}, {"loop1", fs.ModeSymlink}, {"loop2", fs.ModeSymlink},
			{"sub", fs.ModeIrregular}, {"via-dir-link", fs.ModeSymlink},
		}},
		"a": {want: []ent{
			{"b", fs.ModeDir}, {"dir-link", fs.ModeSymlink}, {"escape", fs.ModeSymlink},
			{"file-link", fs.ModeSymlink}, {"sneaky", fs.ModeSymlink},
		}},
		"a/b":          {want: ab},
		"a/dir-link":   {want: ab},
		"a/b/back/b":   {want: ab},
		"bin":          {want: []ent{{"run.sh", 0}}},
		"README.md":    {is: errNotDir},
		"nope":         {is: fs.ErrNotExist},
		"a/escape":     {is: ErrLinkOutside},
		"a/b/../b":     {is: fs.ErrInvalid},
		"sub":          {is: fs.ErrNotExist},
		"a/file-link/": {is: fs.ErrInvalid},
	}
	for name, tc := range tests {
		got, err := list(name)
		if tc.is != nil {
			if !errors.Is(err, tc.is) {
				t.Errorf("ReadDir(%q) = %v, %v; want an error wrapping %v", name, got, err, tc.is)
			}
			continue
		}
		if err != nil {
			t.Errorf("ReadDir(%q): %v", name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ReadDir(%q): wrong entries (-want +got):\n%s", name, diff)
		}
	}
}

func TestTreeStat(t *testing.T) {
	t.Parallel()
	tr, g, gitDir := fixtureTree(t, "sha1")
	type info struct {
		Name  string
		Size  int64
		Mode  fs.FileMode
		IsDir bool
	}
	tests := map[string]struct {
		stat, lstat info
	}{
		"README.md":   {stat: info{"README.md", 7, 0o644, false}},
		"bin/run.sh":  {stat: info{"run.sh", 18, 0o755, false}},
		"a":           {stat: info{"a", 0, fs.ModeDir | 0o755, true}},
		".":           {stat: info{".", 0, fs.ModeDir | 0o755, true}},
		"a/file-link": {stat: info{"file-link", 5, 0o644, false}, lstat: info{"file-link", 7, fs.ModeSymlink | 0o777, false}},
		"a/dir-link":  {stat: info{"dir-link", 0, fs.ModeDir | 0o755, true}, lstat: info{"dir-link", 1, fs.ModeSymlink | 0o777, false}},
		"sub":         {stat: info{"sub", 0, fs.ModeIrregular, false}},
	}
	commitTime := gitT(t, g.Env, gitDir, "--git-dir="+gitDir, "show", "-s", "--format=%ct", tr.Commit())
	for name, tc := range tests {
		for _, op := range []string{"stat", "lstat"} {
			want := tc.stat
			fi, err := tr.Stat(name)
			if op == "lstat" {
				if tc.lstat.Name != "" {
					want = tc.lstat
				}
				fi, err = tr.Lstat(name)
			}
			if err != nil {
				t.Errorf("%s(%q): %v", op, name, err)
				continue
			}
			got := info{fi.Name(), fi.Size(), fi.Mode(), fi.IsDir()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s(%q): wrong info (-want +got):\n%s", op, name, diff)
			}
			if s := strconv.FormatInt(fi.ModTime().Unix(), 10); s != commitTime {
				t.Errorf("%s(%q): ModTime %v, want the commit's date %s", op, name, fi.ModTime(), commitTime)
			}
		}
	}
	for name, is := range map[string]error{"nope": fs.ErrNotExist, "dangling": fs.ErrNotExist, "loop1": errLinkLoop, "abs": ErrLinkOutside} {
		if _, err := tr.Stat(name); !errors.Is(err, is) {
			t.Errorf("Stat(%q): %v, want an error wrapping %v", name, err, is)
		}
	}
	if fi, err := tr.Lstat("dangling"); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("Lstat(dangling) = %v, %v; want the link itself", fi, err)
	}
}

func TestTreeDigest(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"sha1", "sha256"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			tr, g, gitDir := fixtureTree(t, format)
			oid := func(path string) string { return "git:" + revParse(t, g.Env, gitDir, tr.Commit()+":"+path) }
			tests := map[string]string{
				"README.md":        oid("README.md"),
				"bin/run.sh":       oid("bin/run.sh"),
				"a/b/c.txt":        oid("a/b/c.txt"),
				"a/file-link":      oid("a/b/c.txt"),
				"chain":            oid("a/b/c.txt"),
				"a/dir-link/d.txt": oid("a/b/d.txt"),
			}
			for name, want := range tests {
				if got, err := tr.Digest(name); err != nil || got != want {
					t.Errorf("Digest(%q) = %q, %v; want %q", name, got, err, want)
				}
			}
			for name, is := range map[string]error{"nope": fs.ErrNotExist, "dangling": fs.ErrNotExist, "a": errIsDir, "sub": errSubmodule, "abs": ErrLinkOutside, "../x": fs.ErrInvalid} {
				if got, err := tr.Digest(name); !errors.Is(err, is) {
					t.Errorf("Digest(%q) = %q, %v; want an error wrapping %v", name, got, err, is)
				}
			}
		})
	}
}

func TestTreeWalk(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"sha1", "sha256"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			tr, g, gitDir := fixtureTree(t, format)
			oid := func(path string) string { return "git:" + revParse(t, g.Env, gitDir, tr.Commit()+":"+path) }
			c, d, readme := oid("a/b/c.txt"), oid("a/b/d.txt"), oid("README.md")
			// a/b/back leads to a, a directory above a/b: a cycle, never
			// read. a/dir-link leads to a/b, which is not above a: read.
			underA := []TreeEntry{
				{"a/b/c.txt", c}, {"a/b/d.txt", d}, {"a/b/up", readme},
				{"a/dir-link/c.txt", c}, {"a/dir-link/d.txt", d}, {"a/dir-link/up", readme},
				{"a/escape", "outside-workspace"}, {"a/file-link", c}, {"a/sneaky", "outside-workspace"},
			}
			tests := map[string][]TreeEntry{
				"a": underA,
				".": append(append([]TreeEntry{{"README.md", readme}}, underA...),
					TreeEntry{"abs", "outside-workspace"}, TreeEntry{"bin/run.sh", oid("bin/run.sh")},
					TreeEntry{"chain", c}, TreeEntry{"dangling", "missing"}, TreeEntry{"escape-via-up", "outside-workspace"},
					TreeEntry{"file-as-dir", "missing"}, TreeEntry{"loop1", "missing"}, TreeEntry{"loop2", "missing"},
					TreeEntry{"sub", "not-a-file"}, TreeEntry{"via-dir-link", d},
				),
				// Walked from the link, a/b/back leads to a, which is not
				// above: read, but for a/b (and a/dir-link) inside it.
				"a/dir-link": {
					{"a/dir-link/back/escape", "outside-workspace"}, {"a/dir-link/back/file-link", c}, {"a/dir-link/back/sneaky", "outside-workspace"},
					{"a/dir-link/c.txt", c}, {"a/dir-link/d.txt", d}, {"a/dir-link/up", readme},
				},
				"bin":         {{"bin/run.sh", oid("bin/run.sh")}},
				"a/b/c.txt":   {{"a/b/c.txt", c}},
				"a/file-link": {{"a/file-link", c}},
				"sub":         {{"sub", "not-a-file"}},
				"abs":         {{"abs", "outside-workspace"}},
				"nope":        nil,
				"dangling":    nil,
				"a/b/nope":    nil,
			}
			for dir, want := range tests {
				got, err := tr.Walk(dir)
				if err != nil {
					t.Errorf("Walk(%q): %v", dir, err)
					continue
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Walk(%q): wrong entries (-want +got):\n%s", dir, diff)
				}
			}
			if _, err := tr.Walk("../x"); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("Walk(../x): %v, want fs.ErrInvalid", err)
			}
		})
	}
}

// TestTreeWalkMatchesGit checks Walk against git ls-tree on a tree with no
// links: the same files, with the blob names git reports.
func TestTreeWalkMatchesGit(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	files := map[string]fixtureFile{}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("d%d/e%d/f%d.txt", i%7, i%13, i)] = fixtureFile{"100644", fmt.Sprintf("file %d\n", i)}
	}
	files["x y/ünï cödé.txt"] = fixtureFile{"100755", "spaces and unicode\n"}
	gitDir, commit := commitFixture(t, g.Env, "sha1", files)
	tr, err := g.OpenTree(context.Background(), gitDir, commit)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var want []TreeEntry
	out := gitT(t, g.Env, gitDir, "--git-dir="+gitDir, "-c", "core.quotePath=false", "ls-tree", "-r", "--full-tree", commit)
	for _, line := range strings.Split(out, "\n") {
		meta, p, _ := strings.Cut(line, "\t")
		want = append(want, TreeEntry{Path: p, Digest: "git:" + strings.Fields(meta)[2]})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Path < want[j].Path })
	got, err := tr.Walk(".")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Walk differs from git ls-tree (-want +got):\n%s", diff)
	}
}

func TestTreeFS(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	gitDir, commit := commitFixture(t, g.Env, "sha1", map[string]fixtureFile{
		"README.md":   {"100644", "readme\n"},
		"bin/run.sh":  {"100755", "#!/bin/sh\n"},
		"a/b/c.txt":   {"100644", "deep\n"},
		"a/b/empty":   {"100644", ""},
		"a/file-link": {"120000", "b/c.txt"},
		"a/dir-link":  {"120000", "b"},
	})
	tr, err := g.OpenTree(context.Background(), gitDir, commit)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := fstest.TestFS(tr, "README.md", "bin/run.sh", "a/b/c.txt", "a/b/empty", "a/file-link", "a/dir-link"); err != nil {
		t.Fatal(err)
	}

	f, err := tr.Open("a/b/c.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close: %v, want fs.ErrClosed", err)
	}
}

func TestTreeSubmodule(t *testing.T) {
	t.Parallel()
	tr, _, _ := fixtureTree(t, "sha1")
	entries, err := tr.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "sub" {
			continue
		}
		info, err := e.Info()
		if e.Type() != fs.ModeIrregular || err != nil || info.Mode() != fs.ModeIrregular {
			t.Errorf("sub: type %v, info %v, %v; want irregular", e.Type(), info, err)
		}
	}
	if _, err := tr.ReadFile("sub"); !errors.Is(err, errSubmodule) || !strings.Contains(err.Error(), "is a submodule") {
		t.Errorf("ReadFile(sub): %v, want an error saying it is a submodule", err)
	}
	if _, err := tr.Open("sub"); !errors.Is(err, errSubmodule) {
		t.Errorf("Open(sub): %v, want an error saying it is a submodule", err)
	}
	if _, err := tr.ReadFile("sub/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(sub/x): %v, want fs.ErrNotExist", err)
	}
}

func TestOpenTreeErrors(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	gitDir, commit := commitFixture(t, g.Env, "sha1", map[string]fixtureFile{"f": {"100644", "f\n"}})
	ctx := context.Background()
	tree := revParse(t, g.Env, gitDir, commit+"^{tree}")
	gitfile := filepath.Join(t.TempDir(), "gitfile")
	writeFile(t, gitfile, "gitdir: "+gitDir+"\n")
	tests := map[string]struct {
		gitDir, commit string
		is             error
		says           string
	}{
		"missing commit":       {gitDir, strings.Repeat("1", 40), fs.ErrNotExist, "commit 1111111111111111111111111111111111111111 is not in " + gitDir},
		"other object format":  {gitDir, strings.Repeat("1", 64), fs.ErrNotExist, "is not in"},
		"a tree, not a commit": {gitDir, tree, nil, "is a tree, not a commit"},
		"short commit":         {gitDir, commit[:12], ErrInvalid, "not a full commit hash"},
		"option commit":        {gitDir, "--output=x", ErrInvalid, "not a full commit hash"},
		"missing directory":    {filepath.Join(t.TempDir(), "nope"), commit, fs.ErrNotExist, ""},
		"file pointing away":   {gitfile, commit, ErrNotRepository, "is not a git directory"},
		"not a repository":     {t.TempDir(), commit, nil, "git cat-file"},
	}
	for name, tc := range tests {
		tr, err := g.OpenTree(ctx, tc.gitDir, tc.commit)
		if err == nil {
			tr.Close()
			t.Errorf("%s: OpenTree succeeded", name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want an error wrapping %v", name, err, tc.is)
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %q does not say %q", name, err, tc.says)
		}
	}
}

func TestTreeConcurrentReads(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	files := map[string]fixtureFile{}
	for i := 0; i < 100; i++ {
		files[fmt.Sprintf("d%d/f%d.txt", i%10, i)] = fixtureFile{"100644", strings.Repeat(fmt.Sprintf("%d\n", i), i)}
	}
	files["link"] = fixtureFile{"120000", "d1"}
	gitDir, commit := commitFixture(t, g.Env, "sha1", files)
	tr, err := g.OpenTree(context.Background(), gitDir, commit)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := (w * 7) % 100; i < 100+(w*7)%100; i++ {
				n := i % 100
				name := fmt.Sprintf("d%d/f%d.txt", n%10, n)
				b, err := tr.ReadFile(name)
				if err != nil || string(b) != files[name].content {
					errs <- fmt.Errorf("ReadFile(%s) = %d bytes, %v", name, len(b), err)
					return
				}
				if fi, err := tr.Stat(name); err != nil || fi.Size() != int64(len(b)) {
					errs <- fmt.Errorf("Stat(%s) = %v, %v", name, fi, err)
					return
				}
				if _, err := tr.Digest(name); err != nil {
					errs <- err
					return
				}
			}
			if list, err := tr.Walk("."); err != nil || len(list) != 110 {
				errs <- fmt.Errorf("Walk = %d entries, %v; want 110", len(list), err)
			}
			if _, err := tr.ReadDir("link"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// alive reports whether process pid is running (a zombie is not).
func alive(pid int) bool {
	if runtime.GOOS == "linux" {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		return len(f) > 0 && f[0] != "Z"
	}
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// waitGone waits up to 10 seconds for process pid to end.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("git process %d is still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTreeCloseStopsGit(t *testing.T) {
	t.Parallel()
	tr, _, _ := fixtureTree(t, "sha1")
	if _, err := tr.Stat("README.md"); err != nil { // starts --batch-check too
		t.Fatal(err)
	}
	pids := []int{tr.batch.cmd.Process.Pid, tr.check.cmd.Process.Pid}
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("git process %d is not running before Close", pid)
		}
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("git process %d still runs after Close", pid)
		}
	}
	calls := map[string]func() error{
		"ReadFile": func() error { _, err := tr.ReadFile("README.md"); return err },
		"Open":     func() error { _, err := tr.Open("README.md"); return err },
		"ReadDir":  func() error { _, err := tr.ReadDir("."); return err },
		"Stat":     func() error { _, err := tr.Stat("a"); return err },
		"Digest":   func() error { _, err := tr.Digest("README.md"); return err },
		"Walk":     func() error { _, err := tr.Walk("."); return err },
		"ReadLink": func() error { _, err := tr.ReadLink("abs"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, fs.ErrClosed) || !strings.Contains(err.Error(), "tree of commit") {
			t.Errorf("%s after Close: %v, want an error wrapping fs.ErrClosed", name, err)
		}
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestTreeRestartsDeadGit(t *testing.T) {
	t.Parallel()
	tr, _, _ := fixtureTree(t, "sha1")
	if _, err := tr.ReadFile("README.md"); err != nil {
		t.Fatal(err)
	}
	old := tr.batch.cmd.Process.Pid
	if err := tr.batch.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, old)
	if b, err := tr.ReadFile("a/b/c.txt"); err != nil || string(b) != "deep\n" {
		t.Fatalf("ReadFile after git died = %q, %v; want the content from a new git", b, err)
	}
	if tr.batch.cmd.Process.Pid == old {
		t.Error("the dead git was not replaced")
	}
}

func TestTreeContextEndsGit(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	gitDir, commit := commitFixture(t, g.Env, "sha1", map[string]fixtureFile{"d/f": {"100644", "f\n"}})
	ctx, cancel := context.WithCancel(context.Background())
	tr, err := g.OpenTree(ctx, gitDir, commit)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	pid := tr.batch.cmd.Process.Pid
	cancel()
	waitGone(t, pid)
	if _, err := tr.ReadFile("d/f"); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadFile after the context ended: %v, want context.Canceled", err)
	}
}

// treeChildEnv marks the test binary run by TestTreeGitDiesWithHybrid as the
// hybrid that is killed.
const treeChildEnv = "HYBRID_TEST_TREE_CHILD"

func init() {
	if os.Getenv(treeChildEnv) != "1" {
		return
	}
	// The child: open a tree, report git's pid, and wait to be killed.
	g := &Git{Bin: os.Getenv("HYBRID_TEST_GIT")}
	tr, err := g.OpenTree(context.Background(), os.Getenv("HYBRID_TEST_GIT_DIR"), os.Getenv("HYBRID_TEST_COMMIT"))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(tr.batch.cmd.Process.Pid)
	time.Sleep(time.Minute)
	os.Exit(2)
}

// TestTreeGitDiesWithHybrid kills a process holding an open Tree, as a
// SIGKILL or the OOM killer would, and checks its git does not live on.
func TestTreeGitDiesWithHybrid(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux only")
	}
	g := newTestGit(t)
	gitDir, commit := commitFixture(t, g.Env, "sha1", map[string]fixtureFile{"f": {"100644", "f\n"}})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(g.Env[:len(g.Env):len(g.Env)], treeChildEnv+"=1", "HYBRID_TEST_GIT="+g.Bin, "HYBRID_TEST_GIT_DIR="+gitDir, "HYBRID_TEST_COMMIT="+commit)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the child's git pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child: %s", line)
	}
	if !alive(pid) {
		t.Fatalf("the child's git %d is not running", pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	waitGone(t, pid)
}

func TestParseTree(t *testing.T) {
	t.Parallel()
	raw := func(b byte) string { return string(bytes.Repeat([]byte{b}, 20)) }
	hexOf := func(b byte) string { return strings.Repeat(fmt.Sprintf("%02x", b), 20) }
	tests := map[string]struct {
		data    string
		want    []treeEntry
		wantErr bool
	}{
		"empty": {data: ""},
		"kinds": {
			data: "100644 f\x00" + raw(1) + "100755 x\x00" + raw(2) + "40000 d\x00" + raw(3) +
				"120000 l\x00" + raw(4) + "160000 s\x00" + raw(5) + "100664 old\x00" + raw(6) + "20000 weird\x00" + raw(7),
			want: []treeEntry{
				{"d", hexOf(3), kindDir}, {"f", hexOf(1), kindFile}, {"l", hexOf(4), kindLink},
				{"old", hexOf(6), kindFile}, {"s", hexOf(5), kindSubmodule}, {"weird", hexOf(7), kindOther}, {"x", hexOf(2), kindExec},
			},
		},
		"git order is not name order": {
			data: "100644 a-b\x00" + raw(1) + "40000 a\x00" + raw(2),
			want: []treeEntry{{"a", hexOf(2), kindDir}, {"a-b", hexOf(1), kindFile}},
		},
		"names git never checks out": {
			data: "100644 ..\x00" + raw(1) + "40000 .git\x00" + raw(2) + "100644 .GIT\x00" + raw(3) + "100644 a/b\x00" + raw(4) + "100644 .\x00" + raw(5) + "100644 ok\x00" + raw(6),
			want: []treeEntry{{"ok", hexOf(6), kindFile}},
		},
		"no mode":        {data: " f\x00" + raw(1), wantErr: true},
		"bad mode":       {data: "10x644 f\x00" + raw(1), wantErr: true},
		"no name end":    {data: "100644 f", wantErr: true},
		"short oid":      {data: "100644 f\x00" + raw(1)[:19], wantErr: true},
		"no space":       {data: "100644f\x00" + raw(1), wantErr: true},
		"trailing bytes": {data: "100644 f\x00" + raw(1) + "1", wantErr: true},
	}
	for name, tc := range tests {
		got, err := parseTree([]byte(tc.data), 20)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", name, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(treeEntry{})); diff != "" {
			t.Errorf("%s: wrong entries (-want +got):\n%s", name, diff)
		}
	}
}

// FuzzParseTree checks that no tree object, however malformed, makes
// parseTree panic or return a name that is not a single path element.
func FuzzParseTree(f *testing.F) {
	f.Add([]byte("100644 f\x00"+strings.Repeat("a", 20)+"40000 d\x00"+strings.Repeat("b", 20)), 20)
	f.Add([]byte("120000 l\x00"+strings.Repeat("c", 32)), 32)
	f.Fuzz(func(t *testing.T, data []byte, rawLen int) {
		if rawLen != 20 && rawLen != 32 {
			return
		}
		entries, err := parseTree(data, rawLen)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !validEntryName(e.name) || len(e.oid) != 2*rawLen {
				t.Errorf("entry %+v", e)
			}
		}
	})
}

// TestTreeLargeBlob checks that Stat does not read a big file and that
// ReadFile does.
func TestTreeLargeBlob(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	gitDir, commit := commitFixture(t, g.Env, "sha1", map[string]fixtureFile{"big": {"100644", big}, "small": {"100644", "s"}})
	tr, err := g.OpenTree(context.Background(), gitDir, commit)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if fi, err := tr.Stat("big"); err != nil || fi.Size() != int64(len(big)) {
		t.Fatalf("Stat(big) = %v, %v", fi, err)
	}
	if tr.batch.out.Buffered() != 0 {
		t.Error("Stat left output of git cat-file --batch unread")
	}
	f, err := tr.Open("big")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil || string(b) != big {
		t.Errorf("reading big: %d bytes, %v", len(b), err)
	}
	if b, err := tr.ReadFile("small"); err != nil || string(b) != "s" {
		t.Errorf("ReadFile(small) after big = %q, %v", b, err)
	}
}

// BenchmarkTreeWalk opens and walks a cold tree of 20,000 files in 2,000
// directories, as plan does for each source.
func BenchmarkTreeWalk(b *testing.B) {
	g := newTestGit(b)
	files := make(map[string]fixtureFile, 20000)
	for i := 0; i < 20000; i++ {
		files[fmt.Sprintf("d%02d/e%02d/f%d.txt", i%20, (i/20)%100, i)] = fixtureFile{"100644", strconv.Itoa(i)}
	}
	gitDir, commit := commitFixture(b, g.Env, "sha1", files)
	// A store's objects are packed, as a fetch leaves them.
	gitT(b, g.Env, gitDir, "--git-dir="+gitDir, "gc", "--quiet")
	b.ResetTimer()
	for b.Loop() {
		tr, err := g.OpenTree(context.Background(), gitDir, commit)
		if err != nil {
			b.Fatal(err)
		}
		list, err := tr.Walk(".")
		if err != nil || len(list) != 20000 {
			b.Fatalf("Walk = %d entries, %v", len(list), err)
		}
		tr.Close()
	}
}

// TestTreeLoadAll reads the whole listing at once: walks, listings and
// digests then agree with the lazy reads, and need no request to git.
func TestTreeLoadAll(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	files := map[string]fixtureFile{
		"README.md":     {"100644", "readme\n"},
		"bin/run.sh":    {"100755", "#!/bin/sh\n"},
		"a/b/c.txt":     {"100644", "deep\n"},
		"a/file-link":   {"120000", "b/c.txt"},
		"a/dir-link":    {"120000", "b"},
		"a/escape-link": {"120000", "../../outside"},
	}
	for i := 0; i < 100; i++ {
		files[fmt.Sprintf("d%d/e%d/f%d.txt", i%7, i%5, i)] = fixtureFile{"100644", fmt.Sprintf("file %d\n", i)}
	}
	for _, format := range []string{"sha1", "sha256"} {
		gitDir, commit := commitFixture(t, g.Env, format, files)
		lazy, err := g.OpenTree(context.Background(), gitDir, commit)
		if err != nil {
			t.Fatal(err)
		}
		defer lazy.Close()
		loaded, err := g.OpenTree(context.Background(), gitDir, commit)
		if err != nil {
			t.Fatal(err)
		}
		defer loaded.Close()
		if err := loaded.LoadAll(); err != nil {
			t.Fatalf("%s: LoadAll: %v", format, err)
		}
		loaded.cacheMu.RLock()
		n := len(loaded.trees)
		loaded.cacheMu.RUnlock()
		if n < 20 {
			t.Errorf("%s: LoadAll cached %d trees, want every directory", format, n)
		}
		for _, dir := range []string{".", "a", "d3", "d3/e2", "bin", "a/dir-link"} {
			want, err := lazy.Walk(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := loaded.Walk(dir)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: Walk(%s) after LoadAll (-lazy +loaded):\n%s", format, dir, diff)
			}
		}
		for _, name := range []string{"a/b/c.txt", "bin/run.sh", "a/file-link"} {
			want, _ := lazy.Digest(name)
			got, err := loaded.Digest(name)
			if err != nil || got != want {
				t.Errorf("%s: Digest(%s) = %q, %v; want %q", format, name, got, err, want)
			}
		}
	}
}

// TestOpenListed: a tree opened from the Listing of another reads the
// same as it, starting no git process until a file's content is read; a
// listing that does not parse is refused.
func TestOpenListed(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	files := map[string]fixtureFile{
		"README.md":   {"100644", "readme\n"},
		"bin/run.sh":  {"100755", "#!/bin/sh\n"},
		"a/b/c.txt":   {"100644", "deep\n"},
		"a/file-link": {"120000", "b/c.txt"},
		"a/dir-link":  {"120000", "b"},
	}
	for _, format := range []string{"sha1", "sha256"} {
		gitDir, commit := commitFixture(t, g.Env, format, files)
		loaded, err := g.OpenTree(context.Background(), gitDir, commit)
		if err != nil {
			t.Fatal(err)
		}
		defer loaded.Close()
		if l := loaded.Listing(); l != nil {
			t.Fatalf("%s: a listing before LoadAll", format)
		}
		if err := loaded.LoadAll(); err != nil {
			t.Fatal(err)
		}
		l := loaded.Listing()
		if l == nil || l.Commit != commit {
			t.Fatalf("%s: Listing() = %+v after LoadAll", format, l)
		}
		listed, err := g.OpenListed(context.Background(), gitDir, l)
		if err != nil {
			t.Fatal(err)
		}
		defer listed.Close()
		if d, err := listed.Digest("bin/run.sh"); err != nil || d != mustDigest(t, loaded, "bin/run.sh") {
			t.Errorf("%s: Digest = %q, %v", format, d, err)
		}
		if _, err := listed.ReadDir("a/b"); err != nil {
			t.Error(err)
		}
		if listed.batch != nil || listed.check != nil {
			t.Errorf("%s: OpenListed started git before a content read", format)
		}
		for _, dir := range []string{".", "a", "a/dir-link"} {
			want, _ := loaded.Walk(dir)
			got, err := listed.Walk(dir)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: Walk(%s) (-OpenTree +OpenListed):\n%s", format, dir, diff)
			}
		}
		if b, err := listed.ReadFile("a/file-link"); err != nil || string(b) != "deep\n" {
			t.Errorf("%s: ReadFile = %q, %v", format, b, err)
		}
		if fi, err := listed.Stat("bin/run.sh"); err != nil || fi.ModTime() != mustStat(t, loaded, "bin/run.sh").ModTime() {
			t.Errorf("%s: Stat = %v, %v", format, fi, err)
		}
		bad := *l
		bad.Trees = append(append([]byte{}, l.Trees...), "garbage"...)
		if _, err := g.OpenListed(context.Background(), gitDir, &bad); err == nil {
			t.Errorf("%s: OpenListed took a listing that does not parse", format)
		}
	}
}

func mustStat(t *testing.T, tr *Tree, name string) fs.FileInfo {
	t.Helper()
	fi, err := tr.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func mustDigest(t *testing.T, tr *Tree, name string) string {
	t.Helper()
	d, err := tr.Digest(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
