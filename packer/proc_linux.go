package packer

import (
	"errors"
	"os/exec"
	"syscall"

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

// dieWithParent makes the kernel kill packer (SIGKILL) when hybrid dies, so
// a hybrid killed with SIGKILL leaves no packer building. The signal is sent
// when the thread that started packer exits, so the caller keeps that thread
// locked until packer is reaped. Go's fork checks that the parent is still
// the one that started it after setting the signal, so a hybrid killed
// during the fork is caught too. The signal reaches packer only: what it
// started stays in its process group, which the caller records (see
// BuildOptions.Track). Call it after newProcessGroup.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
