package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	pathpkg "path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// This file holds what makes Sync safe to kill at any moment: the
// temporary directory a first clone is made in, the marker an update leaves
// in the checkout's git directory while it moves it, and the recovery the
// next Sync makes from them. Every rule here runs under the source's lock
// (sourceLock), so whatever it finds was left by a hybrid that is gone.

// tempCloneInfix separates a source's name from the random digits in the
// name of the temporary directory a first clone is made in:
// <root>/.<name>.tmp-<digits>. It starts with '.', which no source name
// does, so it can never be a checkout.
const tempCloneInfix = ".tmp-"

// markerName is the in-progress marker: a file in the git directory of a
// checkout that Sync writes before a fetch or checkout may change the
// checkout and removes once the checkout is at the locked commit. It names
// the commit checked out before and the commit being checked out, which is
// all the next Sync needs to tell a checkout it interrupted from a user's
// changes.
const markerName = "hybrid-sync-in-progress"

// markerHeader starts every marker.
const markerHeader = "# hybrid: a sync of this checkout is in progress or was interrupted; the next hybrid sources sync finishes it\n"

// makeTempClone makes the empty directory a first clone of name is made in,
// inside rootReal.
func makeTempClone(rootReal, name string) (string, error) {
	for range 100 {
		dir := filepath.Join(rootReal, "."+name+tempCloneInfix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create a temporary directory for source %s: %w", name, err)
		}
	}
	return "", fmt.Errorf("create a temporary directory for source %s: too many attempts", name)
}

// isTempClone reports whether entry, a name in the sources directory, is a
// temporary clone of the source name: "." + name + ".tmp-" + digits. The
// digits keep a source "a" from taking the clones of a source "a.tmp-b".
func isTempClone(entry, name string) bool {
	rest, ok := strings.CutPrefix(entry, "."+name+tempCloneInfix)
	return ok && rest != "" && allDigits(rest)
}

// removeTempClones removes the temporary clones of name that killed Syncs
// left in rootReal and returns how many it removed. Only names that
// isTempClone accepts are touched.
func removeTempClones(rootReal, name string) int {
	list, err := os.ReadDir(rootReal)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range list {
		if isTempClone(e.Name(), name) {
			if os.RemoveAll(filepath.Join(rootReal, e.Name())) == nil {
				n++
			}
		}
	}
	return n
}

// marker is the content of an in-progress marker.
type marker struct {
	// From is the commit checked out when the sync started ("" if none);
	// To the commit it was moving the checkout to.
	From, To string
}

// writeMarker writes the marker into gitDir, whole or not at all (a
// temporary file renamed into place).
func writeMarker(gitDir string, m marker) error {
	path := filepath.Join(gitDir, markerName)
	tmp := path + ".tmp"
	content := markerHeader + "from " + m.From + "\nto " + m.To + "\n"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("mark the sync in progress: %w", err)
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mark the sync in progress: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("mark the sync in progress: %w", err)
	}
	return nil
}

// readMarker reads the marker in gitDir. ok is false when there is none;
// a marker that cannot be read as one gives ok true and valid false.
func readMarker(gitDir string) (m marker, ok, valid bool, err error) {
	os.Remove(filepath.Join(gitDir, markerName+".tmp")) // a killed writeMarker's
	b, err := os.ReadFile(filepath.Join(gitDir, markerName))
	if errors.Is(err, fs.ErrNotExist) {
		return marker{}, false, false, nil
	}
	if err != nil {
		return marker{}, false, false, fmt.Errorf("read the sync marker: %w", err)
	}
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch {
		case k == "from" && (v == "" || IsFullCommit(v)):
			m.From, seen = strings.ToLower(v), seen|1
		case k == "to" && IsFullCommit(v):
			m.To, seen = strings.ToLower(v), seen|2
		}
	}
	return m, true, seen == 3, nil
}

