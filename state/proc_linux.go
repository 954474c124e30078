//go:build linux

package state

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// procStat is what /proc/PID/stat says of one process.
type procStat struct {
	pid, pgid int
	// start is when it started, in clock ticks since boot.
	start uint64
	comm  string
	// gone is true for a zombie: it has exited and waits to be reaped.
	gone bool
}

// readStat reads /proc/PID/stat; false when there is no such process.
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// pid (comm) state ppid pgrp ... starttime (field 22): comm may hold
	// spaces and parentheses, so fields are counted from the last ')'.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 20 {
		return procStat{}, false
	}
	p := procStat{pid: pid, comm: string(b[open+1 : end]), gone: f[0] == "Z" || f[0] == "X"}
	p.pgid, _ = strconv.Atoi(f[2])
	p.start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, false
	}
	return p, true
}

// processStart returns when process pid started, in clock ticks since boot,
// or false if there is no such process.
func processStart(pid int) (uint64, bool) {
	p, ok := readStat(pid)
	return p.start, ok
}

// hasEnv reports whether the environment of process pid holds the entry kv
// ("NAME=value"). Processes of other users cannot be read, and are not a
// hybrid's children.
func hasEnv(pid int, kv string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	entry := []byte(kv)
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return bytes.Equal(b, entry)
		}
		if bytes.Equal(b[:i], entry) {
			return true
		}
		b = b[i+1:]
	}
	return false
}

// findOrphans lists the live processes the dead holder prev left: every
// process in the process group of a recorded child that is still that
// child's group, and every process whose environment carries prev's
// ChildEnv.
//
// A recorded group is still the child's when its leader is alive (or a
// zombie) with the recorded start time, or when the leader is gone and
// members remain: a process group ID is not reused while the group has
// members. A leader with another start time means the PID was reused, and
// the group is someone else's.
func findOrphans(prev *LockInfo) []orphan {
	groups := map[int]int{} // process group ID -> index in prev.Children
	for i, c := range prev.Children {
		if c.PGID <= 0 {
			continue
		}
		if leader, ok := readStat(c.PGID); ok && (c.Start == 0 || leader.start != c.Start) {
			continue
		}
		groups[c.PGID] = i
	}
	marker := ""
	if prev.ID != "" {
		marker = ChildEnv + "=" + prev.ID
	}
	if len(groups) == 0 && marker == "" {
		return nil
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []orphan
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || isSelf(pid) {
			continue
		}
		p, ok := readStat(pid)
		if !ok || p.gone {
			continue
		}
		o := orphan{Proc: Proc{PID: pid, Command: p.comm}, pgid: p.pgid, start: p.start, child: -1}
		if i, ok := groups[p.pgid]; ok {
			o.child, o.group = i, true
			out = append(out, o)
			continue
		}
		if marker != "" && hasEnv(pid, marker) {
			for i, c := range prev.Children {
				if c.PGID == p.pgid {
					o.child = i
				}
			}
			out = append(out, o)
		}
	}
	return out
}

// killProcessGroup sends SIGKILL to the process group pgid.
func killProcessGroup(pgid int) error {
	if pgid <= 1 {
		return errors.New("no process group to kill")
	}
	err := syscall.Kill(-pgid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// killOrphan sends SIGKILL to the process o, found by its environment,
// through a pidfd taken before its identity is checked again, so the signal
// cannot reach a process that reused its PID.
func killOrphan(o orphan) error {
	fd, err := unix.PidfdOpen(o.PID, 0)
	if err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		if !errors.Is(err, syscall.ENOSYS) {
			return err
		}
		// No pidfds (Linux < 5.3): check and kill in quick succession.
		if p, ok := readStat(o.PID); !ok || p.start != o.start {
			return nil
		}
		return ignoreGone(syscall.Kill(o.PID, syscall.SIGKILL))
	}
	defer unix.Close(fd)
	if p, ok := readStat(o.PID); !ok || p.start != o.start {
		return nil
	}
	return ignoreGone(unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0))
}

func ignoreGone(err error) error {
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// groupHasLive reports whether a process of group pgid, other than a
// zombie, is running.
func groupHasLive(pgid int) bool {
	if pgid <= 1 || syscall.Kill(-pgid, 0) != nil {
		return false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readStat(pid); ok && !p.gone && p.pgid == pgid {
			return true
		}
	}
	return false
}
