//go:build unix

package packer

import (
	"os"
	"os/exec"
	"syscall"
)

// newProcessGroup puts packer in a process group of its own, so a Ctrl-C at
// the terminal reaches hybrid only, and hybrid decides what packer gets.
func newProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// interruptGroup sends SIGINT to packer's whole process group, as a terminal
// would: packer's outer process ignores SIGINT and lets its inner process,
// the plugins and the provisioners' commands receive it.
func interruptGroup(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGINT)
}

// killGroup sends SIGKILL to packer's whole process group, plugins included.
func killGroup(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGKILL)
}

// exitCode is the exit status, or 128+N when signal N killed the process.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
