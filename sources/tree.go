package sources

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrLinkOutside is wrapped by the errors of a Tree for a symbolic link whose
// target is absolute or climbs above the repository root. Such a link is
// never followed: nothing outside the source is read.
var ErrLinkOutside = errors.New("symbolic link leads outside the source")

// errLinkLoop is a path with more than maxLinkHops symbolic links on its way.
var errLinkLoop = errors.New("too many levels of symbolic links")

// maxLinkHops bounds the symbolic links followed while resolving one path,
// as the kernel's MAXSYMLINKS does.
const maxLinkHops = 40

// maxLinkTarget bounds the target of a symbolic link (PATH_MAX on Linux).
// The blob of a longer one is not read.
const maxLinkTarget = 4096

// maxWalkEntries bounds what Walk lists, so that directories linked to one
// another many times cannot make a listing without end.
const maxWalkEntries = 1 << 20

// Digests of Walk entries that are not regular files, as the plan package
// names the same cases in a checkout.
const (
	digestMissing  = "missing"           // a link to nothing, or a link loop
	digestNotAFile = "not-a-file"        // a submodule
	digestOutside  = "outside-workspace" // a link leading outside the tree, never read
)

// Tree is the file tree of one commit, read from git objects with one
// long-lived `git cat-file --batch` process (and a `git cat-file
// --batch-check` for sizes, started on first Stat), shared by goroutines
// under a mutex. Parsed trees are kept in memory, so each directory is read
// from git once. Close stops the processes; a Tree used after Close returns
// errors wrapping fs.ErrClosed. The processes also end when the context
// given to OpenTree is done.
//
// Tree implements fs.FS, fs.ReadFileFS, fs.ReadDirFS, fs.StatFS and
// fs.ReadLinkFS with slash-separated paths relative to the repository root
// ("." is the root), like os.DirFS over a checkout of the commit, except
// that a symbolic link leading outside the repository is refused (with an
// error wrapping ErrLinkOutside) instead of followed. Regular files have mode
// 0o644, or 0o755 when git records them executable; directories ModeDir|0o755;
// submodules ModeIrregular; every ModTime is the commit's committer date.
//
// File contents are the blobs as git stores them: no smudge or end-of-line
// filters apply (a Git LFS file reads as its pointer).
type Tree struct {
	git    *Git
	ctx    context.Context
	env    []string
	gitDir string
	commit string
	root   string // the root tree's object name
	rawLen int    // bytes in a raw object name: 20 (SHA-1) or 32 (SHA-256)
	mtime  time.Time

	closed atomic.Bool
	mu     sync.Mutex // serialises requests to the processes
	batch  *catFile   // git cat-file --batch
	check  *catFile   // git cat-file --batch-check

	cacheMu sync.RWMutex
	trees   map[string][]treeEntry // parsed trees by object name
	links   map[string]string      // link targets by blob name
	// object is the commit object, and listing what LoadAll read (see
	// Listing).
	object  []byte
	listing []byte
}

var (
	_ fs.FS         = (*Tree)(nil)
	_ fs.ReadFileFS = (*Tree)(nil)
	_ fs.ReadDirFS  = (*Tree)(nil)
	_ fs.StatFS     = (*Tree)(nil)
	_ fs.ReadLinkFS = (*Tree)(nil)
)

// TreeEntry is a file found by Walk.
type TreeEntry struct {
	// Path is slash-separated, relative to the repository root.
	Path string
	// Digest is "git:<blob object name>" for a regular file;
	// "outside-workspace" for a link leading outside the tree (never
	// followed); "not-a-file" for a submodule; "missing" for a link to
	// nothing (or a link loop).
	Digest string
}

