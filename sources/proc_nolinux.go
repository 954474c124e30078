//go:build !linux

package sources

import "os/exec"

// dieWithParent does nothing off Linux, which has no parent-death signal: a
// Tree's git there exits when Close closes its standard input or kills it,
// or on its own once hybrid is gone and its standard input reaches EOF; a
// git that Sync or Fetch started runs to its end, and the next hybrid to
// take the source's lock waits for it (see sourceLock).
func dieWithParent(cmd *exec.Cmd) {}

// knowsStartTimes is false where processStart cannot tell a process from a
// later one that reuses its PID.
const knowsStartTimes = false

// processStart is not known off Linux.
func processStart(pid int) (uint64, bool) { return 0, false }

// allZombies is false off Linux, where it is not known: a zombie counts as
// a living member of its group.
func allZombies(pgid int) bool { return false }
