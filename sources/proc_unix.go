//go:build unix

package sources

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a new session, without a controlling terminal, so
// neither git nor ssh nor a credential helper can open /dev/tty to prompt.
// Cancelling the command sends SIGTERM to the whole process group (git and
// the ssh or helper processes it started), which lets git remove its lock
// files before it exits.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
}