// removeMarker removes the marker in gitDir.
func removeMarker(gitDir string) error {
	if err := os.Remove(filepath.Join(gitDir, markerName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the sync marker: %w", err)
	}
	return nil
}

// removeStaleGitLocks removes the lock files that a git killed while it
// wrote gitDir left there: index.lock, HEAD.lock, packed-refs.lock,
// shallow.lock, config.lock and the like at the top, and any *.lock under
// refs/, logs/, objects/info/ and objects/pack/. It returns their paths
// relative to gitDir.
//
// Callers hold the source's lock, and call it only on a git directory that
// no living git of hybrid can be writing: an object store (which holds
// nothing of the user's and only Fetch writes), or a checkout with an
// in-progress marker (its sync was interrupted: the checkout was hybrid's
// to move, and the lock's record has ended any git that hybrid left). A
// checkout without a marker keeps its lock files, which may be a user's
// git at work.
func removeStaleGitLocks(gitDir string) []string {
	var removed []string
	remove := func(path string) {
		if os.Remove(path) == nil {
			rel, _ := filepath.Rel(gitDir, path)
			removed = append(removed, filepath.ToSlash(rel))
		}
	}
	if list, err := os.ReadDir(gitDir); err == nil {
		for _, e := range list {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".lock") {
				remove(filepath.Join(gitDir, e.Name()))
			}
		}
	}
	for _, sub := range []string{"refs", "logs", filepath.Join("objects", "info"), filepath.Join("objects", "pack")} {
		filepath.WalkDir(filepath.Join(gitDir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".lock") {
				remove(path)
			}
			return nil
		})
	}
	return removed
}

// recovery is what recoverCheckout found and did.
type recovery struct {
	// marker is the marker found, if valid and still describing the
	// checkout (HEAD at its From or its To).
	marker *marker
	// notes say what was repaired.
	notes []string
}

// recoverCheckout finishes a sync of the checkout dir that a killed hybrid
// interrupted, if its git directory gitDir holds an in-progress marker.
//
// If HEAD is still at the marker's From or To, stale git lock files are
// removed (removeStaleGitLocks), and every change git status
// reports must be one that the interrupted fetch and checkout could have
// made: a path whose entry differs between the two commits, which in the
// work tree is missing (or a directory, whose files are judged on their
// own), or holds the content (and executable bit, or link target) it has
// in either commit, or a beginning of its content in To (a file git was
// writing when it was killed). Then the checkout is finished:
// git checkout --force --detach To, and the untracked files that remain
// (all checked above) are removed. Ignored files are never touched.
//
// Any other change is the user's: nothing is touched, and a *DirtyError
// names those changes. Whatever Sync does discard is the content of a
// blob of From or To, so nothing lost is not in git. A marker whose HEAD
// has moved since (someone ran git in the checkout) says nothing about the
// changes: the checkout is treated as one without a marker (any change is
// refused), and the marker is removed once the checkout is clean.
func (g *Git) recoverCheckout(ctx context.Context, dir, gitDir, display string, env []string) (*recovery, error) {
	m, ok, valid, err := readMarker(gitDir)
	if err != nil || !ok {
		return &recovery{}, err
	}
	rec := &recovery{}
	head, err := g.head(ctx, dir, env)
	if err != nil {
		return nil, err
	}
	if !valid || head != m.From && head != m.To {
		files, err := g.status(ctx, dir, env)
		if err != nil {
			return nil, err
		}
		if len(files) > 0 {
			return nil, &DirtyError{Dir: display, Files: files}
		}
		return rec, removeMarker(gitDir)
	}
	rec.marker = &m
	if locks := removeStaleGitLocks(gitDir); len(locks) > 0 {
		rec.notes = append(rec.notes, fmt.Sprintf("removed lock files an interrupted git left in %s: %s", display, strings.Join(locks, ", ")))
	}
	changes, err := g.changes(ctx, dir, env)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return rec, removeMarker(gitDir)
	}

	paths := make([]string, 0, len(changes))
	for _, c := range changes {
		paths = append(paths, c.path)
	}
	foreign := paths
	ours := map[string]bool{}
	var from, to map[string]treeItem
	hasTo, err := g.hasCommit(ctx, dir, env, m.To)
	if err != nil {
		return nil, err
	}
	if hasTo { // without To, the checkout never started: every change is the user's
		if from, err = g.lsTree(ctx, dir, env, m.From); err != nil {
			return nil, err
		}
		if to, err = g.lsTree(ctx, dir, env, m.To); err != nil {
			return nil, err
		}
		foreign, ours, err = g.classifyChanges(ctx, dir, env, paths, from, to)
		if err != nil {
			return nil, err
		}
	}
	if len(foreign) > 0 {
		return nil, &DirtyError{Dir: display, Files: foreign, Interrupted: true}
	}

	if _, err := g.run(ctx, dir, env, "checkout", "--quiet", "--force", "--detach", m.To, "--"); err != nil {
		return nil, fmt.Errorf("finish the interrupted checkout of %s in %s: %w", short(m.To), display, err)
	}
	left, err := g.changes(ctx, dir, env)
	if err != nil {
		return nil, err
	}
	for _, c := range left {
		if c.xy != "??" || !ours[c.path] {
			return nil, fmt.Errorf("after finishing the interrupted checkout of %s in %s, %s still differs from it; run git status there, then hybrid sources sync again", short(m.To), display, c.path)
		}
	}
	for _, c := range left {
		if err := removeUntracked(dir, c.path); err != nil {
			return nil, fmt.Errorf("finish the interrupted checkout of %s in %s: %w", short(m.To), display, err)
		}
	}
	if left, err = g.changes(ctx, dir, env); err != nil {
		return nil, err
	}
	if len(left) > 0 {
		return nil, fmt.Errorf("after finishing the interrupted checkout of %s in %s, %s still differs from it; run git status there, then hybrid sources sync again", short(m.To), display, left[0].path)
	}
	pruneEmptyDirs(dir, from, to)
	files := "files"
	if len(changes) == 1 {
		files = "file"
	}
	rec.notes = append(rec.notes, fmt.Sprintf("finished the interrupted checkout of %s in %s (%d %s)", short(m.To), display, len(changes), files))
	return rec, removeMarker(gitDir)
}

