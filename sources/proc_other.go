//go:build !unix

package sources

import "os/exec"

// detach leaves cmd as it is: off Unix, git relies on stdin at EOF and
// GIT_TERMINAL_PROMPT=0 not to prompt, and cancelling kills the process.
func detach(cmd *exec.Cmd) {}
