package sources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StoreDir is the directory inside the sources directory that holds one bare
// repository per source: <sources>/.store/<name>.git. (A source name must
// start with a lowercase letter or a digit, so it can never collide with
// ".store".)
const StoreDir = ".store"

// lockedRefPrefix is where a store pins each commit it fetched, so that git
// gc in the store never drops it: refs/hybrid/locked/<commit>.
const lockedRefPrefix = "refs/hybrid/locked/"

// scanRefPrefix holds the branches and tags of a remote fetched while
// looking for a commit that the remote would not send by name. The refs are
// deleted again once the commit is pinned.
const scanRefPrefix = "refs/hybrid/scan/"

// tempStorePrefix starts the name of the temporary directory a store is
// made in before it is renamed into place. It starts with '.', so it can
// never be a store's own name (<name>.git, with name starting with a letter
// or a digit).
const tempStorePrefix = ".tmp-"

// Store is the local object store of one source: a bare repository that
// holds the commits hybrid fetched for it, each pinned by a ref so git gc
// keeps it. It holds nothing of the user's, so hybrid may remove and make it
// again at any time.
type Store struct {
	git *Git
	// dir is the absolute path of <root>/.store/<name>.git.
	dir  string
	name string
}

// Store returns the object store of the source name under the sources
// directory root. A relative root is made absolute against the current
// directory. Store does no I/O; Fetch and Has validate name.
func (g *Git) Store(root, name string) *Store {
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = filepath.Clean(root)
	}
	return &Store{git: g, dir: filepath.Join(abs, StoreDir, name+".git"), name: name}
}

// Dir returns the bare repository's path.
func (s *Store) Dir() string { return s.dir }

// NotFetchedError is a locked commit that neither the source's object store
// nor its checkout holds, so it cannot be read without the network.
type NotFetchedError struct {
	// Name is the source name; Commit the locked commit.
	Name, Commit string
}

// Error says which commit is missing and how to fetch it.
func (e *NotFetchedError) Error() string {
	return fmt.Sprintf("commit %s of source %s is not in the local object store; run hybrid init (or hybrid sources sync %s) to fetch it",
		short(e.Commit), e.Name, e.Name)
}

// Has reports whether commit is present in the store. It is false, nil when
// the store does not exist, or is not a repository that git can read.
func (s *Store) Has(ctx context.Context, commit string) (bool, error) {
	if err := s.validate(commit); err != nil {
		return false, err
	}
	ok, err := s.isDir()
	if err != nil || !ok {
		return false, err
	}
	return s.git.hasCommit(ctx, s.dir, withGitDir(s.git.environ(nil), s.dir), strings.ToLower(commit))
}

// validate checks the store's name and a commit given to it.
func (s *Store) validate(commit string) error {
	if err := ValidateName(s.name); err != nil {
		return err
	}
	if !IsFullCommit(commit) {
		return fmt.Errorf("%w: locked commit %q of source %s is not a full commit hash; run hybrid lock -upgrade %s", ErrInvalid, commit, s.name, s.name)
	}
	return nil
}

// isDir reports whether the store path is a directory: not missing, and not
// a file or a symbolic link. git reads a file there as a pointer ("gitdir:
// PATH") to another repository, which the store must never write to.
func (s *Store) isDir() (bool, error) {
	fi, err := os.Lstat(s.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	}
	return fi.IsDir(), nil
}

