package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/hybridcore/hybrid/internal/fsutil"
	"github.com/hybridcore/hybrid/internal/wsroot"
	"github.com/hybridcore/hybrid/sources"
)

// Tree is the content of a set of files: each file's digest by
// workspace-relative path, and one digest over all of them.
type Tree struct {
	Digest string
	Files  map[string]string
	// Outside lists, sorted, the files of the tree that are links leading
	// outside the workspace (digest "outside-workspace").
	Outside []string
}

// Hasher computes file and tree digests under a workspace root, through a
// stat cache, hashing in parallel. It memoises trees, so builds sharing a
// template directory hash it once per plan. Its methods may be called from
// several goroutines.
type Hasher struct {
	root  string
	cache *StatCache
	// files, when set, serves source directories from git objects.
	files *Files

	mu    sync.Mutex
	trees map[string]*treeCall
}

// NewHasher returns a Hasher for the workspace root; cache may be nil.
func NewHasher(root string, cache *StatCache) *Hasher {
	return &Hasher{root: root, cache: cache, trees: map[string]*treeCall{}}
}

// NewHasherFor returns a Hasher reading through the workspace view files:
// source directories are digested from git objects at their locked
// commits, everything else from disk through cache (which may be nil).
func NewHasherFor(files *Files, cache *StatCache) *Hasher {
	h := NewHasher(files.Root(), cache)
	h.files = files
	return h
}

// Digests of tree entries that are not regular files.
const (
	digestMissing  = "missing"    // gone, or a symbolic link to nothing
	digestNotAFile = "not-a-file" // a directory, device, socket or pipe
	// digestOutside is a path or link leading outside the workspace,
	// which hybrid never opens.
	digestOutside = "outside-workspace"
	gitDirName    = ".git"
)

// Dir returns the tree of every regular file under the workspace-relative
// directory rel, recursively, skipping .git directories. A missing
// directory is an empty tree. Symbolic links are followed for rel itself,
// so a template directory may be a link; links inside it count as the
// file they point to ("not-a-file" for a directory).
func (h *Hasher) Dir(rel string) (*Tree, error) {
	return h.memo("dir:"+rel, func() ([]entry, error) {
		return h.list(rel, nil)
	})
}

// Glob returns the tree of the files matching a workspace-relative glob,
// where ** matches any number of directories.
func (h *Hasher) Glob(pattern string) (*Tree, error) {
	return h.memo("glob:"+pattern, func() ([]entry, error) {
		return h.list(globBase(pattern), func(rel string) bool { return matchGlob(pattern, rel) })
	})
}

// Files returns the tree of the given workspace-relative files; a missing
// file has the digest "missing".
func (h *Hasher) Files(paths ...string) (*Tree, error) {
	key := "files:" + strings.Join(paths, "\x00")
	return h.memo(key, func() ([]entry, error) {
		out := make([]entry, len(paths))
		for i, p := range paths {
			out[i] = entry{rel: p, unstated: true}
			if h.files == nil {
				continue
			}
			if m, rest := h.files.resolve(path.Clean(p)); m != nil {
				d, err := objectDigest(m, rest)
				if err != nil {
					return nil, err
				}
				out[i] = entry{rel: p, digest: d}
			}
		}
		return out, nil
	})
}

// objectDigest is the digest of one path inside a source tree: the blob's,
// "missing" or "not-a-file".
func objectDigest(m *mount, rest string) (string, error) {
	t, err := m.get()
	if err != nil {
		return "", err
	}
	d, err := t.Digest(rest)
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, sources.ErrLinkOutside):
		return digestOutside, nil
	case errors.Is(err, fs.ErrNotExist):
		return digestMissing, nil
	}
	if fi, serr := t.Stat(rest); serr == nil && !fi.Mode().IsRegular() {
		return digestNotAFile, nil
	}
	return "", err
}

// list returns the files under base that keep accepts: from git objects
// inside a source, from disk elsewhere, and from both for a directory that
// holds source directories (whose checkouts on disk are not read).
func (h *Hasher) list(base string, keep func(rel string) bool) ([]entry, error) {
	base = path.Clean(base)
	if h.files == nil {
		return h.walk(base, keep, nil)
	}
	if m, rest := h.files.resolve(base); m != nil {
		return treeEntries(m, rest, keep)
	}
	below := h.files.mountsUnder(base)
	skip := map[string]bool{}
	for _, m := range below {
		skip[m.prefix] = true
	}
	out, err := h.walk(base, keep, skip)
	if err != nil {
		return nil, err
	}
	for _, m := range below {
		more, err := treeEntries(m, ".", keep)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, nil
}

// treeEntries lists a source tree's files under rest, as workspace paths.
func treeEntries(m *mount, rest string, keep func(rel string) bool) ([]entry, error) {
	t, err := m.get()
	if err != nil {
		return nil, err
	}
	list, err := t.Walk(rest)
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(list))
	for _, e := range list {
		rel := m.prefix + "/" + e.Path
		// A link leading outside is kept whatever the filter: a glob over
		// a linked directory must not hide that it leads out.
		if keep != nil && !keep(rel) && e.Digest != digestOutside {
			continue
		}
		out = append(out, entry{rel: rel, digest: e.Digest})
	}
	return out, nil
}

