//go:build !unix

package state

import "errors"

// processStart is not known off Unix.
func processStart(pid int) (uint64, bool) { return 0, false }

// findOrphans finds nothing off Unix, which has no process groups: hybrid
// records no children there.
func findOrphans(prev *LockInfo) []orphan { return nil }

func killProcessGroup(pgid int) error { return errors.New("process groups are Unix only") }

func killOrphan(o orphan) error { return errors.New("not supported on this system") }

func groupHasLive(pgid int) bool { return false }
