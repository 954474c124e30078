//go:build linux

package state_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/state"
)

// procState returns the state letter of process pid ("" when it is gone).
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f[0]
}

// alive reports whether pid runs (a zombie has ended).
func alive(pid int) bool {
	s := procState(pid)
	return s != "" && s != "Z" && s != "X"
}

// groupMembers lists the live processes of process group pgid.
func groupMembers(pgid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) {
			out = append(out, pid)
		}
	}
	return out
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// killedHolder starts a lock-and-spawn child, waits until everything it
// starts runs, kills it with SIGKILL and returns its lock ID, the leader of
// the recorded group with the group's members, and the unrecorded process.
func killedHolder(t *testing.T, path string) (id string, leader int, members []int, stray int) {
	t.Helper()
	ch := startChild(t, "lock-and-spawn", childPath+"="+path)
	line, err := bufio.NewReader(ch.stdout).ReadString('\n')
	if err != nil {
		ch.cmd.Process.Kill()
		ch.cmd.Wait()
		t.Fatalf("child printed nothing: %v: %s", err, ch.stderr)
	}
	if _, err := fmt.Sscanf(line, "%s %d %d", &id, &leader, &stray); err != nil {
		t.Fatalf("child printed %q", line)
	}
	t.Cleanup(func() {
		syscall.Kill(-leader, syscall.SIGKILL)
		syscall.Kill(stray, syscall.SIGKILL)
	})
	waitFor(t, "the recorded group has its two processes", func() bool { return len(groupMembers(leader)) == 2 })
	members = groupMembers(leader)
	if err := ch.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ch.cmd.Wait()
	for _, pid := range append(slices.Clone(members), stray) {
		if !alive(pid) {
			t.Fatalf("process %d ended with its hybrid; the test needs it to outlive it", pid)
		}
	}
	return id, leader, members, stray
}

func TestTakeoverEndsDeadHoldersChildren(t *testing.T) {
	path := tempStatePath(t)
	dead, leader, members, stray := killedHolder(t, path)

	// The lock info names the recorded child, with its start time.
	var info state.LockInfo
	b, err := os.ReadFile(path + state.LockInfoSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	if len(info.Children) != 1 || info.Children[0].PID != leader || info.Children[0].PGID != leader || info.Children[0].Start == 0 {
		t.Fatalf("lock info children %+v, want the group led by %d with its start time", info.Children, leader)
	}

	start := time.Now()
	l := state.NewLocal(path)
	id, err := l.Lock(context.Background(), state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatalf("Lock after a holder died with children running: %v", err)
	}
	took := time.Since(start)
	defer l.Unlock(id)
	if s := l.StaleLock(); s == nil || s.ID != dead {
		t.Errorf("StaleLock() = %+v, want the dead holder's lock %s", s, dead)
	}

	// Lock returned only once all of them were gone.
	for _, pid := range append(slices.Clone(members), stray) {
		if alive(pid) {
			t.Errorf("process %d of the dead holder still runs after Lock", pid)
		}
	}
	if m := groupMembers(leader); len(m) > 0 {
		t.Errorf("process group %d still has members %v", leader, m)
	}

	// And it says what it killed.
	ended := l.EndedChildren()
	if len(ended) != 2 {
		t.Fatalf("EndedChildren() = %+v, want the recorded group and the unrecorded process", ended)
	}
	if ended[0].Child.PID != 0 || len(ended[0].Killed) != 1 || ended[0].Killed[0].PID != stray {
		t.Errorf("first entry %+v, want the unrecorded process %d, killed", ended[0], stray)
	}
	slices.Sort(members)
	var killed []int
	for _, p := range ended[1].Killed {
		killed = append(killed, p.PID)
	}
	if ended[1].Child.PID != leader || !slices.Equal(killed, members) {
		t.Errorf("second entry %+v, want the group of %d with %v killed", ended[1], leader, members)
	}
	msg := ended[1].String()
	want := fmt.Sprintf("packer build for build.test.recorded (pid %d, process group %d): killed %d sleep", leader, leader, members[0])
	if !strings.HasPrefix(msg, want) {
		t.Errorf("EndedChildren()[1].String() = %q, want it to start %q", msg, want)
	}
	t.Logf("a killed holder left %d processes in its recorded group and 1 outside it: Lock killed all %d in %s: %s; %s",
		len(members), len(members)+1, took.Round(time.Millisecond), ended[1], ended[0])

	// The new holder's lock info holds none of them.
	b, _ = os.ReadFile(path + state.LockInfoSuffix)
	info = state.LockInfo{}
	json.Unmarshal(b, &info)
	if info.ID != id || len(info.Children) != 0 {
		t.Errorf("new lock info %+v, want lock %s with no children", info, id)
	}
}

func TestForceUnlockEndsDeadHoldersChildren(t *testing.T) {
	path := tempStatePath(t)
	dead, leader, members, stray := killedHolder(t, path)
	l := state.NewLocal(path)
	if err := l.ForceUnlock(context.Background(), dead); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	for _, pid := range append(members, stray) {
		if alive(pid) {
			t.Errorf("process %d of the dead holder still runs after ForceUnlock", pid)
		}
	}
	if ended := l.EndedChildren(); len(ended) != 2 || ended[1].Child.PID != leader {
		t.Errorf("EndedChildren() = %+v, want the group of %d and the unrecorded process", ended, leader)
	}
	if _, err := os.Stat(path + state.LockInfoSuffix); !os.IsNotExist(err) {
		t.Errorf("lock info still there after ForceUnlock (stat: %v)", err)
	}
}

// TestTakeoverChecksStartTime: a recorded child whose PID now belongs to a
// process with another start time is someone else's, and is left alone.
func TestTakeoverChecksStartTime(t *testing.T) {
	for _, tc := range []struct {
		name     string
		skew     uint64
		wantKill bool
	}{
		{"same process", 0, true},
		{"pid reused", 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempStatePath(t)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sleep", "60")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid := cmd.Process.Pid
			waited := make(chan struct{})
			go func() { cmd.Wait(); close(waited) }()
			t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL); <-waited })
			start := startTime(t, pid)

			// What a holder that died leaves: lock info with its child,
			// and the OS lock free.
			info := state.LockInfo{ID: "6f1d2c3b-0000-4000-8000-000000000002", Operation: "apply", PID: 999999,
				Children: []state.Child{{PID: pid, PGID: pid, Start: start + tc.skew, What: "packer build for build.test.x"}}}
			b, _ := json.Marshal(info)
			if err := os.WriteFile(path+state.LockInfoSuffix, b, 0o644); err != nil {
				t.Fatal(err)
			}
			l := state.NewLocal(path)
			id, err := l.Lock(context.Background(), state.LockInfo{Operation: "plan"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Unlock(id)
			select {
			case <-waited:
				if !tc.wantKill {
					t.Errorf("process %d, whose start time is not the recorded one, was killed", pid)
				}
			case <-time.After(2 * time.Second):
				if tc.wantKill {
					t.Errorf("process %d, recorded with its start time, still runs", pid)
				}
			}
			if got := len(l.EndedChildren()); (got > 0) != tc.wantKill {
				t.Errorf("EndedChildren() = %+v", l.EndedChildren())
			}
		})
	}
}

