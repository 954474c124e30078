package state_test

// These tests run the test binary itself as child processes (TestMain
// dispatches on childEnv), so locks are contended and writes are killed
// across real process boundaries.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/state"
)

const (
	childEnv     = "HYBRID_STATE_TEST_CHILD"
	childPath    = "HYBRID_STATE_TEST_PATH"
	childLog     = "HYBRID_STATE_TEST_LOG"
	childID      = "HYBRID_STATE_TEST_ID"
	childIters   = "HYBRID_STATE_TEST_ITERATIONS"
	counterAddr  = "build.ci.counter"
	payloadAddr  = "render.crash.payload"
	payloadBytes = 64 << 10
)

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	os.Exit(m.Run())
}

// runChild is the body of a child process; it returns the exit code.
func runChild(role string) int {
	path := os.Getenv(childPath)
	var err error
	switch role {
	case "counter":
		err = childCounter(path)
	case "crash-writer":
		err = childCrashWriter(path)
	case "crash-committer":
		err = childCrashCommitter(path)
	case "lock-and-exit":
		err = childLockAndExit(path)
	case "lock-and-hold":
		err = childLockAndHold(path)
	case "lock-and-spawn":
		err = childLockAndSpawn(path)
	default:
		err = fmt.Errorf("unknown child role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
		return 1
	}
	return 0
}

// child is a running child process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *strings.Builder
}

// startChild starts the test binary as a child in the given role.
func startChild(t *testing.T, role string, env ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), stderr: new(strings.Builder)}
	c.cmd.Env = append(os.Environ(), append([]string{childEnv + "=" + role}, env...)...)
	c.cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if c.stdout, err = c.cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// lockID reads the lock ID a lock-and-* child prints.
func (c *child) lockID(t *testing.T) string {
	t.Helper()
	line, err := bufio.NewReader(c.stdout).ReadString('\n')
	if err != nil {
		c.cmd.Wait()
		t.Fatalf("child did not print a lock ID: %v: %s", err, c.stderr)
	}
	return strings.TrimSpace(line)
}

