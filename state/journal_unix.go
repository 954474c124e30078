//go:build unix

package state

import "syscall"

// oNoFollow makes opening the journal fail when it is a symbolic link, so
// that no link planted in its place sends an append elsewhere.
const oNoFollow = syscall.O_NOFOLLOW