// Fetch makes sure commit (a full hash) is in the store, fetching it from
// url if needed; a commit already present needs no network.
//
// A missing store is made in a temporary directory beside it and renamed
// into place, so a killed Fetch never leaves a half-made store. Fetch holds
// the source's lock (sourceLock), so what a killed Fetch left is repaired
// by the next: a git it left running is ended, its temporary stores and
// the lock files its git left in the store are removed (a half-written
// pack is git's to ignore), and a store git cannot use is made again. A store path
// that is not a bare repository of the commit's object format is removed and
// made again: the store holds only fetched objects.
//
// Fetch first fetches ref (a branch or tag name, or a full commit), as Sync
// would: url, ref and commit are validated before git runs, untrusted
// arguments follow --end-of-options, no tags are followed and git never
// prompts. If ref no longer leads to commit (the branch moved on or was
// rewritten), Fetch asks for the commit itself, which servers that allow
// fetching any reachable commit accept, and then looks for it in all the
// remote's branches and tags. The commit found is pinned by the ref
// refs/hybrid/locked/<commit>, so git gc in the store keeps it.
//
// Fetch does not check that ref leads to commit: Sync does that. A commit
// the remote does not have gives an error wrapping ErrRefNotFound.
func (s *Store) Fetch(ctx context.Context, url, ref, commit string) error {
	if err := s.validate(commit); err != nil {
		return err
	}
	if err := ValidateURL(url); err != nil {
		return err
	}
	if err := ValidateRef(ref); err != nil {
		return err
	}
	commit = strings.ToLower(commit)
	absolute, err := absURL(url)
	if err != nil {
		return err
	}
	lock, err := lockSource(ctx, filepath.Dir(filepath.Dir(s.dir)), s.name)
	if err != nil {
		return err
	}
	defer lock.unlock()
	ctx = withSupervisor(ctx, lock)
	local := withGitDir(s.git.environ(nil), s.dir)

	exists, err := s.isDir()
	if err != nil {
		return err
	}
	if exists {
		// Under the lock no other Fetch runs, and the lock ended any git
		// a killed one left: lock files in the store are stale.
		removeStaleGitLocks(s.dir)
		has, err := s.git.hasCommit(ctx, s.dir, local, commit)
		if err != nil {
			return err
		}
		if has {
			return s.pin(ctx, local, commit)
		}
	}
	if err := s.prepare(ctx, commit); err != nil {
		return err
	}

	env, err := s.git.networkEnv(ctx, filepath.Dir(s.dir))
	if err != nil {
		return err
	}
	env = withGitDir(env, s.dir)
	fetch := func(refspecs ...string) error {
		args := append([]string{"fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--end-of-options", absolute}, refspecs...)
		_, err := s.git.run(ctx, s.dir, env, args...)
		return err
	}
	has := func() (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("fetch source %s: %w", s.name, err)
		}
		return s.git.hasCommit(ctx, s.dir, local, commit)
	}

	// The ref: a branch still leading to the commit brings it with its
	// history. A refspec without a destination only writes FETCH_HEAD,
	// and "+" keeps a ref that starts with '+' itself a name.
	var refErr error
	if !IsFullCommit(ref) {
		refErr = fetch("+" + ref)
		if ok, err := has(); err != nil || ok {
			return s.pinOrErr(ctx, local, commit, err)
		}
	}
	// The commit by name.
	_ = fetch("+" + commit) // servers that refuse it fail; the scan below still may find it
	if ok, err := has(); err != nil || ok {
		return s.pinOrErr(ctx, local, commit, err)
	}
	// Every branch and tag, for servers that send only what they advertise.
	scanErr := fetch("+refs/heads/*:"+scanRefPrefix+"heads/*", "+refs/tags/*:"+scanRefPrefix+"tags/*")
	ok, err := has()
	if err == nil && ok {
		err = s.pin(ctx, local, commit)
	}
	if dropErr := s.dropScanRefs(ctx, local); err == nil && dropErr != nil {
		err = dropErr
	}
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	case scanErr != nil:
		return fmt.Errorf("cannot fetch commit %s of source %s from %s: %w; check the URL and that your git credentials or SSH keys give access to it", short(commit), s.name, maskCredentials(url), scanErr)
	}
	why := ""
	switch {
	case refErr != nil:
		why = fmt.Sprintf(" (fetching %s: %v)", ref, refErr)
	case !IsFullCommit(ref):
		why = fmt.Sprintf(" (not in the history of %s there)", ref)
	}
	return fmt.Errorf("%w: commit %s of source %s is not in %s%s; check the source's ref, or run hybrid lock -upgrade %s to pin it again", ErrRefNotFound, commit, s.name, maskCredentials(url), why, s.name)
}

// pinOrErr returns err, or pins commit when err is nil.
func (s *Store) pinOrErr(ctx context.Context, env []string, commit string, err error) error {
	if err != nil {
		return err
	}
	return s.pin(ctx, env, commit)
}

// pin points refs/hybrid/locked/<commit> at the present commit.
func (s *Store) pin(ctx context.Context, env []string, commit string) error {
	if _, err := s.git.run(ctx, s.dir, env, "update-ref", "-m", "hybrid: locked commit", "--end-of-options", lockedRefPrefix+commit, commit); err != nil {
		return fmt.Errorf("pin commit %s in the object store %s: %w", short(commit), s.dir, err)
	}
	return nil
}

// dropScanRefs deletes the refs a scan of every branch and tag left.
func (s *Store) dropScanRefs(ctx context.Context, env []string) error {
	out, err := s.git.run(ctx, s.dir, env, "for-each-ref", "--format=delete %(refname)", "--end-of-options", scanRefPrefix)
	if err != nil || len(out) == 0 {
		return err
	}
	_, err = s.git.runInput(ctx, s.dir, env, strings.NewReader(string(out)), "update-ref", "--stdin")
	return err
}