// OpenTree opens commit's tree in the git directory gitDir (a bare store or
// a checkout's .git directory). It starts git cat-file and reads the commit
// at once, so a missing commit is an error here (wrapping fs.ErrNotExist),
// for the caller to report with the source's name. The Tree's processes run
// until Close, or until ctx is done.
func (g *Git) OpenTree(ctx context.Context, gitDir, commit string) (*Tree, error) {
	if !IsFullCommit(commit) {
		return nil, fmt.Errorf("%w: %q is not a full commit hash", ErrInvalid, commit)
	}
	abs, err := gitDirPath(gitDir)
	if err != nil {
		return nil, err
	}
	commit = strings.ToLower(commit)
	t := &Tree{
		git:    g,
		ctx:    ctx,
		env:    withGitDir(g.environ(nil), abs),
		gitDir: abs,
		commit: commit,
		rawLen: len(commit) / 2,
		trees:  make(map[string][]treeEntry),
		links:  make(map[string]string),
	}
	data, err := t.read(commit, "commit", -1)
	if err != nil {
		t.Close()
		var me *missingObjectError
		if errors.As(err, &me) {
			return nil, fmt.Errorf("commit %s is not in %s: %w", commit, gitDir, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("read commit %s in %s: %w", short(commit), gitDir, err)
	}
	if err := t.parseCommit(data); err != nil {
		t.Close()
		return nil, err
	}
	t.object = data
	return t, nil
}

// parseCommit takes the root tree and the committer date from a commit.
func (t *Tree) parseCommit(data []byte) error {
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			break // the message follows
		}
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "tree":
			t.root = strings.ToLower(v)
		case "committer":
			// "Name <email> 1704164645 +0000"
			if f := strings.Fields(v[strings.LastIndexByte(v, '>')+1:]); len(f) == 2 {
				if sec, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					t.mtime = time.Unix(sec, 0).UTC()
				}
			}
		}
	}
	if len(t.root) != 2*t.rawLen || !isHex(t.root) {
		return fmt.Errorf("commit %s in %s has no readable tree; run git fsck there", t.commit, t.gitDir)
	}
	return nil
}

// Commit returns the commit the tree is of, in lower case.
func (t *Tree) Commit() string { return t.commit }

// Close stops the tree's git processes. Later calls of the Tree's methods
// fail. Close may be called more than once.
func (t *Tree) Close() error {
	t.closed.Store(true)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range []**catFile{&t.batch, &t.check} {
		if *p != nil {
			(*p).stop()
			*p = nil
		}
	}
	return nil
}

// errClosed says the tree is closed.
func (t *Tree) errClosed() error {
	return fmt.Errorf("tree of commit %s: %w", short(t.commit), fs.ErrClosed)
}

// Open opens the file or directory name, following symbolic links.
func (t *Tree) Open(name string) (fs.File, error) {
	n, err := t.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	switch n.e.kind {
	case kindDir:
		entries, err := t.tree(n.e.oid)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &dirFile{info: t.info(path.Base(name), n.e, 0), entries: t.dirEntries(entries)}, nil
	case kindFile, kindExec:
		data, err := t.read(n.e.oid, "blob", -1)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &blobFile{info: t.info(path.Base(name), n.e, int64(len(data))), r: bytes.NewReader(data)}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: notRegular(n.e.kind)}
}

// ReadFile returns the content of the regular file name, following links.
func (t *Tree) ReadFile(name string) ([]byte, error) {
	n, err := t.resolve("read", name, true)
	if err != nil {
		return nil, err
	}
	if n.e.kind != kindFile && n.e.kind != kindExec {
		return nil, &fs.PathError{Op: "read", Path: name, Err: notRegular(n.e.kind)}
	}
	data, err := t.read(n.e.oid, "blob", -1)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// ReadDir lists the directory name (following links to it), sorted by
// name. Links in it are listed as links (ModeSymlink), not followed, as
// os.ReadDir does.
func (t *Tree) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := t.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if n.e.kind != kindDir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	entries, err := t.tree(n.e.oid)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return t.dirEntries(entries), nil
}

// Stat describes name, following links, as os.Stat does. The size of a
// file comes from git cat-file --batch-check: its content is not read.
func (t *Tree) Stat(name string) (fs.FileInfo, error) {
	return t.stat("stat", name, true)
}

// Lstat describes name without following a link that name itself is, as
// os.Lstat does.
func (t *Tree) Lstat(name string) (fs.FileInfo, error) {
	return t.stat("lstat", name, false)
}

func (t *Tree) stat(op, name string, follow bool) (fs.FileInfo, error) {
	n, err := t.resolve(op, name, follow)
	if err != nil {
		return nil, err
	}
	fi, err := t.infoOf(path.Base(name), n.e)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return fi, nil
}

