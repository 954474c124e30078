package plan

import (
	"crypto/sha256"
	"encoding/hex"
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
)

// Tree is the content of a set of files: each file's digest by
// workspace-relative path, and one digest over all of them.
type Tree struct {
	Digest string
	Files  map[string]string
}

// Hasher computes file and tree digests under a workspace root, through a
// stat cache, hashing in parallel. It memoises trees, so builds sharing a
// template directory hash it once per plan.
type Hasher struct {
	root  string
	cache *StatCache
	// prefix is the cleaned root with a trailing separator, "" for ".".
	prefix string

	mu    sync.Mutex
	trees map[string]*Tree
}

// NewHasher returns a Hasher for the workspace root; cache may be nil.
func NewHasher(root string, cache *StatCache) *Hasher {
	h := &Hasher{root: root, cache: cache, trees: map[string]*Tree{}}
	switch clean := filepath.Clean(root); {
	case clean == ".":
	case strings.HasSuffix(clean, string(filepath.Separator)):
		h.prefix = clean
	default:
		h.prefix = clean + string(filepath.Separator)
	}
	return h
}

// Dir returns the tree of every regular file under the workspace-relative
// directory rel, recursively, skipping .git directories. A missing
// directory is an empty tree.
func (h *Hasher) Dir(rel string) (*Tree, error) {
	return h.memo("dir:"+rel, func() ([]string, error) {
		var files []string
		abs := filepath.Join(h.root, filepath.FromSlash(rel))
		err := filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && p == abs {
					return fs.SkipAll
				}
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
				files = append(files, h.rel(p))
			}
			return nil
		})
		return files, err
	})
}

// Glob returns the tree of the files matching a workspace-relative glob,
// where ** matches any number of directories.
func (h *Hasher) Glob(pattern string) (*Tree, error) {
	return h.memo("glob:"+pattern, func() ([]string, error) {
		base := globBase(pattern)
		var files []string
		abs := filepath.Join(h.root, filepath.FromSlash(base))
		err := filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && p == abs {
					return fs.SkipAll
				}
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			rel := h.rel(p)
			if matchGlob(pattern, rel) {
				files = append(files, rel)
			}
			return nil
		})
		return files, err
	})
}

// Files returns the tree of the given workspace-relative files; a missing
// file has the digest "missing".
func (h *Hasher) Files(paths ...string) (*Tree, error) {
	key := "files:" + strings.Join(paths, "\x00")
	return h.memo(key, func() ([]string, error) { return paths, nil })
}

func (h *Hasher) rel(abs string) string {
	// Walks start at filepath.Join(root, ...), so their paths start with
	// the cleaned root; a root of "." leaves them relative already.
	if h.prefix == "" {
		return filepath.ToSlash(abs)
	}
	if strings.HasPrefix(abs, h.prefix) {
		return filepath.ToSlash(abs[len(h.prefix):])
	}
	r, err := filepath.Rel(h.root, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(r)
}

func (h *Hasher) memo(key string, list func() ([]string, error)) (*Tree, error) {
	h.mu.Lock()
	if t, ok := h.trees[key]; ok {
		h.mu.Unlock()
		return t, nil
	}
	h.mu.Unlock()
	files, err := list()
	if err != nil {
		return nil, err
	}
	t, err := h.tree(files)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.trees[key] = t
	h.mu.Unlock()
	return t, nil
}

// tree hashes files (through the cache) and combines them.
func (h *Hasher) tree(files []string) (*Tree, error) {
	t := &Tree{Files: make(map[string]string, len(files))}
	digests, err := h.hashAll(files)
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		t.Files[f] = digests[i]
	}
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
	s := sha256.New()
	for _, n := range names {
		io.WriteString(s, n)
		s.Write([]byte{0})
		io.WriteString(s, files[n])
		s.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(s.Sum(nil))
}

// hashAll returns the digest of every file, in order. Workers on all CPUs
// each take the next file, stat it, and hash it unless the stat cache
// vouches for its digest.
func (h *Hasher) hashAll(files []string) ([]string, error) {
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
		buf := getBuffer()
		defer putBuffer(buf)
		for !failed.Load() {
			i := int(next.Add(1) - 1)
			if i >= len(files) {
				return
			}
			d, err := h.digest(files[i], buf)
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

// digest returns one workspace-relative file's digest: from the stat cache
// when the file's stat is unchanged, else by hashing it. The stat is taken
// before the content is read, so a file that changes while it is read is
// recorded with the older stat and hashed again by the next plan.
func (h *Hasher) digest(rel string, buf []byte) (string, error) {
	abs := h.abs(rel)
	fi, err := os.Stat(abs)
	if err != nil {
		if os.IsNotExist(err) {
			return "missing", nil
		}
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "not-a-file", nil
	}
	st := statOf(fi)
	if d, ok := h.cache.lookup(rel, st); ok {
		return d, nil
	}
	d, err := hashFile(abs, buf)
	if err != nil {
		return "", err
	}
	h.cache.record(rel, st, d)
	return d, nil
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