// childCounter does lock, read, increment, write, unlock in a loop, logging
// each acquire and release to a shared O_APPEND log.
func childCounter(path string) error {
	iters, err := strconv.Atoi(os.Getenv(childIters))
	if err != nil {
		return err
	}
	me := os.Getenv(childID)
	logf, err := os.OpenFile(os.Getenv(childLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	b := state.NewLocal(path)
	contended := 0
	for i := range iters {
		info := state.LockInfo{Operation: "counter", Version: "test"}
		id, err := b.Lock(context.Background(), info)
		var le *state.LockError
		if errors.As(err, &le) {
			// Held by another child: it must say so, then we wait.
			if le.Info != nil && !strings.Contains(err.Error(), "lock ID "+le.Info.ID) {
				return fmt.Errorf("lock error does not name the lock ID: %v", err)
			}
			contended++
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			id, err = b.Lock(ctx, info)
			cancel()
		}
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(logf, "acquire %s %d\n", me, i); err != nil {
			return err
		}
		s, err := b.Read(context.Background())
		if err != nil {
			return err
		}
		n := 0
		if s.LastRun != nil {
			n, _ = strconv.Atoi(s.LastRun.Outcome)
		}
		c := s.Builds[counterAddr]
		if c == nil {
			return errors.New("no counter entry in the state")
		}
		c.Artifacts = append(c.Artifacts, state.Artifact{ID: fmt.Sprintf("%s-%d", me, i)})
		// One commit of the two records, on top of what was read.
		change := &state.Change{
			LastRun: &state.Run{Command: "counter", Who: me, When: time.Now(), Outcome: strconv.Itoa(n + 1)},
			Builds:  map[string]*state.Build{counterAddr: c},
		}
		if _, err := b.Commit(context.Background(), s.Lineage, s.Serial, change); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(logf, "release %s %d\n", me, i); err != nil {
			return err
		}
		if err := b.Unlock(id); err != nil {
			return err
		}
		// Pause outside the lock so the others get their turns.
		time.Sleep(time.Duration(5000+rand.IntN(20000)) * time.Microsecond)
	}
	fmt.Printf("contended %d\n", contended)
	return nil
}

func TestConcurrentProcesses(t *testing.T) {
	children, iters := 6, 25
	if testing.Short() {
		children, iters = 3, 5
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "packer-hybrid.json")
	logPath := filepath.Join(dir, "locks.log")

	b := state.NewLocal(path)
	s, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Builds[counterAddr] = &state.Build{Env: "ci", Image: "counter", Status: state.StatusSucceeded}
	if err := b.Write(context.Background(), s, false); err != nil {
		t.Fatal(err)
	}

	type result struct {
		out, stderr string
		err         error
	}
	results := make([]result, children)
	var wg sync.WaitGroup
	for c := range children {
		ch := startChild(t, "counter",
			childPath+"="+path, childLog+"="+logPath,
			childID+"="+strconv.Itoa(c), childIters+"="+strconv.Itoa(iters))
		wg.Go(func() {
			out, _ := io.ReadAll(ch.stdout)
			err := ch.cmd.Wait()
			results[c] = result{string(out), ch.stderr.String(), err}
		})
	}
	wg.Wait()
	contended := 0
	for c, r := range results {
		if r.err != nil {
			t.Fatalf("child %d: %v\n%s", c, r.err, r.stderr)
		}
		var n int
		if _, err := fmt.Sscanf(r.out, "contended %d", &n); err != nil {
			t.Fatalf("child %d printed %q", c, r.out)
		}
		contended += n
	}

	// Each holder compacted its commit into the snapshot as it let go:
	// the snapshot alone holds every increment.
	if _, err := os.Stat(path + state.JournalSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a journal is left after every holder released the lock (stat: %v)", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := state.Decode(data)
	if err != nil {
		t.Fatalf("the final state does not read: %v", err)
	}
	if want := uint64(1 + children*iters); got.Serial != want {
		t.Errorf("final serial %d, want %d (1 initial write + %d)", got.Serial, want, children*iters)
	}
	if got.LastRun == nil || got.LastRun.Outcome != strconv.Itoa(children*iters) {
		t.Errorf("final counter %+v, want %d", got.LastRun, children*iters)
	}
	seen := map[string]int{}
	for _, a := range got.Builds[counterAddr].Artifacts {
		seen[a.ID]++
	}
	for c := range children {
		for i := range iters {
			if id := fmt.Sprintf("%d-%d", c, i); seen[id] != 1 {
				t.Errorf("increment %s recorded %d times, want once", id, seen[id])
			}
		}
	}

	// The log must alternate acquire/release of the same holder.
	data, err = os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2*children*iters {
		t.Errorf("lock log has %d lines, want %d", len(lines), 2*children*iters)
	}
	holder, previous, handovers := "", "", 0
	for n, line := range lines {
		verb, who, _ := strings.Cut(line, " ")
		switch {
		case verb == "acquire" && holder == "":
			holder = who
			if c, _, _ := strings.Cut(who, " "); c != previous {
				handovers++
				previous = c
			}
		case verb == "release" && holder == who:
			holder = ""
		default:
			t.Fatalf("lock log line %d %q while %q holds the lock: two holders at once", n+1, line, holder)
		}
	}
	t.Logf("%d processes x %d locked increments: serial %d, counter %s; %d lock attempts found the lock held and waited; the lock passed between processes %d times",
		children, iters, got.Serial, got.LastRun.Outcome, contended, handovers)
}

// payload is the content the state with the given serial carries, so that a
// state on disk can be checked to be one that was written completely.
func payload(serial uint64) string {
	return strings.Repeat(fmt.Sprintf("%016x", serial*0x9e3779b97f4a7c15), payloadBytes/16)
}

func setPayload(s *state.State, serial uint64) {
	s.Renders[payloadAddr] = &state.Render{
		Env: "crash", Image: "payload",
		Values: map[string]string{"payload": payload(serial), "serial": strconv.FormatUint(serial, 10)},
	}
}

// childCrashWriter writes states as fast as it can, printing each serial
// once its Write has returned, until it is killed. It takes no lock, so that
// each trial spends its time writing (dead holders' locks have their own
// test).
func childCrashWriter(path string) error {
	b := state.NewLocal(path)
	s, err := b.Read(context.Background())
	if err != nil {
		return err
	}
	fmt.Printf("ready %d\n", s.Serial)
	for {
		setPayload(s, s.Serial+1)
		if err := b.Write(context.Background(), s, false); err != nil {
			return err
		}
		fmt.Printf("wrote %d\n", s.Serial)
	}
}

func TestCrashDuringWrite(t *testing.T) {
	// At least minTrials, then more until the budget is spent; giveUp
	// bounds a machine too slow to reach minTrials.
	minTrials, maxTrials, budget, giveUp := 200, 400, 30*time.Second, 3*time.Minute
	if testing.Short() {
		minTrials, maxTrials = 20, 20
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "packer-hybrid.json")
	b := state.NewLocal(path)
	s, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	setPayload(s, 1)
	if err := b.Write(context.Background(), s, false); err != nil {
		t.Fatal(err)
	}
	last := s.Serial

	var trials, sawOld, sawNew, midWrite int
	start := time.Now()
	for trials < minTrials || (trials < maxTrials && time.Since(start) < budget) {
		if time.Since(start) > giveUp {
			t.Fatalf("only %d of %d trials ran in %s", trials, minTrials, giveUp)
		}
		trials++
		confirmed := crashOnce(t, path, last)

		// What a crash leaves must be a whole state the child wrote.
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := state.Decode(data)
		if err != nil {
			t.Fatalf("trial %d: the state does not parse after SIGKILL: %v", trials, err)
		}
		switch got.Serial {
		case confirmed:
			sawOld++
		case confirmed + 1:
			sawNew++
		default:
			t.Fatalf("trial %d: serial %d on disk, want %d (last completed write) or %d (the one in flight)", trials, got.Serial, confirmed, confirmed+1)
		}
		if r := got.Renders[payloadAddr]; r == nil || r.Values["payload"] != payload(got.Serial) {
			t.Fatalf("trial %d: the state at serial %d does not hold that serial's payload", trials, got.Serial)
		}
		if temps := tempFiles(t, dir); len(temps) > 0 {
			midWrite++
		}

		// The next write leaves no temporary file behind.
		nb := state.NewLocal(path)
		s, err := nb.Read(context.Background())
		if err != nil {
			t.Fatalf("trial %d: Read: %v", trials, err)
		}
		setPayload(s, s.Serial+1)
		if err := nb.Write(context.Background(), s, false); err != nil {
			t.Fatalf("trial %d: Write after the crash: %v", trials, err)
		}
		if temps := tempFiles(t, dir); len(temps) > 0 {
			t.Fatalf("trial %d: temporary files left after the next write: %v", trials, temps)
		}
		last = s.Serial
	}
	t.Logf("%d SIGKILL trials in %s: %d left the last completed state, %d the one in flight; %d left temp files, all removed by the next write; final serial %d",
		trials, time.Since(start).Round(time.Millisecond), sawOld, sawNew, midWrite, last)
}

// crashOnce starts a crash writer (role crash-writer, or any child that
// prints "ready N" then "wrote N" after each durable write), kills it with SIGKILL at a random moment
// and returns the last serial it reported as completely written.
func crashOnce(t *testing.T, path string, last uint64) uint64 {
	t.Helper()
	return crashChild(t, "crash-writer", path, last, 25*time.Millisecond)
}

// crashChild starts a child in the given role and kills it at a random
// moment within window after it is ready; it returns the last serial the
// child reported as durable.
func crashChild(t *testing.T, role, path string, last uint64, window time.Duration) uint64 {
	t.Helper()
	ch := startChild(t, role, childPath+"="+path)
	cmd, stderr := ch.cmd, ch.stderr
	lines := make(chan string)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(ch.stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	confirmed := last
	parse := func(line string) {
		t.Helper()
		var verb string
		var n uint64
		if _, err := fmt.Sscanf(line, "%s %d", &verb, &n); err != nil {
			t.Fatalf("crash writer printed %q", line)
		}
		confirmed = n
	}
	select {
	case line, ok := <-lines:
		if !ok {
			cmd.Wait()
			t.Fatalf("crash writer exited before it was ready: %s", stderr)
		}
		parse(line)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("crash writer not ready after 30s: %s", stderr)
	}
	kill := time.After(time.Duration(rand.Int64N(int64(window))))
	for killed := false; ; {
		select {
		case line, ok := <-lines:
			if !ok {
				<-done
				err := cmd.Wait()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("crash writer ended with %v, not SIGKILL: %s", err, stderr)
				}
				return confirmed
			}
			parse(line)
		case <-kill:
			if !killed {
				killed = true
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, atomicfile.TempPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// childLockAndExit takes the lock and exits without releasing it, as a
// crashed command would.
func childLockAndExit(path string) error {
	id, err := state.NewLocal(path).Lock(context.Background(), state.LockInfo{Operation: "apply", Who: "dead@host"})
	if err != nil {
		return err
	}
	fmt.Println(id)
	return nil
}

// childLockAndHold takes the lock, prints its ID and releases the lock when
// its stdin is closed.
func childLockAndHold(path string) error {
	b := state.NewLocal(path)
	id, err := b.Lock(context.Background(), state.LockInfo{Operation: "apply", Who: "live@host"})
	if err != nil {
		return err
	}
	fmt.Println(id)
	io.Copy(io.Discard, os.Stdin)
	return b.Unlock(id)
}

func TestDeadHolderDoesNotBlock(t *testing.T) {
	path := tempStatePath(t)
	ch := startChild(t, "lock-and-exit", childPath+"="+path)
	dead := ch.lockID(t)
	if err := ch.cmd.Wait(); err != nil {
		t.Fatalf("child: %v: %s", err, ch.stderr)
	}
	if _, err := os.Stat(path + state.LockInfoSuffix); err != nil {
		t.Fatalf("the dead holder left no lock info: %v", err)
	}

	b := state.NewLocal(path)
	id, err := b.Lock(context.Background(), state.LockInfo{Operation: "plan"})
	if err != nil {
		t.Fatalf("Lock with a dead holder's info on disk: %v", err)
	}
	stale := b.StaleLock()
	if stale == nil || stale.ID != dead || stale.Who != "dead@host" || stale.PID != ch.cmd.Process.Pid {
		t.Errorf("StaleLock() = %+v, want the dead holder's lock %s (pid %d)", stale, dead, ch.cmd.Process.Pid)
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}

	// force-unlock of a dead holder's lock clears it without complaint.
	ch = startChild(t, "lock-and-exit", childPath+"="+path)
	dead = ch.lockID(t)
	if err := ch.cmd.Wait(); err != nil {
		t.Fatalf("child: %v: %s", err, ch.stderr)
	}
	if err := state.NewLocal(path).ForceUnlock(context.Background(), dead); err != nil {
		t.Errorf("ForceUnlock of a dead holder's lock: %v", err)
	}
	if _, err := os.Stat(path + state.LockInfoSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock info still there after ForceUnlock (stat: %v)", err)
	}
}

func TestLiveHolderInAnotherProcess(t *testing.T) {
	path := tempStatePath(t)
	ch := startChild(t, "lock-and-hold", childPath+"="+path)
	defer ch.cmd.Process.Kill()
	held := ch.lockID(t)
	pid := ch.cmd.Process.Pid

	b := state.NewLocal(path)
	_, err := b.Lock(context.Background(), state.LockInfo{Operation: "plan"})
	var le *state.LockError
	if !errors.As(err, &le) || le.Info == nil || le.Info.ID != held || le.Info.PID != pid {
		t.Fatalf("Lock while another process holds it: got %v, want a *LockError naming lock %s of pid %d", err, held, pid)
	}
	if !strings.Contains(err.Error(), "live@host") {
		t.Errorf("lock error %q does not say who holds the lock", err)
	}

	// With a deadline the lock is taken once the holder lets go.
	go func() {
		time.Sleep(300 * time.Millisecond)
		ch.stdin.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := b.Lock(ctx, state.LockInfo{Operation: "plan"})
	if err != nil {
		t.Fatalf("Lock waiting for the other process: %v", err)
	}
	if err := ch.cmd.Wait(); err != nil {
		t.Errorf("holder: %v: %s", err, ch.stderr)
	}
	if b.StaleLock() != nil {
		t.Errorf("a lock released cleanly was reported stale: %+v", b.StaleLock())
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}
}

// crashRecord is the record commit serial puts: every commit adds one, so
// that a state can be checked to hold every commit up to its serial.
func crashRecord(serial uint64) (string, *state.Render) {
	addr := state.RenderAddr("crash", fmt.Sprintf("s%d", serial))
	return addr, &state.Render{
		Env: "crash", Image: fmt.Sprintf("s%d", serial), Digest: fmt.Sprintf("sha256:%016x", serial*0x9e3779b97f4a7c15),
		Values: map[string]string{"serial": strconv.FormatUint(serial, 10), "pad": strings.Repeat("x", int(serial%200))},
	}
}

// childCrashCommitter commits one record after another, printing each
// serial once its Commit has returned, until it is killed. Its journal is
// compacted every few commits, so that kills land in compactions too. It
// takes no lock (each Commit takes the OS lock for its duration).
func childCrashCommitter(path string) error {
	ctx := context.Background()
	b := state.NewLocal(path)
	state.SetJournalLimit(b, 8<<10)
	s, err := b.Read(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("ready %d\n", s.Serial)
	serial := s.Serial
	for {
		addr, r := crashRecord(serial + 1)
		c := &state.Change{
			Renders: map[string]*state.Render{addr: r},
			LastRun: &state.Run{Command: "crash", Outcome: strconv.FormatUint(serial+1, 10)},
		}
		if serial, err = b.Commit(ctx, s.Lineage, serial, c); err != nil {
			return err
		}
		fmt.Printf("wrote %d\n", serial)
	}
}

// TestCrashDuringCommit kills a process committing in a loop with SIGKILL,
// again and again, on the same state: every time, the state reads, holds
// every commit that returned (and perhaps the one in flight), and the next
// process goes on committing from it.
func TestCrashDuringCommit(t *testing.T) {
	minTrials, maxTrials, budget, giveUp := 200, 400, 30*time.Second, 3*time.Minute
	if testing.Short() {
		minTrials, maxTrials = 20, 20
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "packer-hybrid.json")

	var trials, sawOld, sawNew, torn, leftover, midCompaction int
	var last uint64
	start := time.Now()
	for trials < minTrials || (trials < maxTrials && time.Since(start) < budget) {
		if time.Since(start) > giveUp {
			t.Fatalf("only %d of %d trials ran in %s", trials, minTrials, giveUp)
		}
		trials++
		confirmed := crashChild(t, "crash-committer", path, last, 40*time.Millisecond)

		switch j := journalShape(t, path); {
		case j.torn:
			torn++
		case j.leftover:
			leftover++
		}
		if len(tempFiles(t, dir)) > 0 {
			midCompaction++
		}
		got, err := state.NewLocal(path).Read(ctx)
		if err != nil {
			t.Fatalf("trial %d: the state does not read after SIGKILL: %v", trials, err)
		}
		switch got.Serial {
		case confirmed:
			sawOld++
		case confirmed + 1:
			sawNew++
		default:
			t.Fatalf("trial %d: serial %d, want %d (last commit that returned) or %d (the one in flight)", trials, got.Serial, confirmed, confirmed+1)
		}
		if n := uint64(len(got.Renders)); n != got.Serial {
			t.Fatalf("trial %d: %d records at serial %d, want one per commit", trials, n, got.Serial)
		}
		for serial := uint64(1); serial <= got.Serial; serial++ {
			addr, want := crashRecord(serial)
			r := got.Renders[addr]
			if r == nil || r.Digest != want.Digest || r.Values["serial"] != want.Values["serial"] || r.Values["pad"] != want.Values["pad"] {
				t.Fatalf("trial %d: commit %d is lost or mixed up at serial %d: %+v", trials, serial, got.Serial, r)
			}
		}
		if got.Serial > 0 && (got.LastRun == nil || got.LastRun.Outcome != strconv.FormatUint(got.Serial, 10)) {
			t.Fatalf("trial %d: the header is from another commit than serial %d: %+v", trials, got.Serial, got.LastRun)
		}
		last = got.Serial
	}
	t.Logf("%d SIGKILL trials of a committing process in %s: %d left the last commit that returned, %d the one in flight; %d left a torn journal entry, %d a journal already folded into the snapshot, %d temp files of a compaction; final serial %d",
		trials, time.Since(start).Round(time.Millisecond), sawOld, sawNew, torn, leftover, midCompaction, last)
}

// journalShape describes the journal a crash left: whether it ends in a
// torn entry, and whether its entries are all in the snapshot already (a
// compaction was cut between writing the snapshot and removing the
// journal).
func journalShape(t *testing.T, path string) (shape struct{ torn, leftover bool }) {
	t.Helper()
	data, err := os.ReadFile(path + state.JournalSuffix)
	if errors.Is(err, os.ErrNotExist) || len(data) == 0 {
		return shape
	}
	if err != nil {
		t.Fatal(err)
	}
	shape.torn = data[len(data)-1] != '\n'
	snap, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := state.Decode(snap)
	if err != nil {
		t.Fatalf("the snapshot does not parse after SIGKILL: %v", err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	var e struct {
		Serial uint64 `json:"serial"`
	}
	if _, payload, ok := strings.Cut(first, " "); ok && json.Unmarshal([]byte(payload), &e) == nil {
		shape.leftover = e.Serial <= s.Serial
	}
	return shape
}
