package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Source is one git source as the lockfile pins it.
type Source struct {
	// Name is the source's name; its checkout is <root>/<name>.
	Name string
	// URL is the repository; Ref the branch, tag or commit it follows.
	URL, Ref string
	// Commit is the locked commit, a full hash.
	Commit string
}

// SyncAction says what Sync did to a checkout.
type SyncAction string

// The outcomes of Sync.
const (
	ActionCloned    SyncAction = "cloned"
	ActionUpdated   SyncAction = "updated"
	ActionUnchanged SyncAction = "unchanged"
)

// SyncResult reports a successful Sync.
type SyncResult struct {
	// Dir is the checkout, as the caller named it (root joined with name).
	Dir string
	// Kind is what the source's ref is.
	Kind RefKind
	// Action is what happened.
	Action SyncAction
	// From is the commit checked out before (empty when cloned; the commit
	// an interrupted sync started from when Sync finished it); Commit is
	// the commit checked out now, which is always the locked commit.
	From, Commit string
	// Recovered says, a line each, what Sync repaired that killed syncs
	// left behind: git processes ended, temporary clones removed, stale
	// git lock files removed, an interrupted checkout finished. It is
	// empty when there was nothing to repair.
	Recovered []string
}

// String describes the result in a line, such as
// "sources/examples: updated 1a2b3c4d5e6f -> 4d5e6f7a8b9c".
func (r *SyncResult) String() string {
	switch r.Action {
	case ActionCloned:
		return fmt.Sprintf("%s: cloned at %s", r.Dir, short(r.Commit))
	case ActionUpdated:
		return fmt.Sprintf("%s: updated %s -> %s", r.Dir, short(r.From), short(r.Commit))
	}
	return fmt.Sprintf("%s: already at %s", r.Dir, short(r.Commit))
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// Sync brings the checkout <root>/<src.Name> to src.Commit. A missing
// checkout is cloned (git init, origin set to the URL, fetch, detached
// checkout) in a temporary directory beside it, <root>/.<name>.tmp-<digits>,
// and renamed into place once it is checked out; an existing one is updated
// in place after checking that it is a git checkout of the same URL with no
// modified, staged or untracked files.
//
// Before checking out, Sync verifies that the locked commit is what the ref
// leads to: in the history of a branch, equal to the commit a tag points to,
// or equal to a commit ref; otherwise it returns a *TamperError. A dirty
// checkout gives a *DirtyError, a different origin an *OriginError; in both
// cases nothing in the checkout is touched. If creating a checkout fails,
// its temporary directory is removed, so the next Sync starts afresh.
//
// Sync may be killed at any moment, with or without its git, and the next
// Sync recovers with no manual step. It holds the source's lock
// (sourceLock), which ends any git a killed Sync left running. It removes
// the temporary clones killed Syncs left (names that only Sync makes, never
// a checkout's). An update writes an in-progress marker into the checkout's
// git directory before fetching and removes it once the checkout is at the
// locked commit; the next Sync that finds it finishes the interrupted
// checkout, discarding only the changes that checkout could have made and
// refusing (a *DirtyError with Interrupted set) if there are others, as
// recoverCheckout describes. SyncResult.Recovered says what was repaired.
//
// A commit ref whose commit is already present needs no network. Branches and
// tags are always fetched, so the check runs against the remote as it is now.
func (g *Git) Sync(ctx context.Context, root string, src Source) (res *SyncResult, err error) {
	if err := ValidateName(src.Name); err != nil {
		return nil, err
	}
	if err := ValidateURL(src.URL); err != nil {
		return nil, err
	}
	if err := ValidateRef(src.Ref); err != nil {
		return nil, err
	}
	if !IsFullCommit(src.Commit) {
		return nil, fmt.Errorf("%w: locked commit %q of source %s is not a full commit hash; run hybrid lock -upgrade %s", ErrInvalid, src.Commit, src.Name, src.Name)
	}
	commit := strings.ToLower(src.Commit)
	url, err := absURL(src.URL)
	if err != nil {
		return nil, err
	}
	display := filepath.Join(root, src.Name)
	rootReal, err := prepareRoot(root)
	if err != nil {
		return nil, err
	}
	lock, err := lockSource(ctx, rootReal, src.Name)
	if err != nil {
		return nil, err
	}
	defer lock.unlock()
	ctx = withSupervisor(ctx, lock)
	notes := append([]string(nil), lock.notes...)
	if n := removeTempClones(rootReal, src.Name); n > 0 {
		clones := "unfinished clones"
		if n == 1 {
			clones = "unfinished clone"
		}
		notes = append(notes, fmt.Sprintf("removed %d %s of %s left by interrupted syncs", n, clones, display))
	}
	dir, exists, err := sourceDir(rootReal, src.Name, display)
	if err != nil {
		return nil, err
	}

	local := g.environ(nil)
	probeDir := rootReal
	var gitDir, from, reportFrom string
	if exists {
		if err := g.checkCheckout(ctx, dir, display, local); err != nil {
			return nil, err
		}
		got, err := g.originURL(ctx, dir, local)
		if err != nil {
			return nil, err
		}
		if !sameURL(got, url, dir) {
			return nil, &OriginError{Dir: display, Want: src.URL, Got: got}
		}
		if gitDir, err = g.gitDir(ctx, dir, local); err != nil {
			return nil, err
		}
		rec, err := g.recoverCheckout(ctx, dir, gitDir, display, local)
		if err != nil {
			return nil, err
		}
		notes = append(notes, rec.notes...)
		files, err := g.status(ctx, dir, local)
		if err != nil {
			return nil, err
		}
		if len(files) > 0 {
			return nil, &DirtyError{Dir: display, Files: files}
		}
		if from, err = g.head(ctx, dir, local); err != nil {
			return nil, err
		}
		reportFrom = from
		if rec.marker != nil {
			// The state still records the commit the interrupted
			// sync started from.
			reportFrom = rec.marker.From
		}
		probeDir = dir
	}
	env, err := g.networkEnv(ctx, probeDir)
	if err != nil {
		return nil, err
	}

	ref := Resolved{Commit: strings.ToLower(src.Ref), Kind: KindCommit}
	if IsFullCommit(src.Ref) {
		if ref.Commit != commit {
			return nil, &TamperError{Name: src.Name, URL: src.URL, Ref: src.Ref, Kind: KindCommit, Commit: commit, RefCommit: ref.Commit}
		}
	} else if ref, err = g.lsRemote(ctx, rootReal, env, url, src.Ref); err != nil {
		return nil, err
	}

	res = &SyncResult{Dir: display, Kind: ref.Kind, Commit: commit}
	if !exists {
		if err := g.clone(ctx, rootReal, dir, display, local, env, src, url, ref, commit); err != nil {
			return nil, err
		}
		res.Action, res.Recovered = ActionCloned, notes
		return res, nil
	}
	if err := g.update(ctx, dir, gitDir, display, local, env, src, url, ref, from, commit); err != nil {
		return nil, err
	}
	res.From, res.Recovered = reportFrom, notes
	res.Action = ActionUpdated
	if reportFrom == commit {
		res.Action = ActionUnchanged
	}
	return res, nil
}

// clone makes the checkout dir (in rootReal, which the caller holds the
// source's lock on) at commit: it is made and checked out in a temporary
// directory, then renamed into place.
func (g *Git) clone(ctx context.Context, rootReal, dir, display string, local, env []string, src Source, url string, ref Resolved, commit string) (err error) {
	tmp, err := makeTempClone(rootReal, src.Name)
	if err != nil {
		return err
	}
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	if _, err := g.run(ctx, tmp, local, "init", "--quiet", "--initial-branch=main"); err != nil {
		return fmt.Errorf("create a git repository for %s: %w", display, err)
	}
	if _, err := g.run(ctx, tmp, local, "remote", "add", "--end-of-options", "origin", url); err != nil {
		return fmt.Errorf("set the origin of %s: %w", display, err)
	}
	if err := g.fetchAndVerify(ctx, tmp, env, src, url, ref, commit); err != nil {
		return err
	}
	if err := g.checkout(ctx, tmp, display, local, commit); err != nil {
		return err
	}
	// The checkout was missing when the lock was taken; only something
	// other than hybrid can have made it since. Rename would replace an
	// empty directory: leave whatever is there alone.
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("%s appeared while hybrid cloned the source; move it away and run hybrid sources sync again", display)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("move the new clone of %s into place: %w", display, err)
	}
	tmp = ""
	return nil
}