// ReadLink returns the target of the symbolic link name, as git records it,
// whether or not it leads inside the tree.
func (t *Tree) ReadLink(name string) (string, error) {
	n, err := t.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.e.kind != kindLink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	target, err := t.linkTarget(n.e.oid)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}

// Digest returns the content digest of the regular file name, following
// links: "git:<blob object name>". It reads no content. A missing path
// gives an error wrapping fs.ErrNotExist.
func (t *Tree) Digest(name string) (string, error) {
	n, err := t.resolve("digest", name, true)
	if err != nil {
		return "", err
	}
	if n.e.kind != kindFile && n.e.kind != kindExec {
		return "", &fs.PathError{Op: "digest", Path: name, Err: notRegular(n.e.kind)}
	}
	return "git:" + n.e.oid, nil
}

// Walk lists every file under dir, recursively (dir itself when it is a
// file), sorted by Path. It follows links to files and to directories that
// stay inside the tree; a linked directory that leads back to a directory
// on the way down to it is a cycle and is not read again. A missing dir
// gives no entries and no error. Walk reads trees only, never file
// contents (but the targets of links).
func (t *Tree) Walk(dir string) ([]TreeEntry, error) {
	n, err := t.resolve("walk", dir, true)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errLinkLoop):
		return nil, nil
	case errors.Is(err, ErrLinkOutside):
		return []TreeEntry{{Path: dir, Digest: digestOutside}}, nil
	case err != nil:
		return nil, err
	}
	if n.e.kind != kindDir {
		return []TreeEntry{{Path: dir, Digest: entryDigest(n.e)}}, nil
	}
	type job struct {
		oid, display, real string
		above              []string // real paths of the directories on the way
	}
	display := dir
	if dir == "." {
		display = ""
	}
	var out []TreeEntry
	// Level by level, so the trees of a whole level are asked of git at
	// once rather than one round trip each.
	level := []job{{oid: n.e.oid, display: display, real: n.path}}
	for len(level) > 0 {
		var oids []string
		for _, j := range level {
			oids = append(oids, j.oid)
		}
		if err := t.prefetchTrees(oids); err != nil {
			return nil, &fs.PathError{Op: "walk", Path: dir, Err: err}
		}
		var next []job
		for _, j := range level {
			if containsString(j.above, j.real) {
				continue // a link back to a directory above: a cycle
			}
			above := append(append(make([]string, 0, len(j.above)+1), j.above...), j.real)
			entries, err := t.tree(j.oid)
			if err != nil {
				return nil, &fs.PathError{Op: "walk", Path: joinPath(j.display, ""), Err: err}
			}
			for _, e := range entries {
				p := joinPath(j.display, e.name)
				switch e.kind {
				case kindDir:
					next = append(next, job{oid: e.oid, display: p, real: joinPath(j.real, e.name), above: above})
					continue
				case kindLink:
					target, err := t.lookup(joinPath(j.real, e.name), true)
					switch {
					case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errLinkLoop):
						out = append(out, TreeEntry{Path: p, Digest: digestMissing})
					case errors.Is(err, ErrLinkOutside):
						out = append(out, TreeEntry{Path: p, Digest: digestOutside})
					case err != nil:
						return nil, &fs.PathError{Op: "walk", Path: p, Err: err}
					case target.e.kind == kindDir:
						next = append(next, job{oid: target.e.oid, display: p, real: target.path, above: above})
					default:
						out = append(out, TreeEntry{Path: p, Digest: entryDigest(target.e)})
					}
				default:
					out = append(out, TreeEntry{Path: p, Digest: entryDigest(e)})
				}
				if len(out) > maxWalkEntries {
					return nil, fmt.Errorf("walk %s in commit %s: more than %d files; do linked directories repeat each other?", dir, short(t.commit), maxWalkEntries)
				}
			}
		}
		level = next
	}
	slices.SortFunc(out, func(a, b TreeEntry) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// entryDigest is the Walk digest of a resolved entry that is not a
// directory.
func entryDigest(e treeEntry) string {
	if e.kind == kindFile || e.kind == kindExec {
		return "git:" + e.oid
	}
	return digestNotAFile
}

func joinPath(dir, name string) string {
	switch {
	case dir == "" || dir == ".":
		if name == "" {
			return "."
		}
		return name
	case name == "":
		return dir
	}
	return dir + "/" + name
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// entryKind is what a tree entry is, from its git mode.
type entryKind uint8

const (
	kindFile      entryKind = iota // 100644 (and other 100xxx without x)
	kindExec                       // 100755
	kindDir                        // 040000
	kindLink                       // 120000: the blob holds the target
	kindSubmodule                  // 160000: a commit of another repository
	kindOther                      // anything else git would not check out
)

func kindOf(mode uint64) entryKind {
	switch mode & 0o170000 {
	case 0o100000:
		if mode&0o100 != 0 {
			return kindExec
		}
		return kindFile
	case 0o040000:
		return kindDir
	case 0o120000:
		return kindLink
	case 0o160000:
		return kindSubmodule
	}
	return kindOther
}

func (k entryKind) mode() fs.FileMode {
	switch k {
	case kindFile:
		return 0o644
	case kindExec:
		return 0o755
	case kindDir:
		return fs.ModeDir | 0o755
	case kindLink:
		return fs.ModeSymlink | 0o777
	}
	return fs.ModeIrregular
}

// notRegular is the error for reading an entry that is not a regular file.
func notRegular(k entryKind) error {
	switch k {
	case kindDir:
		return errIsDir
	case kindSubmodule:
		return errSubmodule
	}
	return errNotRegular
}

var (
	errIsDir      = errors.New("is a directory")
	errSubmodule  = errors.New("is a submodule (a commit of another repository), not a file")
	errNotRegular = errors.New("is not a regular file")
)

// errNotDir is a path going through something that is not a directory. It
// counts as not existing, as there is nothing at that path.
var errNotDir error = notDirError{}

type notDirError struct{}

func (notDirError) Error() string        { return "not a directory" }
func (notDirError) Is(target error) bool { return target == fs.ErrNotExist }

// linkError is a symbolic link that cannot be followed.
type linkError struct {
	// Link is the link's path in the tree; Target what it holds.
	Link, Target string
	// Err is ErrLinkOutside or errLinkLoop.
	Err error
}

func (e *linkError) Error() string {
	if e.Err == errLinkLoop {
		return fmt.Sprintf("%v at %s", e.Err, e.Link)
	}
	return fmt.Sprintf("symbolic link %s -> %s leads outside the source", e.Link, e.Target)
}

func (e *linkError) Unwrap() error { return e.Err }

// treeEntry is one entry of a git tree.
type treeEntry struct {
	name string
	oid  string // hexadecimal, lower case
	kind entryKind
}

// parseTree reads a tree object: entries "<octal mode> <name>\0<raw object
// name>". Entries whose name git would never check out ("", ".", "..",
// ".git", names with '/') are dropped. The result is sorted by name.
func parseTree(data []byte, rawLen int) ([]treeEntry, error) {
	// Names and object names are cut out of two strings, one allocation
	// each, rather than allocated one by one: a big repository has many
	// thousands of entries.
	text := string(data)
	hexNames := make([]byte, 0, len(data)/(rawLen+8)*2*rawLen+2*rawLen)
	type span struct {
		name       string
		start, end int // of the object name in hexNames
		kind       entryKind
	}
	spans := make([]span, 0, len(data)/(rawLen+8)+1)
	for pos := 0; pos < len(text); {
		sp := strings.IndexByte(text[pos:], ' ')
		if sp <= 0 {
			return nil, errors.New("malformed tree object: no mode")
		}
		mode, err := strconv.ParseUint(text[pos:pos+sp], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("malformed tree object: mode %q", text[pos:pos+sp])
		}
		pos += sp + 1
		nul := strings.IndexByte(text[pos:], 0)
		if nul < 0 || len(text)-pos < nul+1+rawLen {
			return nil, errors.New("malformed tree object: truncated entry")
		}
		name := text[pos : pos+nul]
		raw := data[pos+nul+1 : pos+nul+1+rawLen]
		pos += nul + 1 + rawLen
		if !validEntryName(name) {
			continue
		}
		start := len(hexNames)
		hexNames = hex.AppendEncode(hexNames, raw)
		spans = append(spans, span{name: name, start: start, end: len(hexNames), kind: kindOf(mode)})
	}
	if len(spans) == 0 {
		return nil, nil
	}
	oids := string(hexNames)
	entries := make([]treeEntry, len(spans))
	for i, sp := range spans {
		entries[i] = treeEntry{name: sp.name, oid: oids[sp.start:sp.end], kind: sp.kind}
	}
	// git sorts a directory as if its name ended in '/'; fs wants names.
	slices.SortStableFunc(entries, func(a, b treeEntry) int { return strings.Compare(a.name, b.name) })
	return entries, nil
}

func validEntryName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.EqualFold(name, ".git") && !strings.Contains(name, "/")
}

func findEntry(entries []treeEntry, name string) (treeEntry, bool) {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].name >= name })
	if i < len(entries) && entries[i].name == name {
		return entries[i], true
	}
	return treeEntry{}, false
}