// entry is a file a listing found, usually with its stat already taken.
type entry struct {
	rel string
	st  fileStat
	// digest is set for entries that are not regular files.
	digest string
	// unstated entries are stat'ed when they are hashed.
	unstated bool
}

// memo computes the tree for key once per Hasher, even when several
// goroutines ask for it at the same time.
func (h *Hasher) memo(key string, list func() ([]entry, error)) (*Tree, error) {
	h.mu.Lock()
	if c, ok := h.trees[key]; ok {
		h.mu.Unlock()
		<-c.done
		return c.tree, c.err
	}
	c := &treeCall{done: make(chan struct{})}
	h.trees[key] = c
	h.mu.Unlock()
	defer close(c.done)
	files, err := list()
	if err == nil {
		c.tree, err = h.tree(files)
	}
	if err != nil {
		// A failure is not memoised: the next call tries again.
		h.mu.Lock()
		delete(h.trees, key)
		h.mu.Unlock()
		c.err = err
		return nil, err
	}
	return c.tree, nil
}

// derived computes a tree made of other trees once per Hasher under key,
// even when several goroutines ask for it at the same time.
func (h *Hasher) derived(key string, compute func() (*Tree, error)) (*Tree, error) {
	h.mu.Lock()
	if c, ok := h.trees[key]; ok {
		h.mu.Unlock()
		<-c.done
		return c.tree, c.err
	}
	c := &treeCall{done: make(chan struct{})}
	h.trees[key] = c
	h.mu.Unlock()
	defer close(c.done)
	c.tree, c.err = compute()
	if c.err != nil {
		h.mu.Lock()
		delete(h.trees, key)
		h.mu.Unlock()
	}
	return c.tree, c.err
}

// treeCall is one tree being computed, or computed.
type treeCall struct {
	done chan struct{}
	tree *Tree
	err  error
}

// tree hashes files (through the cache) and combines them.
func (h *Hasher) tree(files []entry) (*Tree, error) {
	t := &Tree{Files: make(map[string]string, len(files))}
	digests, err := h.hashAll(files)
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		t.Files[f.rel] = digests[i]
		if digests[i] == digestOutside {
			t.Outside = append(t.Outside, f.rel)
		}
	}
	sort.Strings(t.Outside)
	t.Digest = TreeDigest(t.Files)
	return t, nil
}

// TreeDigest combines per-file digests into one, independent of map order.
func TreeDigest(files map[string]string) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	// One buffer of every line, hashed at once: writing each string to
	// the hash would copy it into a new byte slice first.
	size := 0
	for _, n := range names {
		size += len(n) + len(files[n]) + 2
	}
	buf := make([]byte, 0, size)
	for _, n := range names {
		buf = append(buf, n...)
		buf = append(buf, 0)
		buf = append(buf, files[n]...)
		buf = append(buf, '\n')
	}
	sum := sha256.Sum256(buf)
	return digestString(sum[:])
}

// walk lists the files under the workspace-relative base (or base itself
// when it is a file) that keep accepts (all when keep is nil), each with
// its stat. Directories are read on all CPUs, and each file is stat'ed
// relative to its open directory, which costs the kernel far less than
// resolving its whole path again.
func (h *Hasher) walk(base string, keep func(rel string) bool, skip map[string]bool) ([]entry, error) {
	base = path.Clean(base)
	abs := h.abs(base)
	var fi fs.FileInfo
	var err error
	if ws := h.workspace(); ws != nil {
		// Through os.Root: a base that is (or passes through) a link
		// leading outside the workspace is never read.
		fi, err = ws.Stat(base)
		if errors.Is(err, wsroot.ErrOutside) {
			return []entry{{rel: base, digest: digestOutside}}, nil
		}
	} else {
		fi, err = os.Stat(abs)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	case !fi.IsDir():
		if keep != nil && !keep(base) {
			return nil, nil
		}
		if !fi.Mode().IsRegular() {
			return []entry{{rel: base, digest: digestNotAFile}}, nil
		}
		return []entry{{rel: base, st: statOf(fi)}}, nil
	}
	if base == "." {
		base = ""
	}
	realRoot, err := filepath.EvalSymlinks(h.root)
	if err != nil {
		return nil, err
	}
	w := &walker{keep: keep, skip: skip, realRoot: realRoot, pending: 1, queue: []dirJob{{abs: abs, rel: base}}}
	w.cond = sync.NewCond(&w.mu)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for i := 1; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	w.run()
	wg.Wait()
	if w.err != nil {
		return nil, w.err
	}
	sort.Slice(w.out, func(i, j int) bool { return w.out[i].rel < w.out[j].rel })
	return w.out, nil
}