// update brings the clean checkout dir, at from, to commit. The in-progress
// marker in gitDir covers every git command that may write the checkout
// (fetch, checkout). It is removed once the checkout is at commit, or when
// the fetch or the verification failed on its own (git then left nothing
// behind, and the work tree was not touched), or when the checkout failed
// without touching anything (git refused before it began: a file in the
// way, an index.lock of another git). It stays when the sync was cancelled
// (a killed git may have left lock files) or the checkout failed half way,
// for the next Sync to finish.
func (g *Git) update(ctx context.Context, dir, gitDir, display string, local, env []string, src Source, url string, ref Resolved, from, commit string) (err error) {
	if err := writeMarker(gitDir, marker{From: from, To: commit}); err != nil {
		return fmt.Errorf("%s: %w", display, err)
	}
	checkingOut := false
	defer func() {
		keep := err != nil && (ctx.Err() != nil || checkingOut && !g.untouched(ctx, dir, local, from))
		if !keep {
			if rmErr := removeMarker(gitDir); err == nil && rmErr != nil {
				err = fmt.Errorf("%s: %w", display, rmErr)
			}
		}
	}()
	if err := g.fetchAndVerify(ctx, dir, env, src, url, ref, commit); err != nil {
		return err
	}
	if from == commit {
		return nil
	}
	// No --force: the tree was clean, and if a file appeared since, git
	// refuses to overwrite it rather than losing it.
	checkingOut = true
	return g.checkout(ctx, dir, display, local, commit)
}

