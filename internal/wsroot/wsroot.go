// Package wsroot is the one way hybrid opens files of a workspace: through
// Go's os.Root, so that no path and no symbolic link (committed in a source
// or made by hand) leads outside the workspace. Only regular files are
// read, and a refused path is named in the error, its content never read.
//
// It also checks the directories hybrid writes (configs, logs, state,
// sources): each must be a real directory inside the workspace, not a link
// that sends writes elsewhere.
package wsroot

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/hybridcore/hybrid/internal/atomicfile"
)

// MaxFileSize bounds what ReadFile reads: a workspace file hybrid parses or
// hashes in memory (a template, a var file) is never this large, and a
// bigger one is refused rather than exhausting memory.
const MaxFileSize = 64 << 20

// ErrOutside is wrapped by every error about a path or link that leads
// outside the workspace.
var ErrOutside = errors.New("leads outside the workspace")

// Root is an open workspace.
type Root struct {
	dir  string
	root *os.Root
}

// Open opens the workspace directory dir.
func Open(dir string) (*Root, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Root{dir: dir, root: r}, nil
}

// Dir is the workspace directory as given to Open.
func (r *Root) Dir() string { return r.dir }

// Close releases the workspace's directory handle.
func (r *Root) Close() error { return r.root.Close() }

// Clean checks a workspace-relative slash path and cleans it: absolute
// paths and paths climbing above the workspace are refused.
func Clean(name string) (string, error) {
	c := path.Clean(strings.ReplaceAll(name, "\\", "/"))
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", &fs.PathError{Op: "open", Path: name, Err: ErrOutside}
	}
	return c, nil
}

// wrap turns os.Root's escape errors into ErrOutside, naming the path.
func wrap(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && (strings.Contains(pe.Err.Error(), "escapes") || strings.Contains(pe.Err.Error(), "outside")) {
		return &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("a symbolic link in the path %w", ErrOutside)}
	}
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: name, Err: pe.Err}
	}
	return err
}

// ReadFile reads a regular file of the workspace. Devices, pipes and
// sockets are refused (a link to /dev/zero must not hang a plan), and so
// are files larger than MaxFileSize.
func (r *Root) ReadFile(name string) ([]byte, error) {
	c, err := Clean(name)
	if err != nil {
		return nil, err
	}
	// Non-blocking, so a FIFO cannot hang the open; regular files read
	// as usual.
	f, err := r.root.OpenFile(c, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, wrap("open", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, wrap("stat", name, err)
	}
	switch {
	case fi.IsDir():
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	case !fi.Mode().IsRegular():
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is not a regular file")}
	case fi.Size() > MaxFileSize:
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("is larger than %d MiB", MaxFileSize>>20)}
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, wrap("read", name, err)
	}
	if len(b) > MaxFileSize {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("is larger than %d MiB", MaxFileSize>>20)}
	}
	return b, nil
}