// walker shares the directories still to read among goroutines.
type walker struct {
	keep func(rel string) bool
	// skip holds directories not to read (source checkouts, which are
	// read from git objects instead).
	skip map[string]bool
	// realRoot is the workspace root with its symlinks resolved: a linked
	// directory is followed only when it leads inside it.
	realRoot string

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []dirJob
	pending int // directories queued or being read
	out     []entry
	err     error
	errRel  string
}

// dirJob is a directory to read, with the identities of the directories
// above it on the way from the walk's base: a linked directory that leads
// back to one of them is a cycle and is not read again.
type dirJob struct {
	abs, rel string
	above    []dirID
}

type dirID struct{ dev, ino uint64 }

func (w *walker) run() {
	var files []entry
	var dirs []dirJob
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && w.pending > 0 && w.err == nil {
			w.cond.Wait()
		}
		if w.pending == 0 || w.err != nil {
			w.mu.Unlock()
			return
		}
		job := w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
		w.mu.Unlock()

		files, dirs = files[:0], dirs[:0]
		err := w.readDir(job, &files, &dirs)

		w.mu.Lock()
		w.out = append(w.out, files...)
		w.queue = append(w.queue, dirs...)
		w.pending += len(dirs) - 1
		// Of several failing directories, report the first by path, so
		// the error does not depend on scheduling.
		if err != nil && (w.err == nil || job.rel < w.errRel) {
			w.err, w.errRel = err, job.rel
		}
		w.mu.Unlock()
		w.cond.Broadcast()
	}
}

// readDir lists one directory: its files (stat'ed through the open
// directory, following links) and its subdirectories but .git.
func (w *walker) readDir(job dirJob, files *[]entry, dirs *[]dirJob) error {
	fd, err := unix.Open(job.abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: job.abs, Err: err}
	}
	d := os.NewFile(uintptr(fd), job.abs)
	defer d.Close()
	var self unix.Stat_t
	if err := unix.Fstat(fd, &self); err != nil {
		return &fs.PathError{Op: "stat", Path: job.abs, Err: err}
	}
	id := dirID{uint64(self.Dev), self.Ino}
	for _, a := range job.above {
		if a == id {
			return nil // a link back to a directory above: a cycle
		}
	}
	above := append(append(make([]dirID, 0, len(job.above)+1), job.above...), id)
	list, err := d.ReadDir(-1)
	if err != nil {
		return err
	}
	for _, e := range list {
		name := e.Name()
		rel := name
		if job.rel != "" {
			rel = job.rel + "/" + name
		}
		typ := e.Type()
		switch {
		case typ.IsDir():
			if name != gitDirName && !w.skip[rel] {
				*dirs = append(*dirs, dirJob{abs: job.abs + string(filepath.Separator) + name, rel: rel, above: above})
			}
			continue
		case w.keep != nil && !w.keep(rel):
			continue
		case !typ.IsRegular() && typ&fs.ModeSymlink == 0:
			// Devices, sockets and pipes count only where a glob names them.
			if w.keep != nil {
				*files = append(*files, entry{rel: rel, digest: digestNotAFile})
			}
			continue
		}
		if typ&fs.ModeSymlink != 0 {
			// A linked file is read only when it leads inside the
			// workspace.
			target := job.abs + string(filepath.Separator) + name
			if real, err := filepath.EvalSymlinks(target); err == nil && !fsutil.Within(w.realRoot, real) {
				*files = append(*files, entry{rel: rel, digest: digestOutside})
				continue
			}
		}
		var st unix.Stat_t
		switch err := unix.Fstatat(fd, name, &st, 0); {
		case err == unix.ENOENT:
			*files = append(*files, entry{rel: rel, digest: digestMissing})
		case err != nil:
			return &fs.PathError{Op: "stat", Path: job.abs + string(filepath.Separator) + name, Err: err}
		case st.Mode&unix.S_IFMT == unix.S_IFDIR && typ&fs.ModeSymlink != 0:
			// A linked directory (templates often link shared assets) is
			// read like any other when it leads inside the workspace, so a
			// change inside it is seen; elsewhere it counts as not a file.
			target := job.abs + string(filepath.Separator) + name
			if real, err := filepath.EvalSymlinks(target); err == nil && fsutil.Within(w.realRoot, real) {
				*dirs = append(*dirs, dirJob{abs: target, rel: rel, above: above})
			} else {
				*files = append(*files, entry{rel: rel, digest: digestNotAFile})
			}
		case st.Mode&unix.S_IFMT != unix.S_IFREG:
			*files = append(*files, entry{rel: rel, digest: digestNotAFile})
		default:
			*files = append(*files, entry{rel: rel, st: statOfUnix(&st)})
		}
	}
	return nil
}

