// Package sources owns hybrid's git operations: resolving a source's ref to a
// commit with `git ls-remote`, and bringing a checkout under sources/<name> to
// its locked commit (clone without checkout, fetch, verify, detached checkout).
//
// It drives the git CLI rather than a Go git library, so a source is fetched
// exactly as the user's own git would fetch it: with their credential helpers,
// their SSH configuration and their url.<base>.insteadOf rewrites.
//
// Everything that reaches git from hybrid.hcl or the lockfile is untrusted.
// Names, URLs and refs are validated before git runs (ValidateName,
// ValidateURL, ValidateRef), untrusted arguments follow --end-of-options, the
// ext:: and fd:: transports are disabled, and git never prompts: it runs
// without a terminal (in its own session on Unix), with stdin at EOF,
// GIT_TERMINAL_PROMPT=0, GCM_INTERACTIVE=never and ssh in BatchMode.
//
// The package never discards a user's work: a checkout with modified or
// untracked files is refused, never reset or cleaned. It writes no file of its
// own (git writes the checkouts) and records nothing: the caller stores the
// commits it reports in the state.
//
// It needs git 2.24 or newer (for --end-of-options).
package sources