func startTime(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	n, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChildRecords(t *testing.T) {
	path := tempStatePath(t)
	l := state.NewLocal(path)
	if err := l.AddChild(state.Child{PID: os.Getpid()}); err == nil {
		t.Error("AddChild without the lock succeeded")
	}
	if kv := l.ChildEnv(); kv != "" {
		t.Errorf("ChildEnv() without the lock = %q, want empty", kv)
	}
	id, err := l.Lock(context.Background(), state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock(id)
	if kv := l.ChildEnv(); kv != state.ChildEnv+"="+id {
		t.Errorf("ChildEnv() = %q, want %s=%s", kv, state.ChildEnv, id)
	}
	readChildren := func() []state.Child {
		t.Helper()
		var info state.LockInfo
		b, err := os.ReadFile(path + state.LockInfoSuffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &info); err != nil {
			t.Fatal(err)
		}
		return info.Children
	}

	// A group whose leader exits while a process it started runs on
	// stays recorded until that one ends too.
	cmd := exec.Command("sh", "-c", "sleep 60 & echo $!")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	if err := l.AddChild(state.Child{PID: pid, What: "packer build for build.test.x"}); err != nil {
		t.Fatal(err)
	}
	got := readChildren()
	if len(got) != 1 || got[0].PID != pid || got[0].PGID != pid || got[0].Start == 0 || got[0].What != "packer build for build.test.x" || got[0].Since.IsZero() {
		t.Fatalf("lock info children %+v, want process %d with its group, start time and description", got, pid)
	}
	var bg int
	fmt.Fscan(out, &bg)
	cmd.Wait()
	if err := l.RemoveChild(pid); err != nil {
		t.Fatal(err)
	}
	if got := readChildren(); len(got) != 1 {
		t.Errorf("the record of group %d went while its process %d still runs: %+v", pid, bg, got)
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	waitFor(t, "the background process is gone", func() bool { return !alive(bg) })
	if err := l.RemoveChild(pid); err != nil {
		t.Fatal(err)
	}
	if got := readChildren(); len(got) != 0 {
		t.Errorf("lock info children %+v after the group ended, want none", got)
	}
}

func TestOrphanErrorNamesProcesses(t *testing.T) {
	err := &state.OrphanError{
		Info:   &state.LockInfo{ID: "abc", Who: "ci@runner", Operation: "apply", PID: 42},
		Procs:  []state.Proc{{PID: 7, Command: "packer"}, {PID: 9, Command: "sleep"}},
		Reason: "operation not permitted",
	}
	want := "state lock abc was held by ci@runner (hybrid apply, pid 42), which is gone, but processes it started still run: 7 packer, 9 sleep (operation not permitted)"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want it to start %q", err.Error(), want)
	}
}