// hashAll returns the digest of every file, in order. Workers on all CPUs
// each take the next file and hash it unless the stat cache vouches for
// its digest.
func (h *Hasher) hashAll(files []entry) ([]string, error) {
	out := make([]string, len(files))
	workers := runtime.GOMAXPROCS(0)
	if n := (len(files) + minFilesPerWorker - 1) / minFilesPerWorker; workers > n {
		workers = n
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		errAt  = len(files)
		first  error
	)
	work := func() {
		var buf []byte
		defer func() {
			if buf != nil {
				putBuffer(buf)
			}
		}()
		for !failed.Load() {
			i := int(next.Add(1) - 1)
			if i >= len(files) {
				return
			}
			d, err := h.digest(files[i], &buf)
			if err != nil {
				// Report the error of the first failing file, whatever
				// order the workers reached them in.
				mu.Lock()
				if i < errAt {
					errAt, first = i, err
				}
				mu.Unlock()
				failed.Store(true)
				return
			}
			out[i] = d
		}
	}
	if workers <= 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				work()
			}()
		}
		wg.Wait()
	}
	if first != nil {
		return nil, first
	}
	return out, nil
}

// minFilesPerWorker keeps small trees on one goroutine, where starting
// workers would cost more than it saves.
const minFilesPerWorker = 8

// digest returns one file's digest: from the stat cache when the file's
// stat is unchanged, else by hashing it. The stat is taken before the
// content is read, so a file that changes while it is read is recorded with
// the older stat and hashed again by the next plan. buf is the read buffer,
// taken from the pool on first use.
func (h *Hasher) digest(f entry, buf *[]byte) (string, error) {
	if f.digest != "" {
		return f.digest, nil
	}
	abs := h.abs(f.rel)
	st := f.st
	if f.unstated {
		var fi fs.FileInfo
		var err error
		if ws := h.workspace(); ws != nil {
			fi, err = ws.Stat(f.rel)
			if errors.Is(err, wsroot.ErrOutside) {
				return digestOutside, nil
			}
		} else {
			fi, err = os.Stat(abs)
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return digestMissing, nil
			}
			return "", err
		}
		if !fi.Mode().IsRegular() {
			return digestNotAFile, nil
		}
		st = statOf(fi)
	}
	if d, ok := h.cache.lookup(f.rel, st); ok {
		return d, nil
	}
	if *buf == nil {
		*buf = getBuffer()
	}
	d, err := hashFile(abs, *buf)
	if err != nil {
		return "", err
	}
	h.cache.record(f.rel, st, d)
	return d, nil
}

// workspace is the workspace opened through os.Root, when the Hasher reads
// through the workspace view.
func (h *Hasher) workspace() *wsroot.Root {
	if h.files == nil {
		return nil
	}
	return h.files.ws
}

// abs is the path of a workspace-relative file.
func (h *Hasher) abs(rel string) string {
	return filepath.Join(h.root, filepath.FromSlash(rel))
}

// hashBufferSize is the read size: large enough that big files take few
// read calls, small enough that a buffer per CPU costs little.
const hashBufferSize = 256 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, hashBufferSize); return &b }}

func getBuffer() []byte    { return *buffers.Get().(*[]byte) }
func putBuffer(buf []byte) { buffers.Put(&buf) }

// hashFile reads the file to its end through buf. It does not use io.Copy,
// which for an *os.File allocates a buffer of its own on every call.
func hashFile(p string, buf []byte) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	defer f.Close()
	s := sha256.New()
	for {
		n, err := f.Read(buf)
		s.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", p, err)
		}
	}
	var sum [sha256.Size]byte
	return digestString(s.Sum(sum[:0])), nil
}

// digestString formats a sha256 sum as "sha256:<hex>".
func digestString(sum []byte) string {
	const prefix = "sha256:"
	var b [len(prefix) + 2*sha256.Size]byte
	copy(b[:], prefix)
	hex.Encode(b[len(prefix):], sum[:sha256.Size])
	return string(b[:])
}

// Digest returns the sha256 digest of data in the form files use.
func Digest(data []byte) string {
	s := sha256.Sum256(data)
	return digestString(s[:])
}

// matchGlob matches a workspace-relative path against a glob in which **
// stands for any number of path segments.
func matchGlob(pattern, name string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