// ReadDir lists a workspace directory, sorted by name. Entries are not
// followed: a link is listed as a link.
func (r *Root) ReadDir(name string) ([]fs.DirEntry, error) {
	c, err := Clean(name)
	if err != nil {
		return nil, err
	}
	f, err := r.root.Open(c)
	if err != nil {
		return nil, wrap("open", name, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, wrap("readdir", name, err)
	}
	sortEntries(entries)
	return entries, nil
}

// Stat describes a workspace path, following links that stay inside.
func (r *Root) Stat(name string) (fs.FileInfo, error) {
	c, err := Clean(name)
	if err != nil {
		return nil, err
	}
	fi, err := r.root.Stat(c)
	return fi, wrap("stat", name, err)
}

// Lstat describes a workspace path without following a final link.
func (r *Root) Lstat(name string) (fs.FileInfo, error) {
	c, err := Clean(name)
	if err != nil {
		return nil, err
	}
	fi, err := r.root.Lstat(c)
	return fi, wrap("lstat", name, err)
}

// Open opens a workspace file for reading.
func (r *Root) Open(name string) (*os.File, error) {
	c, err := Clean(name)
	if err != nil {
		return nil, err
	}
	f, err := r.root.Open(c)
	return f, wrap("open", name, err)
}

// CheckDir checks that the workspace directory rel, if it exists, is a real
// directory inside the workspace: neither it nor any directory above it
// (up to the workspace) is a symbolic link, so writes into it stay inside.
// A missing directory is fine: hybrid creates it as a real directory.
func (r *Root) CheckDir(rel string) error {
	c, err := Clean(rel)
	if err != nil {
		return err
	}
	if c == "." {
		return nil
	}
	parts := strings.Split(c, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		fi, err := r.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return wrap("lstat", p, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symbolic link: hybrid writes into %s, which must be a real directory inside the workspace; replace the link with a directory", p, rel)
		case !fi.IsDir():
			return fmt.Errorf("%s is not a directory: hybrid writes into %s; move it away", p, rel)
		}
	}
	return nil
}

// MkdirAll creates a workspace directory and its parents as real
// directories, refusing links on the way.
func (r *Root) MkdirAll(rel string, perm fs.FileMode) error {
	if err := r.CheckDir(rel); err != nil {
		return err
	}
	c, _ := Clean(rel)
	return wrap("mkdir", rel, r.root.MkdirAll(c, perm))
}

// Create creates (or truncates) the workspace file rel for writing, in a
// directory that must pass CheckDir, refusing a link at rel itself.
func (r *Root) Create(rel string, perm fs.FileMode) (*os.File, error) {
	c, err := Clean(rel)
	if err != nil {
		return nil, err
	}
	if err := r.MkdirAll(path.Dir(c), 0o755); err != nil {
		return nil, err
	}
	if fi, err := r.root.Lstat(c); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link: hybrid writes the file itself; remove the link", rel)
	}
	f, err := r.root.OpenFile(c, os.O_CREATE|os.O_WRONLY|os.O_TRUNC|syscall.O_NOFOLLOW, perm)
	return f, wrap("create", rel, err)
}

func sortEntries(entries []fs.DirEntry) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
}

// WriteFile replaces the workspace file rel with data atomically and
// durably, as internal/atomicfile does, through the root: the temporary
// file, the rename and the directory fsync all stay inside the workspace,
// and the directory must pass CheckDir. It reports false, writing nothing,
// when the file already holds exactly data.
func (r *Root) WriteFile(rel string, data []byte, perm fs.FileMode) (changed bool, err error) {
	c, err := Clean(rel)
	if err != nil {
		return false, err
	}
	dir := path.Dir(c)
	if err := r.CheckDir(dir); err != nil {
		return false, err
	}
	if fi, err := r.root.Lstat(c); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return false, fmt.Errorf("%s is a symbolic link: hybrid writes the file itself; remove the link", rel)
	}
	if old, err := r.ReadFile(c); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return false, err
	}
	tmp := path.Join(dir, atomicfile.TempPrefix+path.Base(c)+"-"+hex.EncodeToString(rnd[:]))
	f, err := r.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return false, wrap("write", rel, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			r.root.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return false, fmt.Errorf("write %s: %w", rel, err)
	}
	if err = f.Chmod(perm); err != nil {
		return false, fmt.Errorf("write %s: %w", rel, err)
	}
	if err = f.Sync(); err != nil {
		return false, fmt.Errorf("write %s: fsync: %w", rel, err)
	}
	if err = f.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", rel, err)
	}
	if err = r.root.Rename(tmp, c); err != nil {
		return false, wrap("write", rel, err)
	}
	d, err := r.root.Open(dir)
	if err != nil {
		return true, wrap("fsync", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return true, fmt.Errorf("fsync %s: %w", dir, err)
	}
	return true, nil
}

// ReadOwn reads a file hybrid keeps for itself at path (a cache, the
// digest key): never through a link, since hybrid writes none, and only a
// regular file, so a link to /dev/zero or a FIFO in its place cannot hang
// or exhaust a command. The directory holding it must have been checked
// to be a real one (CheckDir).
func ReadOwn(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("is not a regular file")}
	}
	data := make([]byte, 0, fi.Size()+512)
	buf := bytes.NewBuffer(data)
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return buf.Bytes(), nil
}
