//go:build unix && !linux

package state

import (
	"errors"
	"fmt"
	"syscall"
)

// processStart is not known off Linux.
func processStart(pid int) (uint64, bool) { return 0, false }

// findOrphans lists, off Linux, the recorded children's process groups
// that still have members. Without start times hybrid cannot tell such a
// group from one that reused its ID, so it only waits for it (see
// killProcessGroup).
func findOrphans(prev *LockInfo) []orphan {
	var out []orphan
	for i, c := range prev.Children {
		if c.PGID > 1 && syscall.Kill(-c.PGID, 0) == nil {
			out = append(out, orphan{Proc: Proc{PID: c.PGID, Command: "process group"}, pgid: c.PGID, child: i, group: true})
		}
	}
	return out
}

// killProcessGroup does not kill off Linux: hybrid cannot check that the
// group is still the one its dead holder started.
func killProcessGroup(pgid int) error {
	return fmt.Errorf("not killed: on this system hybrid cannot check that process group %d is still the one the dead holder started; if it is, end it with kill -KILL -- -%d", pgid, pgid)
}

// killOrphan is never called off Linux: findOrphans finds groups only.
func killOrphan(o orphan) error {
	return errors.New("not supported on this system")
}

// groupHasLive reports whether the process group pgid has members.
func groupHasLive(pgid int) bool { return pgid > 1 && syscall.Kill(-pgid, 0) == nil }
