//go:build unix

package state_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/hybridcore/hybrid/state"
)

// childLockAndSpawn takes the lock and starts what a packer build leaves
// when hybrid dies: a process group recorded in the lock info (a leader and
// a process it put in the background), and a process that left the group
// (a session of its own) and was never recorded, known only by ChildEnv.
// It prints "LOCKID LEADER STRAY" and waits to be killed.
func childLockAndSpawn(path string) error {
	b := state.NewLocal(path)
	id, err := b.Lock(context.Background(), state.LockInfo{Operation: "apply", Who: "killed@host"})
	if err != nil {
		return err
	}
	group := exec.Command("sh", "-c", "sleep 300 & exec sleep 301")
	group.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	group.Env = append(os.Environ(), b.ChildEnv())
	if err := group.Start(); err != nil {
		return err
	}
	if err := b.AddChild(state.Child{PID: group.Process.Pid, What: "packer build for build.test.recorded"}); err != nil {
		return err
	}
	stray := exec.Command("sleep", "302")
	stray.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stray.Env = append(os.Environ(), b.ChildEnv())
	if err := stray.Start(); err != nil {
		return err
	}
	fmt.Printf("%s %d %d\n", id, group.Process.Pid, stray.Process.Pid)
	io.Copy(io.Discard, os.Stdin)
	return nil
}