// untouched reports whether the checkout dir is still clean at from, as
// update found it.
func (g *Git) untouched(ctx context.Context, dir string, env []string, from string) bool {
	head, err := g.head(ctx, dir, env)
	if err != nil || head != from {
		return false
	}
	files, err := g.status(ctx, dir, env)
	return err == nil && len(files) == 0
}

// checkout checks commit out in dir, detached, and checks HEAD is there.
func (g *Git) checkout(ctx context.Context, dir, display string, local []string, commit string) error {
	if _, err := g.run(ctx, dir, local, "checkout", "--quiet", "--detach", commit, "--"); err != nil {
		return fmt.Errorf("check out %s in %s: %w; run git status there, then hybrid sources sync again", short(commit), display, err)
	}
	now, err := g.head(ctx, dir, local)
	if err != nil {
		return err
	}
	if now != commit {
		return fmt.Errorf("after checking out %s in %s, HEAD is %q; run git status there, then hybrid sources sync again", commit, display, now)
	}
	return nil
}

// gitDir returns the absolute git directory of the checkout dir.
func (g *Git) gitDir(ctx context.Context, dir string, env []string) (string, error) {
	out, err := g.run(ctx, dir, env, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(out), "\n"), "\r"), nil
}

// fetchAndVerify fetches what ref needs into dir and checks that commit is
// what the ref leads to.
func (g *Git) fetchAndVerify(ctx context.Context, dir string, env []string, src Source, url string, ref Resolved, commit string) error {
	fetch := func(refspecs ...string) error {
		args := append([]string{"fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--end-of-options", "origin"}, refspecs...)
		if _, err := g.run(ctx, dir, env, args...); err != nil {
			return fmt.Errorf("cannot fetch %s from %s: %w; check the URL and that your git credentials or SSH keys give access to it", src.Ref, maskCredentials(src.URL), err)
		}
		return nil
	}
	tamper := func(now string) error {
		return &TamperError{Name: src.Name, URL: src.URL, Ref: src.Ref, Kind: ref.Kind, Commit: commit, RefCommit: now}
	}
	switch ref.Kind {
	case KindBranch:
		tracking := "refs/remotes/origin/" + strings.TrimPrefix(ref.FullRef, "refs/heads/")
		if err := fetch("+" + ref.FullRef + ":" + tracking); err != nil {
			return err
		}
		tip, err := g.revParse(ctx, dir, env, tracking+"^{commit}")
		if err != nil {
			return err
		}
		has, err := g.hasCommit(ctx, dir, env, commit)
		if err != nil {
			return err
		}
		if !has {
			return tamper(tip)
		}
		_, err = g.run(ctx, dir, env, "merge-base", "--is-ancestor", "--end-of-options", commit, tracking)
		switch {
		case err == nil:
			return nil
		case exitCode(err) == 1:
			return tamper(tip)
		default:
			return err
		}
	case KindTag:
		if err := fetch("+" + ref.FullRef + ":" + ref.FullRef); err != nil {
			return err
		}
		peeled, err := g.revParse(ctx, dir, env, ref.FullRef+"^{commit}")
		if err != nil {
			return err
		}
		if peeled != commit {
			return tamper(peeled)
		}
		return nil
	default:
		has, err := g.hasCommit(ctx, dir, env, commit)
		if err != nil || has {
			return err
		}
		if err := fetch("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"); err != nil {
			return err
		}
		if has, err = g.hasCommit(ctx, dir, env, commit); err != nil || has {
			return err
		}
		// Not reachable from a branch or tag: ask for the commit itself,
		// which servers that allow fetching any reachable commit accept.
		_ = fetch(commit)
		if has, err = g.hasCommit(ctx, dir, env, commit); err != nil || has {
			return err
		}
		return fmt.Errorf("%w: commit %s of source %s is not in %s; check the source's ref", ErrRefNotFound, commit, src.Name, maskCredentials(src.URL))
	}
}

