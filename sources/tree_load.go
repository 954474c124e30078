package sources

import (
	"bytes"
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