// change is one entry of git status: its two-letter code and its path.
type change struct{ xy, path string }

// changes lists what git status reports in the checkout dir, without
// rename detection (so both sides of a move are listed) and with every
// untracked file.
func (g *Git) changes(ctx context.Context, dir string, env []string) ([]change, error) {
	out, err := g.run(ctx, dir, env, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
	if err != nil {
		return nil, err
	}
	var cs []change
	for _, f := range bytes.Split(out, []byte{0}) {
		if len(f) < 4 || f[2] != ' ' {
			continue
		}
		cs = append(cs, change{xy: string(f[:2]), path: string(f[3:])})
	}
	return cs, nil
}

// treeItem is one entry of git ls-tree: its mode and object name.
type treeItem struct{ mode, oid string }

// lsTree maps every path of commit's tree (submodules as gitlinks) to its
// entry.
func (g *Git) lsTree(ctx context.Context, dir string, env []string, commit string) (map[string]treeItem, error) {
	items := map[string]treeItem{}
	if commit == "" {
		return items, nil
	}
	out, err := g.run(ctx, dir, env, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit)
	if err != nil {
		return nil, err
	}
	for _, rec := range bytes.Split(out, []byte{0}) {
		meta, path, ok := bytes.Cut(rec, []byte{'\t'})
		f := strings.Fields(string(meta))
		if !ok || len(f) != 3 {
			continue
		}
		items[string(path)] = treeItem{mode: f[0], oid: f[2]}
	}
	return items, nil
}

// classifyChanges splits the changed paths of the checkout dir into those
// the sync from the tree from to the tree to could have made (ours) and the others (foreign,
// in the order given), as recoverCheckout describes.
func (g *Git) classifyChanges(ctx context.Context, dir string, env []string, paths []string, from, to map[string]treeItem) (foreign []string, ours map[string]bool, err error) {
	ours = map[string]bool{}
	var hashPaths []string
	for _, p := range paths {
		if ours[p] {
			continue
		}
		ef, inFrom := from[p]
		et, inTo := to[p]
		if inFrom == inTo && ef == et {
			continue // the checkout did not touch it
		}
		wt, err := worktreeEntry(dir, p)
		if err != nil {
			continue
		}
		switch {
		case wt == nil || wt.IsDir():
			// Missing: removed, or not written yet. A directory there
			// is a directory one of the commits has at p (its files
			// are judged on their own), a submodule's, or one git
			// emptied and had not removed yet.
			ours[p] = true
		case wt.Mode().IsRegular():
			if !strings.Contains(p, "\n") {
				hashPaths = append(hashPaths, p)
			}
		case wt.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil {
				continue
			}
			for _, e := range []treeItem{ef, et} {
				if e.mode == "120000" {
					b, err := g.blob(ctx, dir, env, e.oid)
					if err == nil && string(b) == target {
						ours[p] = true
					}
				}
			}
		}
	}
	if len(hashPaths) > 0 {
		in := strings.Join(hashPaths, "\n") + "\n"
		out, err := g.runInput(ctx, dir, env, strings.NewReader(in), "hash-object", "--stdin-paths")
		if err != nil {
			return nil, nil, err
		}
		oids := strings.Fields(string(out))
		if len(oids) != len(hashPaths) {
			return nil, nil, fmt.Errorf("git hash-object gave %d object names for %d files", len(oids), len(hashPaths))
		}
		for i, p := range hashPaths {
			wt, err := worktreeEntry(dir, p)
			if err != nil || wt == nil || !wt.Mode().IsRegular() {
				continue
			}
			exec := wt.Mode()&0o111 != 0
			matches := func(e treeItem) bool {
				return (e.mode == "100644" || e.mode == "100755") &&
					(runtime.GOOS == "windows" || exec == (e.mode == "100755"))
			}
			oid := strings.ToLower(oids[i])
			ef, et := from[p], to[p]
			switch {
			case matches(ef) && oid == ef.oid, matches(et) && oid == et.oid:
				ours[p] = true
			case matches(et) && wt.Size() < blobSizeLimit:
				// A file git was writing when it was killed.
				b, err := g.blob(ctx, dir, env, et.oid)
				if err != nil || int64(len(b)) <= wt.Size() {
					continue
				}
				content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
				if err == nil && int64(len(content)) < int64(len(b)) && bytes.HasPrefix(b, content) {
					ours[p] = true
				}
			}
		}
	}
	for _, p := range paths {
		if !ours[p] && !slices.Contains(foreign, p) {
			foreign = append(foreign, p)
		}
	}
	return foreign, ours, nil
}

// blobSizeLimit bounds the blobs read whole to check a partly written file.
const blobSizeLimit = 64 << 20

// blob returns the content of blob oid.
func (g *Git) blob(ctx context.Context, dir string, env []string, oid string) ([]byte, error) {
	return g.run(ctx, dir, env, "cat-file", "blob", "--end-of-options", oid)
}

// worktreeEntry returns the lstat of path p (slash-separated, relative to
// dir) as git sees the work tree: nil when it is missing or lies under
// something that is not a directory (git does not follow links there).
func worktreeEntry(dir, p string) (fs.FileInfo, error) {
	rel := filepath.FromSlash(p)
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("%q is not a path inside the checkout", p)
	}
	parts := strings.Split(rel, string(filepath.Separator))
	cur := dir
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if i == len(parts)-1 {
			return fi, nil
		}
		if !fi.IsDir() {
			return nil, nil
		}
	}
	return nil, nil
}