// node is a resolved path: the entry found and its path from the root with
// no link on the way ("." for the root).
type node struct {
	path string
	e    treeEntry
}

// resolve finds name in the tree, following links on the way, and the
// final one too when follow is set. Errors are *fs.PathError with op.
func (t *Tree) resolve(op, name string, follow bool) (node, error) {
	if !fs.ValidPath(name) {
		return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if t.closed.Load() {
		return node{}, &fs.PathError{Op: op, Path: name, Err: t.errClosed()}
	}
	n, err := t.lookup(name, follow)
	if err != nil {
		return node{}, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return n, nil
}

// pathPart is one element of a path being resolved, with the link whose
// target it comes from (nil for the path asked for).
type pathPart struct {
	name string
	link *linkError
}

func (t *Tree) lookup(name string, follow bool) (node, error) {
	type frame struct{ name, oid string }
	stack := []frame{{oid: t.root}}
	here := func(name string) string {
		var b strings.Builder
		for _, f := range stack[1:] {
			b.WriteString(f.name)
			b.WriteByte('/')
		}
		b.WriteString(name)
		if b.Len() == 0 {
			return "."
		}
		return strings.TrimSuffix(b.String(), "/")
	}
	var pending []pathPart
	if name != "." {
		for _, p := range strings.Split(name, "/") {
			pending = append(pending, pathPart{name: p})
		}
	}
	hops := 0
	for len(pending) > 0 {
		part := pending[0]
		pending = pending[1:]
		switch part.name {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				if part.link == nil { // only a link's target has ".."
					return node{}, fs.ErrInvalid
				}
				return node{}, part.link
			}
			stack = stack[:len(stack)-1]
			continue
		}
		entries, err := t.tree(stack[len(stack)-1].oid)
		if err != nil {
			return node{}, err
		}
		e, ok := findEntry(entries, part.name)
		if !ok {
			return node{}, fs.ErrNotExist
		}
		switch e.kind {
		case kindDir:
			stack = append(stack, frame{name: e.name, oid: e.oid})
			continue
		case kindLink:
			if len(pending) == 0 && !follow {
				return node{path: here(e.name), e: e}, nil
			}
			link := &linkError{Link: here(e.name), Err: ErrLinkOutside}
			if hops++; hops > maxLinkHops {
				link.Err = errLinkLoop
				return node{}, link
			}
			target, err := t.linkTarget(e.oid)
			if err != nil {
				return node{}, err
			}
			link.Target = target
			if target == "" {
				return node{}, fs.ErrNotExist
			}
			if strings.HasPrefix(target, "/") {
				return node{}, link
			}
			parts := strings.Split(target, "/")
			next := make([]pathPart, 0, len(parts)+len(pending))
			for _, p := range parts {
				next = append(next, pathPart{name: p, link: link})
			}
			pending = append(next, pending...)
			continue
		}
		if len(pending) > 0 {
			return node{}, errNotDir
		}
		return node{path: here(e.name), e: e}, nil
	}
	top := stack[len(stack)-1]
	n := node{path: here(""), e: treeEntry{name: top.name, oid: top.oid, kind: kindDir}}
	if n.e.name == "" {
		n.e.name = "."
	}
	return n, nil
}

// tree returns the entries of the tree object oid, from the cache or git.
func (t *Tree) tree(oid string) ([]treeEntry, error) {
	t.cacheMu.RLock()
	entries, ok := t.trees[oid]
	t.cacheMu.RUnlock()
	if ok {
		return entries, nil
	}
	data, err := t.read(oid, "tree", -1)
	if err != nil {
		return nil, err
	}
	if entries, err = parseTree(data, t.rawLen); err != nil {
		return nil, fmt.Errorf("tree %s in %s: %w; run git fsck there", oid, t.gitDir, err)
	}
	t.cacheMu.Lock()
	t.trees[oid] = entries
	t.cacheMu.Unlock()
	return entries, nil
}

// linkTarget returns the target of the link whose blob is oid.
func (t *Tree) linkTarget(oid string) (string, error) {
	t.cacheMu.RLock()
	target, ok := t.links[oid]
	t.cacheMu.RUnlock()
	if ok {
		return target, nil
	}
	data, err := t.read(oid, "blob", maxLinkTarget)
	if err != nil {
		return "", err
	}
	target = string(data)
	t.cacheMu.Lock()
	t.links[oid] = target
	t.cacheMu.Unlock()
	return target, nil
}

// info describes entry e under the name name, with size.
func (t *Tree) info(name string, e treeEntry, size int64) *fileInfo {
	return &fileInfo{name: name, size: size, mode: e.kind.mode(), mtime: t.mtime}
}

// infoOf describes e, asking git for the size of a file or link.
func (t *Tree) infoOf(name string, e treeEntry) (*fileInfo, error) {
	var size int64
	if e.kind == kindFile || e.kind == kindExec || e.kind == kindLink {
		var err error
		if size, err = t.size(e.oid); err != nil {
			return nil, err
		}
	}
	return t.info(name, e, size), nil
}

func (t *Tree) dirEntries(entries []treeEntry) []fs.DirEntry {
	out := make([]fs.DirEntry, len(entries))
	for i, e := range entries {
		out[i] = &dirEntry{t: t, e: e}
	}
	return out
}

// fileInfo is an fs.FileInfo of a tree entry.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return nil }

// dirEntry is an fs.DirEntry of a tree entry; Info asks git for sizes.
type dirEntry struct {
	t *Tree
	e treeEntry
}

func (d *dirEntry) Name() string               { return d.e.name }
func (d *dirEntry) IsDir() bool                { return d.e.kind == kindDir }
func (d *dirEntry) Type() fs.FileMode          { return d.e.kind.mode().Type() }
func (d *dirEntry) Info() (fs.FileInfo, error) { return d.t.infoOf(d.e.name, d.e) }
func (d *dirEntry) String() string             { return fs.FormatDirEntry(d) }

// dirFile is an open directory.
type dirFile struct {
	info    *fileInfo
	entries []fs.DirEntry
	closed  bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errIsDir}
}

