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
	// From is the commit checked out before (empty when cloned); Commit is
	// the commit checked out now, which is always the locked commit.
	From, Commit string
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
// checkout is created (git init, origin set to the URL, fetch, detached
// checkout); an existing one is updated in place after checking that it is a
// git checkout of the same URL with no modified, staged or untracked files.
//
// Before checking out, Sync verifies that the locked commit is what the ref
// leads to: in the history of a branch, equal to the commit a tag points to,
// or equal to a commit ref; otherwise it returns a *TamperError. A dirty
// checkout gives a *DirtyError, a different origin an *OriginError; in both
// cases nothing in the checkout is touched. If creating a checkout fails, the
// directory Sync made is removed, so the next Sync starts afresh.
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
	dir, exists, err := sourceDir(rootReal, src.Name, display)
	if err != nil {
		return nil, err
	}

	local := g.environ(nil)
	probeDir := rootReal
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
		files, err := g.status(ctx, dir, local)
		if err != nil {
			return nil, err
		}
		if len(files) > 0 {
			return nil, &DirtyError{Dir: display, Files: files}
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

	if !exists {
		// Mkdir, not git init alone: it fails if the directory appeared
		// meanwhile, so the cleanup below only ever removes what Sync made.
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", display, err)
		}
		defer func() {
			if err != nil {
				os.RemoveAll(dir)
			}
		}()
		if _, err := g.run(ctx, dir, local, "init", "--quiet", "--initial-branch=main"); err != nil {
			return nil, fmt.Errorf("create a git repository in %s: %w", display, err)
		}
		if _, err := g.run(ctx, dir, local, "remote", "add", "--end-of-options", "origin", url); err != nil {
			return nil, fmt.Errorf("set the origin of %s: %w", display, err)
		}
	}

	if err := g.fetchAndVerify(ctx, dir, env, src, url, ref, commit); err != nil {
		return nil, err
	}

	from, err := g.head(ctx, dir, local)
	if err != nil {
		return nil, err
	}
	if from != commit {
		// No --force: the tree was clean, and if a file appeared since, git
		// refuses to overwrite it rather than losing it.
		if _, err := g.run(ctx, dir, local, "checkout", "--quiet", "--detach", commit, "--"); err != nil {
			return nil, fmt.Errorf("check out %s in %s: %w; run git status there, then hybrid sources sync again", short(commit), display, err)
		}
		now, err := g.head(ctx, dir, local)
		if err != nil {
			return nil, err
		}
		if now != commit {
			return nil, fmt.Errorf("after checking out %s in %s, HEAD is %q; run git status there, then hybrid sources sync again", commit, display, now)
		}
	}

	res = &SyncResult{Dir: display, Kind: ref.Kind, From: from, Commit: commit}
	switch {
	case !exists:
		res.Action, res.From = ActionCloned, ""
	case from == commit:
		res.Action = ActionUnchanged
	default:
		res.Action = ActionUpdated
	}
	return res, nil
}

// fetchAndVerify fetches what ref needs into dir and checks that commit is
// what the ref leads to.
func (g *Git) fetchAndVerify(ctx context.Context, dir string, env []string, src Source, url string, ref Resolved, commit string) error {
	fetch := func(refspecs ...string) error {
		args := append([]string{"fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--end-of-options", "origin"}, refspecs...)
		if _, err := g.run(ctx, dir, env, args...); err != nil {
			return fmt.Errorf("cannot fetch %s from %s: %w; check the URL and that your git credentials or SSH keys give access to it", src.Ref, src.URL, err)
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
		return fmt.Errorf("%w: commit %s of source %s is not in %s; check the source's ref", ErrRefNotFound, commit, src.Name, src.URL)
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
