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

	mu    sync.Mutex
	trees map[string]*Tree
}

// NewHasher returns a Hasher for the workspace root; cache may be nil.
func NewHasher(root string, cache *StatCache) *Hasher {
	return &Hasher{root: root, cache: cache, trees: map[string]*Tree{}}
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

// hashAll returns the digest of every file, in order, hashing the files the
// stat cache cannot vouch for on all CPUs.
func (h *Hasher) hashAll(files []string) ([]string, error) {
	out := make([]string, len(files))
	type job struct {
		i  int
		st fileStat
	}
	var todo []job
	for i, f := range files {
		fi, err := os.Stat(filepath.Join(h.root, filepath.FromSlash(f)))
		if err != nil {
			if os.IsNotExist(err) {
				out[i] = "missing"
				continue
			}
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			out[i] = "not-a-file"
			continue
		}
		st := statOf(fi)
		if d, ok := h.cache.lookup(f, st); ok {
			out[i] = d
			continue
		}
		todo = append(todo, job{i, st})
	}
	if len(todo) == 0 {
		return out, nil
	}
	workers := runtime.GOMAXPROCS(0)
	if workers > len(todo) {
		workers = len(todo)
	}
	jobs := make(chan job)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256*1024)
			for j := range jobs {
				d, err := hashFile(filepath.Join(h.root, filepath.FromSlash(files[j.i])), buf)
				if err != nil {
					errs <- err
					for range jobs {
					}
					return
				}
				out[j.i] = d
				h.cache.record(files[j.i], j.st, d)
			}
		}()
	}
	for _, j := range todo {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return out, nil
}

func hashFile(p string, buf []byte) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	defer f.Close()
	s := sha256.New()
	if _, err := io.CopyBuffer(s, f, buf); err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	return "sha256:" + hex.EncodeToString(s.Sum(nil)), nil
}

// Digest returns the sha256 digest of data in the form files use.
func Digest(data []byte) string {
	s := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(s[:])
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
