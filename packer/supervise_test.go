//go:build unix

package packer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildChildEnv makes the test binary a process that runs one sleeping
// build in the work directory it names, prints packer's PID and waits to be
// killed (TestBuildDiesWithItsParent).
const buildChildEnv = "HYBRID_PACKER_TEST_BUILD_CHILD"

func TestMain(m *testing.M) {
	if work := os.Getenv(buildChildEnv); work != "" {
		os.Exit(buildChild(work))
	}
	os.Exit(m.Run())
}

func buildChild(work string) int {
	bin, err := Find(FindOptions{Pinned: []string{pinnedForTests}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmpl, _ := filepath.Abs(filepath.Join("testdata", "templates", "build"))
	inv := Invocation{Bin: bin, WorkDir: work, Template: tmpl, Only: []string{"null.linux-a"},
		VarFiles: []string{"sleep.pkrvars.hcl"}, Vars: map[string]string{"secret": "correct, horse battery"}}
	_, err = Build(context.Background(), inv, BuildOptions{Track: func(pid int) (func(), error) {
		fmt.Println(pid)
		return nil, nil
	}})
	fmt.Fprintln(os.Stderr, "the build ended before the test killed this process:", err)
	return 1
}

// TestBuildTrack checks the hook that lets the caller record packer's
// process: it gets packer's PID, which leads a process group of its own,
// while packer runs, and hears when packer has been reaped.
func TestBuildTrack(t *testing.T) {
	f := newBuildFixture(t, nil)
	var tracked int
	var group int
	var untracked bool
	res, err := Build(context.Background(), f.invocation(t, []string{"null.linux-a"}), BuildOptions{Track: func(pid int) (func(), error) {
		tracked = pid
		group, _ = syscall.Getpgid(pid)
		return func() {
			untracked = true
			// By now packer is reaped.
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) && runtime.GOOS == "linux" {
				t.Errorf("untrack called while process %d exists (kill: %v)", pid, err)
			}
		}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusSucceeded {
		t.Fatalf("Build = %s, want succeeded", res.Status)
	}
	if tracked == 0 || group != tracked {
		t.Errorf("Track got pid %d in process group %d; want packer's PID, leading its own group", tracked, group)
	}
	if !untracked {
		t.Error("untrack was not called")
	}
}

// TestBuildTrackFails checks that a packer whose process could not be
// recorded is stopped at once and the error returned.
func TestBuildTrackFails(t *testing.T) {
	f := newBuildFixture(t, map[string]string{"sleep.pkrvars.hcl": "sleep = 30\n"})
	start := time.Now()
	var pid int
	res, err := Build(context.Background(), f.invocation(t, []string{"null.linux-a"}, "sleep.pkrvars.hcl"), BuildOptions{Track: func(p int) (func(), error) {
		pid = p
		return nil, errors.New("read-only file system")
	}})
	if err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Fatalf("Build error = %v, want the Track error", err)
	}
	if res == nil || res.Status != StatusCancelled {
		t.Fatalf("Build = %+v, want a cancelled result", res)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Build took %s: packer was not stopped at once", d)
	}
	assertGone(t, pid)
	if _, err := os.Stat(filepath.Join(f.work, "out.txt")); err == nil {
		t.Error("the provisioner ran: packer was not stopped at once")
	}
}

// TestBuildDiesWithItsParent kills, with SIGKILL, a process running a
// build: packer dies with it (the parent-death signal), so it never goes on
// building alone. What packer started stays in its process group for the
// next hybrid to end from the state lock info (state's tests).
func TestBuildDiesWithItsParent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux only")
	}
	packerBin(t)
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "sleep.pkrvars.hcl"), "sleep = 60\n", 0o644)
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), buildChildEnv+"="+work)
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	parent.Stderr = &stderr
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		parent.Process.Kill()
		parent.Wait()
		t.Fatalf("the building process printed no PID: %v: %s", err, stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	// Once the provisioner sleeps, packer is well into the build.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(work, "shell.pid")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			parent.Process.Kill()
			t.Fatalf("the build did not reach its provisioner: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	parent.Wait()
	killed := time.Now()
	assertGone(t, pid)
	t.Logf("packer (pid %d) was gone %s after its parent was killed with SIGKILL", pid, time.Since(killed).Round(time.Millisecond))
}
