//go:build unix

package sources

import (
	"context"
	"errors"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// noFollow makes opening a path that is a symbolic link fail.
const noFollow = syscall.O_NOFOLLOW

// detach starts cmd in a new session, without a controlling terminal, so
// neither git nor ssh nor a credential helper can open /dev/tty to prompt.
// The session makes git the leader of a process group of its own, which
// holds every process it starts (ssh, credential helpers, index-pack, the
// gc a fetch may run). Cancelling the command sends SIGTERM to the whole
// group, which lets git remove its lock files before it exits; superviseGroup
// follows with SIGKILL if that is not enough.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
}

// superviseGroup kills the process group of the started cmd with SIGKILL
// when ctx ends and the group has not gone waitDelay later (os/exec itself
// would kill only git, leaving an ssh or a gc it started running). Call
// the returned stop as soon as cmd.Wait returns; the group is never
// signalled after that.
//
// A process group ID cannot be handed to a new process while any member of
// the group lives, so the only window in which the signal could reach
// another group is between Wait reaping git and stop, with every other
// member already gone and the PID reused within that window.
func superviseGroup(ctx context.Context, cmd *exec.Cmd) (stop func()) {
	pid := cmd.Process.Pid
	var mu sync.Mutex
	stopped := false
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		t := time.NewTimer(waitDelay)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			mu.Lock()
			if !stopped {
				syscall.Kill(-pid, syscall.SIGKILL)
			}
			mu.Unlock()
		}
	}()
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		close(done)
	}
}

// groupExists reports whether a process group pgid of this user has a
// living member. A group of another user (EPERM) cannot be one hybrid
// started; members that are zombies are dead, waiting for a parent (which
// may never come: not every init reaps orphans) to collect their status.
func groupExists(pgid int) bool {
	return pgid > 0 && syscall.Kill(-pgid, 0) == nil && !allZombies(pgid)
}

// killGroup sends SIGKILL to the process group pgid.
func killGroup(pgid int) error {
	if pgid <= 0 {
		return errors.New("no process group")
	}
	return syscall.Kill(-pgid, syscall.SIGKILL)
}
