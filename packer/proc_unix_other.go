//go:build unix && !linux

package packer

// awaitExit reports that this platform cannot wait for an exit without
// reaping, so the caller stops signalling only after Wait.
func awaitExit(pid int) bool { return false }
