//go:build !linux

package sources

import "os/exec"

// dieWithParent does nothing off Linux, which has no parent-death signal: a
// Tree's git there exits when Close closes its standard input or kills it,
// or on its own once hybrid is gone and its standard input reaches EOF.
func dieWithParent(cmd *exec.Cmd) {}
