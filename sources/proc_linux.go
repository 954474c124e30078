//go:build linux

package sources

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// dieWithParent makes the kernel kill cmd when hybrid dies, so no git
// (neither a command of Sync or Fetch nor the cat-file behind a Tree)
// outlives a hybrid that was killed before it could end it. Call it after
// detach, which sets SysProcAttr.
//
// Linux sends the signal when the thread that started cmd exits, not the
// process; Go only ends threads whose goroutine exits while locked to its
// thread, which hybrid never does. Go's fork checks the parent is still the
// one that started it after setting the signal, so a hybrid killed during
// the fork is caught too. The signal reaches git only: the processes git
// starts (ssh, index-pack, a gc) are in git's process group, which the next
// hybrid to take the source's lock ends (see sourceLock).
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// knowsStartTimes is true where processStart can tell a process from a
// later one that reuses its PID.
const knowsStartTimes = true

// processStart returns when the process pid started, in clock ticks since
// boot (field 22 of /proc/PID/stat), or false if there is no such process.
func processStart(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: count fields from
	// the last ')'. The state is field 3, the start time field 22.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, false
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, false
	}
	return start, true
}

// allZombies reports whether every member of the process group pgid is a
// zombie, from /proc.
func allZombies(pgid int) bool {
	list, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range list {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		// Fields from the state on: state, ppid, pgrp.
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		if f[0] != "Z" && f[0] != "X" {
			return false
		}
	}
	return true
}
