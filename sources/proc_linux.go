//go:build linux

package sources

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill cmd when hybrid dies, so a long-lived
// git (the cat-file behind a Tree) never outlives a hybrid that was killed
// before it could Close the Tree. Call it after detach, which sets
// SysProcAttr.
//
// Linux sends the signal when the thread that started cmd exits, not the
// process; Go only ends threads whose goroutine exits while locked to its
// thread, which hybrid never does. A Tree whose git died anyway starts it
// again on the next read.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
