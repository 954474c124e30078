package sources

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRefNotFound is wrapped by Resolve and Sync when the remote has no branch
// or tag of the given name.
var ErrRefNotFound = errors.New("ref not found")

// ErrNotRepository is wrapped when a source directory exists but is not the
// top of a git checkout.
var ErrNotRepository = errors.New("not a git checkout")

// DirtyError is a checkout with modified, staged or untracked files. Hybrid
// refuses to move such a checkout and never discards the changes.
type DirtyError struct {
	// Dir is the checkout, as the caller named it (such as sources/examples).
	Dir string
	// Files are the changed paths, relative to Dir, in git status order.
	Files []string
	// Interrupted is set when a sync of the checkout was interrupted (its
	// in-progress marker is there) and Files are the changes that sync
	// could not have made: the user's. Hybrid finishes the sync once they
	// are gone.
	Interrupted bool
}

// maxListed bounds how many files an error message names.
const maxListed = 10

// Error lists the changed files and says how to proceed.
func (e *DirtyError) Error() string {
	if e.Interrupted {
		return fmt.Sprintf("%s has local changes hybrid will not overwrite (%s), made after a sync of it was interrupted; remove or stash them (git stash -u), then run hybrid sources sync again to finish that sync, or delete %s so hybrid clones it again",
			e.Dir, listFiles(e.Files), e.Dir)
	}
	return fmt.Sprintf("%s has local changes hybrid will not overwrite (%s); commit, stash or remove them, or delete %s so hybrid clones it again",
		e.Dir, listFiles(e.Files), e.Dir)
}

func listFiles(files []string) string {
	n := len(files)
	word := "files"
	if n == 1 {
		word = "file"
	}
	shown := files
	if n > maxListed {
		shown = files[:maxListed]
	}
	s := fmt.Sprintf("%d %s: %s", n, word, strings.Join(shown, ", "))
	if n > maxListed {
		s += fmt.Sprintf(" and %d more", n-maxListed)
	}
	return s
}

// OriginError is a checkout whose origin remote is not the source's URL.
type OriginError struct {
	// Dir is the checkout, as the caller named it.
	Dir string
	// Want is the URL in the configuration; Got is the checkout's origin URL,
	// empty when it has no origin.
	Want, Got string
}

// Error names both URLs and says how to proceed.
func (e *OriginError) Error() string {
	got := fmt.Sprintf("is a checkout of %s", maskCredentials(e.Got))
	if e.Got == "" {
		got = "has no origin remote"
	}
	return fmt.Sprintf("%s %s, but the source's url is %s; fix the url, or delete %s so hybrid clones it again",
		e.Dir, got, maskCredentials(e.Want), e.Dir)
}

// TamperError is a locked commit that the source's ref does not lead to: not
// in the branch's history, not the commit the tag points to, or not the
// commit the ref names. Either the lockfile was edited by hand or the ref was
// rewritten upstream (a force-push, a moved tag).
type TamperError struct {
	// Name is the source name.
	Name string
	// URL and Ref are the source's repository and ref; Kind is what Ref is.
	URL, Ref string
	Kind     RefKind
	// Commit is the locked commit; RefCommit is where Ref points now.
	Commit, RefCommit string
}

// Error says which commit the ref leads to and how to pin it again.
func (e *TamperError) Error() string {
	var what string
	switch e.Kind {
	case KindTag:
		what = fmt.Sprintf("tag %s at %s points to %s, not to the locked commit %s", e.Ref, maskCredentials(e.URL), e.RefCommit, e.Commit)
	case KindCommit:
		what = fmt.Sprintf("the ref of source %s is the commit %s, but the lockfile pins %s", e.Name, e.Ref, e.Commit)
	default:
		what = fmt.Sprintf("locked commit %s is not in the history of %s %s at %s (now at %s)", e.Commit, e.Kind, e.Ref, maskCredentials(e.URL), e.RefCommit)
	}
	return fmt.Sprintf("%s; the lockfile may have been edited by hand, or the ref rewritten upstream; run hybrid lock -upgrade %s to pin the ref again", what, e.Name)
}