// removeUntracked removes the file p (relative to dir, checked by
// worktreeEntry to lie under real directories) and then its parent
// directories that are left empty, as git does when a checkout deletes a
// file.
func removeUntracked(dir, p string) error {
	wt, err := worktreeEntry(dir, p)
	if err != nil || wt == nil {
		return err
	}
	if wt.IsDir() {
		return fmt.Errorf("%s is a directory", p)
	}
	path := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for parent := filepath.Dir(path); parent != dir && strings.HasPrefix(parent, dir+string(filepath.Separator)); parent = filepath.Dir(parent) {
		if os.Remove(parent) != nil { // not empty
			break
		}
	}
	return nil
}

// pruneEmptyDirs removes the directories of the tree from that the tree to
// does not have and that are left empty in the checkout dir, deepest first:
// an interrupted checkout may have emptied them without removing them, and
// git status does not see empty directories. A directory that holds
// anything, or is not a real directory, stays.
func pruneEmptyDirs(dir string, from, to map[string]treeItem) {
	dirsOf := func(tree map[string]treeItem) map[string]bool {
		dirs := map[string]bool{}
		for p := range tree {
			for d := pathpkg.Dir(p); d != "." && !dirs[d]; d = pathpkg.Dir(d) {
				dirs[d] = true
			}
		}
		return dirs
	}
	keep := dirsOf(to)
	var gone []string
	for d := range dirsOf(from) {
		if _, isPath := to[d]; !keep[d] && !isPath {
			gone = append(gone, d)
		}
	}
	// Deepest first, so a parent emptied by removing its children goes too.
	slices.SortFunc(gone, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, d := range gone {
		if fi, err := worktreeEntry(dir, d); err == nil && fi != nil && fi.IsDir() {
			os.Remove(filepath.Join(dir, filepath.FromSlash(d)))
		}
	}
}