// Head returns the commit checked out in dir, or "" when nothing is checked
// out yet. dir must be the top of a git checkout: a missing dir gives an
// error wrapping fs.ErrNotExist, anything else ErrNotRepository.
func (g *Git) Head(ctx context.Context, dir string) (string, error) {
	env := g.environ(nil)
	if err := g.checkCheckout(ctx, dir, dir, env); err != nil {
		return "", err
	}
	return g.head(ctx, dir, env)
}

// Dirty returns the files with changes in the checkout dir: modified, staged,
// deleted and untracked files (ignored files are not changes), relative to
// dir. It does not write to the checkout, not even the index. Errors are as
// for Head.
func (g *Git) Dirty(ctx context.Context, dir string) ([]string, error) {
	env := g.environ(nil)
	if err := g.checkCheckout(ctx, dir, dir, env); err != nil {
		return nil, err
	}
	return g.status(ctx, dir, env)
}

// head returns HEAD's commit in dir, or "" if HEAD is unborn.
func (g *Git) head(ctx context.Context, dir string, env []string) (string, error) {
	out, err := g.run(ctx, dir, env, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	if err != nil {
		if exitCode(err) == 1 {
			return "", nil
		}
		return "", err
	}
	return strings.ToLower(strings.TrimSpace(string(out))), nil
}

// revParse returns the object name rev resolves to in dir.
func (g *Git) revParse(ctx context.Context, dir string, env []string, rev string) (string, error) {
	out, err := g.run(ctx, dir, env, "rev-parse", "--verify", "--end-of-options", rev)
	if err != nil {
		return "", err
	}
	return strings.ToLower(strings.TrimSpace(string(out))), nil
}

// hasCommit reports whether commit is a commit present in dir.
func (g *Git) hasCommit(ctx context.Context, dir string, env []string, commit string) (bool, error) {
	_, err := g.run(ctx, dir, env, "cat-file", "-e", "--end-of-options", commit+"^{commit}")
	if err != nil {
		var ce *commandError
		if errors.As(err, &ce) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// status lists the changed and untracked files of the checkout in dir.
func (g *Git) status(ctx context.Context, dir string, env []string) ([]string, error) {
	out, err := g.run(ctx, dir, env, "status", "--porcelain=v1", "-z", "--untracked-files=all")
	if err != nil {
		return nil, err
	}
	return parseStatus(out), nil
}

// parseStatus reads git status --porcelain=v1 -z: entries "XY path", each
// NUL-terminated; a rename or copy is followed by its original path, which
// is skipped.
func parseStatus(out []byte) []string {
	var files []string
	fields := bytes.Split(out, []byte{0})
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if len(f) < 4 || f[2] != ' ' {
			continue
		}
		files = append(files, string(f[3:]))
		if x, y := f[0], f[1]; x == 'R' || x == 'C' || y == 'R' || y == 'C' {
			i++
		}
	}
	return files
}

// originURL returns the URL of dir's origin remote, or "" if it has none.
func (g *Git) originURL(ctx context.Context, dir string, env []string) (string, error) {
	out, err := g.run(ctx, dir, env, "config", "--get", "remote.origin.url")
	if err != nil {
		if exitCode(err) == 1 {
			return "", nil
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// sameURL reports whether a checkout's origin URL got (relative paths taken
// from dir, as git does) is the source URL want (already absolute if local).
func sameURL(got, want, dir string) bool {
	if got == want {
		return true
	}
	if got == "" || !isLocalURL(got) || !isLocalURL(want) {
		return false
	}
	if !filepath.IsAbs(got) {
		got = filepath.Join(dir, got)
	}
	return filepath.Clean(got) == filepath.Clean(want)
}

// checkCheckout checks that dir is the top of a git checkout, not a plain
// directory nor a directory inside another checkout (such as the workspace's
// own repository).
func (g *Git) checkCheckout(ctx context.Context, dir, display string, env []string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s does not exist; run hybrid sources sync: %w", display, err)
		}
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory; move it away so hybrid can clone the source", ErrNotRepository, display)
	}
	out, err := g.run(ctx, dir, env, "rev-parse", "--show-toplevel")
	if err != nil {
		var ce *commandError
		if errors.As(err, &ce) {
			return fmt.Errorf("%w: %s is not a git checkout (%v); move it away or delete it so hybrid can clone the source", ErrNotRepository, display, err)
		}
		return err
	}
	top, err := filepath.EvalSymlinks(strings.TrimSpace(string(out)))
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if top != real {
		return fmt.Errorf("%w: %s has no .git of its own (it lies inside the checkout %s); move it away or delete it so hybrid can clone the source", ErrNotRepository, display, top)
	}
	return nil
}

// prepareRoot creates root if needed and returns its absolute path with
// symbolic links resolved.
func prepareRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("create the sources directory: %w", err)
	}
	return filepath.EvalSymlinks(abs)
}

// sourceDir returns the checkout directory of a validated name inside
// rootReal and whether it exists. A symbolic link there is followed only if
// it stays inside rootReal.
func sourceDir(rootReal, name, display string) (string, bool, error) {
	dir := filepath.Join(rootReal, name)
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return dir, false, nil
	}
	if err != nil {
		return "", false, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return "", false, fmt.Errorf("%s is a symbolic link that cannot be followed (%v); delete it so hybrid can clone the source", display, err)
		}
		rel, err := filepath.Rel(rootReal, real)
		if err != nil || rel == "." || !filepath.IsLocal(rel) {
			return "", false, fmt.Errorf("%s is a symbolic link to %s, outside %s; hybrid keeps checkouts inside it: delete the link so hybrid can clone the source", display, real, filepath.Dir(display))
		}
		dir = real
		if fi, err = os.Stat(dir); err != nil {
			return "", false, err
		}
	}
	if !fi.IsDir() {
		return "", false, fmt.Errorf("%w: %s is not a directory; move it away so hybrid can clone the source", ErrNotRepository, display)
	}
	return dir, true, nil
}
