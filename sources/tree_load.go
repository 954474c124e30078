package sources

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// LoadAll reads every tree object of the commit at once, with one
// `git ls-tree -r -t` run, so later listings, walks and digests need no
// round trip to git: a plan that walks many directories of a source reads
// its whole listing in one go instead of directory by directory. File
// contents and link targets are still read on demand. Entries are checked
// as parseTree checks them.
func (t *Tree) LoadAll() error {
	if t.closed.Load() {
		return t.errClosed()
	}
	out, err := t.git.run(t.ctx, "", t.env, "ls-tree", "-r", "-t", "-z", "--full-tree", "--end-of-options", t.commit)
	if err != nil {
		return fmt.Errorf("list commit %s in %s: %w", short(t.commit), t.gitDir, err)
	}
	if err := t.loadListing(out); err != nil {
		return err
	}
	t.cacheMu.Lock()
	t.listing = out
	t.cacheMu.Unlock()
	return nil
}

// loadListing parses the output of `git ls-tree -r -t -z --full-tree` of
// the commit into the tree cache.
func (t *Tree) loadListing(out []byte) error {
	oidOf := map[string]string{"": t.root}
	entries := map[string][]treeEntry{t.root: nil}
	for len(out) > 0 {
		i := bytes.IndexByte(out, 0)
		if i < 0 {
			return fmt.Errorf("list commit %s in %s: truncated output", short(t.commit), t.gitDir)
		}
		rec := string(out[:i])
		out = out[i+1:]
		// "<mode> SP <type> SP <object> TAB <path>"
		meta, p, ok := strings.Cut(rec, "\t")
		fields := strings.Fields(meta)
		if !ok || len(fields) != 3 {
			return fmt.Errorf("list commit %s in %s: unexpected line %q", short(t.commit), t.gitDir, rec)
		}
		mode, err := strconv.ParseUint(fields[0], 8, 32)
		if err != nil || len(fields[2]) != 2*t.rawLen {
			return fmt.Errorf("list commit %s in %s: unexpected line %q", short(t.commit), t.gitDir, rec)
		}
		dir, name := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		parent, ok := oidOf[dir]
		if !ok || !validEntryName(name) {
			continue // below an entry git would not check out
		}
		e := treeEntry{name: name, oid: strings.ToLower(fields[2]), kind: kindOf(mode)}
		entries[parent] = append(entries[parent], e)
		if e.kind == kindDir {
			oidOf[p] = e.oid
			if _, seen := entries[e.oid]; !seen {
				entries[e.oid] = nil
			}
		}
	}
	t.cacheMu.Lock()
	defer t.cacheMu.Unlock()
	for oid, list := range entries {
		if _, have := t.trees[oid]; have {
			continue
		}
		sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
		if list == nil {
			list = []treeEntry{}
		}
		t.trees[oid] = list
	}
	return nil
}

// Listing is what a Tree read from git about its commit before any file's
// content: the commit object and the listing of every tree in it. A
// commit's object name is the digest of its content, trees included, so a
// Listing saved for a commit holds for it forever: OpenListed opens the
// tree from it without running git.
type Listing struct {
	Commit string
	// Object is the commit object; Trees is the output of `git ls-tree
	// -r -t -z --full-tree` of it.
	Object []byte
	Trees  []byte
}

// Listing returns the tree's Listing, once LoadAll has read it; nil
// before.
func (t *Tree) Listing() *Listing {
	t.cacheMu.RLock()
	defer t.cacheMu.RUnlock()
	if t.listing == nil || t.object == nil {
		return nil
	}
	return &Listing{Commit: t.commit, Object: t.object, Trees: t.listing}
}

// OpenListed opens commit l.Commit's tree in the git directory gitDir from
// a Listing of it, as OpenTree and LoadAll would, without running git: a
// cat-file process starts only when a file's content is read. The listing
// is checked as git's output is; one that does not parse is an error.
func (g *Git) OpenListed(ctx context.Context, gitDir string, l *Listing) (*Tree, error) {
	if l == nil || !IsFullCommit(l.Commit) {
		return nil, fmt.Errorf("%w: not a listing of a full commit hash", ErrInvalid)
	}
	abs, err := gitDirPath(gitDir)
	if err != nil {
		return nil, err
	}
	commit := strings.ToLower(l.Commit)
	t := &Tree{
		git:    g,
		ctx:    ctx,
		env:    withGitDir(g.environ(nil), abs),
		gitDir: abs,
		commit: commit,
		rawLen: len(commit) / 2,
		trees:  make(map[string][]treeEntry),
		links:  make(map[string]string),
		object: l.Object,
	}
	if err := t.parseCommit(l.Object); err != nil {
		return nil, err
	}
	if err := t.loadListing(l.Trees); err != nil {
		return nil, err
	}
	t.listing = l.Trees
	return t, nil
}
