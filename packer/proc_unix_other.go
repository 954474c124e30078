//go:build unix && !linux

package packer

import "os/exec"

// awaitExit reports that this platform cannot wait for an exit without
// reaping, so the caller stops signalling only after Wait.
func awaitExit(pid int) bool { return false }

// dieWithParent does nothing where there is no parent-death signal: a
// packer left by a killed hybrid is ended by the next hybrid to take the
// state lock, from the lock info (see BuildOptions.Track).
func dieWithParent(cmd *exec.Cmd) {}
