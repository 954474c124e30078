// Package sources owns hybrid's git operations: resolving a source's ref to a
// commit with `git ls-remote`, bringing a checkout under sources/<name> to
// its locked commit (clone without checkout, fetch, verify, detached
// checkout), and reading a source's files at its locked commit from git
// objects rather than from the checkout, so that a plan sees exactly what
// apply will build.
//
// The objects come from a per-source object store, a bare repository at
// sources/.store/<name>.git that Store.Fetch fills and pins commits in, or
// else from the checkout's own .git (ObjectsFor chooses). A Tree reads one
// commit's files through a single long-lived `git cat-file --batch` process
// and implements io/fs, refusing symbolic links that lead outside the
// repository.
//
// It drives the git CLI rather than a Go git library, so a source is fetched
// exactly as the user's own git would fetch it: with their credential helpers,
// their SSH configuration and their url.<base>.insteadOf rewrites.
//
// Everything that reaches git from hybrid.hcl or the lockfile is untrusted.
// Names, URLs and refs are validated before git runs (ValidateName,
// ValidateURL, ValidateRef), untrusted arguments follow --end-of-options, the
// ext:: and fd:: transports are disabled, and git never prompts: it runs
// without a terminal (in its own session on Unix), with stdin at EOF (a
// Tree's cat-file reads only object names from hybrid), GIT_TERMINAL_PROMPT=0,
// GCM_INTERACTIVE=never and ssh in BatchMode.
//
// The package never discards a user's work: a checkout with modified or
// untracked files is refused, never reset or cleaned. Git writes the
// checkouts; the package itself only makes the stores (git init in a
// temporary directory beside the store, then a rename) and removes a store
// that git cannot use, which is safe because a store holds nothing of the
// user's. It records nothing: the caller stores the commits it reports in the
// state. Reading (ObjectsFor, Tree) writes nothing at all.
//
// Sync and Store.Fetch survive being killed at any moment, with or without
// their git, and the next call recovers with no manual step (lock.go,
// recover.go). Each holds an OS file lock per source, <root>/.<name>.lock,
// whose file records the process group of the git it runs, so the next
// holder can end a git a killed one left. A first clone is made in
// <root>/.<name>.tmp-<digits> and renamed into place when checked out; the
// next Sync removes such leftovers. An update writes
// .git/hybrid-sync-in-progress (the commits it moves between) before it
// fetches; a Sync that finds it removes git's stale lock files there and
// finishes the checkout, discarding only changes that the interrupted
// checkout could have made, which are contents of the two commits: any
// other change is still refused. In a store, whose lock files can only be
// a killed Fetch's, stale lock files are removed on every Fetch.
//
// Every git runs supervised: in a process group of its own, which is
// killed as a whole when the context ends (SIGTERM, then SIGKILL), and on
// Linux with a parent-death signal, so it dies with hybrid.
//
// It needs git 2.24 or newer (for --end-of-options); sources in SHA-256
// repositories need git 2.29 or newer.
package sources
