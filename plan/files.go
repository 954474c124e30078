package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/hybridcore/hybrid/internal/wsroot"
	"github.com/hybridcore/hybrid/sources"
)

// SourceTree is one source's files at its locked commit, read from git
// objects: what plans read instead of the checkout, so a plan shows what
// apply will build after it syncs. sources.Tree implements it.
type SourceTree interface {
	fs.ReadFileFS
	fs.ReadDirFS
	fs.StatFS
	// Digest returns a regular file's content digest ("git:<oid>").
	Digest(name string) (string, error)
	// Walk lists the files under dir with their digests.
	Walk(dir string) ([]sources.TreeEntry, error)
	Close() error
}

// TreeOpener opens the tree of a source's commit.
type TreeOpener func(ctx context.Context, name, commit string) (SourceTree, error)

// Files is the workspace as plans read it: workspace-relative slash paths,
// served from the local file system, except inside the checkout directory
// of a locked source (sources/<name>), which is served from git objects at
// the locked commit. It implements templates.Files and config's reader.
// Its methods may be called from several goroutines.
type Files struct {
	root string
	// ws opens local files through os.Root, so no path or link leads
	// outside the workspace; nil when the workspace cannot be opened
	// (every local read then fails).
	ws     *wsroot.Root
	wsErr  error
	mounts []*mount // sorted by prefix
	// stats remembers local stats: a plan reads the workspace as it is
	// when the plan starts, and asks for the same paths once per build.
	stats sync.Map // string -> statResult
	// blobs, when set, keeps the content of small files read from
	// sources by their git object name, so reading them again needs no
	// git process.
	blobs *PlanCache
}

type statResult struct {
	fi  fs.FileInfo
	err error
}

// mount is a source directory served from git objects, opened on first use.
type mount struct {
	prefix, name, commit string
	open                 func() (SourceTree, error)
	once                 sync.Once
	tree                 SourceTree
	err                  error
}

// NewFiles returns the workspace view of root (absolute), with each source
// in commits (name to locked commit) served at dirs[name] through open.
// With open nil, every path is read from the local file system.
func NewFiles(ctx context.Context, root string, dirs, commits map[string]string, open TreeOpener) *Files {
	f := &Files{root: root}
	f.ws, f.wsErr = wsroot.Open(root)
	if open == nil {
		return f
	}
	for name, commit := range commits {
		dir, ok := dirs[name]
		if !ok || commit == "" {
			continue
		}
		name, commit := name, commit
		f.mounts = append(f.mounts, &mount{prefix: path.Clean(dir), name: name, commit: commit,
			open: func() (SourceTree, error) { return open(ctx, name, commit) }})
	}
	sort.Slice(f.mounts, func(i, j int) bool { return f.mounts[i].prefix < f.mounts[j].prefix })
	return f
}

// Prefetch starts opening every source tree in the background, so the git
// processes start while the caller does other work.
func (f *Files) Prefetch() {
	for _, m := range f.mounts {
		go m.get()
	}
}

// Root is the workspace's absolute path.
func (f *Files) Root() string { return f.root }

// Close ends the git processes the view started.
func (f *Files) Close() error {
	var errs []error
	if f.ws != nil {
		errs = append(errs, f.ws.Close())
	}
	for _, m := range f.mounts {
		m.once.Do(func() { m.err = errors.New("closed") })
		if m.tree != nil {
			errs = append(errs, m.tree.Close())
		}
	}
	return errors.Join(errs...)
}

// resolve returns the mount serving name and the path inside it, or nil
// for a local file. name must be clean and relative.
func (f *Files) resolve(name string) (*mount, string) {
	for _, m := range f.mounts {
		switch {
		case name == m.prefix:
			return m, "."
		case strings.HasPrefix(name, m.prefix+"/"):
			return m, name[len(m.prefix)+1:]
		}
	}
	return nil, ""
}

// mountsUnder returns the mounts strictly below the directory name.
func (f *Files) mountsUnder(name string) []*mount {
	var out []*mount
	for _, m := range f.mounts {
		if name == "." || strings.HasPrefix(m.prefix, name+"/") {
			out = append(out, m)
		}
	}
	return out
}

// tree opens the mount's tree once.
func (m *mount) get() (SourceTree, error) {
	m.once.Do(func() {
		m.tree, m.err = m.open()
		if m.err != nil {
			m.err = fmt.Errorf("read source %s at %s: %w", m.name, shortCommit(m.commit), m.err)
		}
	})
	return m.tree, m.err
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// clean checks and cleans a workspace-relative path.
func clean(name string) (string, error) {
	c := path.Clean(name)
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("path leads outside the workspace")}
	}
	return c, nil
}

// ReadFile returns a workspace file's bytes.
func (f *Files) ReadFile(name string) ([]byte, error) {
	c, err := clean(name)
	if err != nil {
		return nil, err
	}
	if m, rest := f.resolve(c); m != nil {
		t, err := m.get()
		if err != nil {
			return nil, err
		}
		if f.blobs == nil {
			return t.ReadFile(rest)
		}
		oid, err := t.Digest(rest)
		if err != nil {
			return t.ReadFile(rest)
		}
		if b := f.blobs.blob(oid); b != nil {
			return b, nil
		}
		b, err := t.ReadFile(rest)
		if err == nil {
			f.blobs.putBlob(oid, b)
		}
		return b, err
	}
	if f.ws == nil {
		return nil, f.wsErr
	}
	return f.ws.ReadFile(c)
}

// ReadDir lists a workspace directory.
func (f *Files) ReadDir(name string) ([]fs.DirEntry, error) {
	c, err := clean(name)
	if err != nil {
		return nil, err
	}
	if m, rest := f.resolve(c); m != nil {
		t, err := m.get()
		if err != nil {
			return nil, err
		}
		return t.ReadDir(rest)
	}
	if f.ws == nil {
		return nil, f.wsErr
	}
	return f.ws.ReadDir(c)
}

// Stat describes a workspace file, following links.
func (f *Files) Stat(name string) (fs.FileInfo, error) {
	c, err := clean(name)
	if err != nil {
		return nil, err
	}
	if m, rest := f.resolve(c); m != nil {
		t, err := m.get()
		if err != nil {
			return nil, err
		}
		return t.Stat(rest)
	}
	if r, ok := f.stats.Load(c); ok {
		sr := r.(statResult)
		return sr.fi, sr.err
	}
	if f.ws == nil {
		return nil, f.wsErr
	}
	fi, err := f.ws.Stat(c)
	f.stats.Store(c, statResult{fi, err})
	return fi, err
}

// FromObjects reports whether name is read from git objects.
func (f *Files) FromObjects(name string) bool {
	c, err := clean(name)
	if err != nil {
		return false
	}
	m, _ := f.resolve(c)
	return m != nil
}

// Workspace is the workspace opened through os.Root, for confined reads
// and writes; nil when it could not be opened.
func (f *Files) Workspace() *wsroot.Root { return f.ws }
