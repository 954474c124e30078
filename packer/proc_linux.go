package packer

import (
	"errors"

	"golang.org/x/sys/unix"
)

// awaitExit blocks until process pid has exited without reaping it, and
// reports whether it could. While the process is unreaped its ID cannot be
// reused, so signals sent to its group up to that point cannot reach a
// stranger.
func awaitExit(pid int) bool {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil
	}
}
