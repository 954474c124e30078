//go:build !unix

package sources

import (
	"context"
	"errors"
	"os/exec"
)

// noFollow is 0 off Unix: lockSource checks the path with Lstat.
const noFollow = 0

// detach leaves cmd as it is: off Unix, git relies on stdin at EOF and
// GIT_TERMINAL_PROMPT=0 not to prompt, and cancelling kills the process.
func detach(cmd *exec.Cmd) {}

// superviseGroup does nothing off Unix, which has no process groups to
// signal: cancelling kills git itself.
func superviseGroup(ctx context.Context, cmd *exec.Cmd) (stop func()) { return func() {} }

// groupExists is false off Unix: hybrid records no process groups there.
func groupExists(pgid int) bool { return false }

// killGroup fails off Unix.
func killGroup(pgid int) error { return errors.New("process groups are Unix only") }