func (d *dirFile) Close() error {
	d.closed = true
	return nil
}

// ReadDir returns the next n entries (all the rest when n <= 0), as
// fs.ReadDirFile specifies.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.info.name, Err: fs.ErrClosed}
	}
	if n <= 0 {
		list := d.entries
		d.entries = nil
		return list, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	list := d.entries[:n:n]
	d.entries = d.entries[n:]
	return list, nil
}

// blobFile is an open regular file, its content in memory.
type blobFile struct {
	info   *fileInfo
	r      *bytes.Reader
	closed bool
}

func (f *blobFile) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *blobFile) Read(p []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.info.name, Err: fs.ErrClosed}
	}
	return f.r.Read(p)
}

// ReadAt reads at offset off, as io.ReaderAt.
func (f *blobFile) ReadAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.info.name, Err: fs.ErrClosed}
	}
	return f.r.ReadAt(p, off)
}

// Seek sets the offset of the next Read, as io.Seeker.
func (f *blobFile) Seek(offset int64, whence int) (int64, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "seek", Path: f.info.name, Err: fs.ErrClosed}
	}
	return f.r.Seek(offset, whence)
}

func (f *blobFile) Close() error {
	f.closed = true
	return nil
}

// gitDirPath is gitDir made absolute, once checked to be a directory, not
// a file: git reads a file as "gitdir: PATH", a pointer to some other
// repository.
func gitDirPath(gitDir string) (string, error) {
	abs, err := filepath.Abs(gitDir)
	if err != nil {
		return "", err
	}
	if fi, err := os.Lstat(abs); err != nil || !fi.IsDir() {
		if err == nil {
			err = fmt.Errorf("%w: %s is not a git directory", ErrNotRepository, gitDir)
		}
		return "", err
	}
	return abs, nil
}
