//go:build !unix

package packer

import (
	"os"
	"os/exec"
)

func newProcessGroup(cmd *exec.Cmd) {}

// interruptGroup stops packer; without process groups and SIGINT it is
// killGroup.
func interruptGroup(p *os.Process) error { return p.Kill() }

func killGroup(p *os.Process) error { return p.Kill() }

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }

func awaitExit(pid int) bool { return false }

func dieWithParent(cmd *exec.Cmd) {}