// prepare makes sure the store is a bare repository of commit's object
// format, making it afresh when it is missing or not one.
func (s *Store) prepare(ctx context.Context, commit string) error {
	format := objectFormat(commit)
	removeStaleTemps(filepath.Dir(s.dir), s.name)
	exists, err := s.isDir()
	if err != nil {
		return err
	}
	if exists {
		out, err := s.git.run(ctx, s.dir, withGitDir(s.git.environ(nil), s.dir), "rev-parse", "--is-bare-repository", "--show-object-format")
		var ce *commandError
		switch {
		case err == nil:
			lines := strings.Fields(string(out))
			got := "sha1" // git before 2.29 echoes the option, and knows only SHA-1
			if len(lines) > 1 && !strings.HasPrefix(lines[1], "-") {
				got = lines[1]
			}
			if len(lines) > 0 && lines[0] == "true" && got == format {
				return nil
			}
		case !errors.As(err, &ce):
			return err
		}
	}
	if _, err := os.Lstat(s.dir); err == nil {
		// Not a store hybrid can use: a file, a link, a directory
		// half-made by hand, or a store of the other object format.
		if err := os.RemoveAll(s.dir); err != nil {
			return fmt.Errorf("remove the broken object store %s: %w; delete it by hand", s.dir, err)
		}
	}
	return s.create(ctx, format)
}

// create makes the store: git init --bare in a temporary directory beside
// it, then a rename into place.
func (s *Store) create(ctx context.Context, format string) (err error) {
	parent := filepath.Dir(s.dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create the object store directory: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, tempStorePrefix+s.name+".git-")
	if err != nil {
		return fmt.Errorf("create the object store of source %s: %w", s.name, err)
	}
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	env := withGitDir(s.git.environ(nil), tmp)
	args := []string{"init", "--quiet", "--bare"}
	if format != "sha1" { // git before 2.29 has no --object-format, and makes SHA-1 stores
		args = append(args, "--object-format="+format)
	}
	if _, err := s.git.run(ctx, tmp, env, args...); err != nil {
		return fmt.Errorf("create the object store of source %s: %w", s.name, err)
	}
	// The git gc that a fetch may start runs inside that Fetch, never in a
	// background process that outlives hybrid (maintenance.autoDetach
	// follows gc.autoDetach).
	if _, err := s.git.run(ctx, tmp, env, "config", "gc.autoDetach", "false"); err != nil {
		return fmt.Errorf("configure the object store of source %s: %w", s.name, err)
	}
	if err := os.Rename(tmp, s.dir); err != nil {
		// Another hybrid made the store meanwhile: use it.
		if ok, _ := s.isDir(); ok {
			if _, err2 := s.git.run(ctx, s.dir, withGitDir(s.git.environ(nil), s.dir), "rev-parse", "--git-dir"); err2 == nil {
				return nil
			}
		}
		return fmt.Errorf("create the object store of source %s: %w", s.name, err)
	}
	tmp = ""
	return nil
}

// removeStaleTemps removes the temporary store directories of name that a
// killed Fetch left in parent. The caller holds the source's lock, so no
// Fetch of name is making one. A name is name's if it is
// .tmp-<name>.git-<digits> (what os.MkdirTemp makes): the digits keep a
// source "a" from taking those of a source "a.git-b".
func removeStaleTemps(parent, name string) {
	list, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	prefix := tempStorePrefix + name + ".git-"
	for _, e := range list {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || rest == "" || !allDigits(rest) {
			continue
		}
		os.RemoveAll(filepath.Join(parent, e.Name()))
	}
}

// objectFormat is the object format of the repository a full commit hash
// comes from.
func objectFormat(commit string) string {
	if len(commit) == 64 {
		return "sha256"
	}
	return "sha1"
}

// withGitDir returns a copy of env that makes git use the repository gitDir,
// whatever its working directory. environ removed any inherited GIT_DIR.
func withGitDir(env []string, gitDir string) []string {
	out := make([]string, 0, len(env)+1)
	out = append(out, env...)
	return append(out, "GIT_DIR="+gitDir)
}

// ObjectsFor returns the git directory to read commit of source name from:
// the source's object store when it has the commit, else the .git directory
// of its checkout <root>/<name> (made by Sync) when that has it, else a
// *NotFetchedError. It reads only: nothing is fetched or written.
func (g *Git) ObjectsFor(ctx context.Context, root, name, commit string) (string, error) {
	s := g.Store(root, name)
	has, err := s.Has(ctx, commit)
	if err != nil {
		return "", err
	}
	if has {
		return s.dir, nil
	}
	commit = strings.ToLower(commit)
	if gitDir, ok := checkoutGitDir(root, name); ok {
		has, err := g.hasCommit(ctx, gitDir, withGitDir(g.environ(nil), gitDir), commit)
		if err != nil {
			return "", err
		}
		if has {
			return gitDir, nil
		}
	}
	return "", &NotFetchedError{Name: name, Commit: commit}
}

// checkoutGitDir returns the .git directory of the checkout of a validated
// name under root, if there is one: a directory (not a file pointing
// elsewhere), in a checkout that is a directory or a link staying inside
// root, as Sync requires.
func checkoutGitDir(root, name string) (string, bool) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", false
	}
	rootReal, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", false
	}
	dir, exists, err := sourceDir(rootReal, name, filepath.Join(root, name))
	if err != nil || !exists {
		return "", false
	}
	gitDir := filepath.Join(dir, ".git")
	if fi, err := os.Lstat(gitDir); err != nil || !fi.IsDir() {
		return "", false
	}
	return gitDir, true
}
