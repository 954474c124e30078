package apply_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/packer"
	"github.com/hybridcore/hybrid/state"
)

// failingBackend fails every commit from the first one whose change fail
// accepts on, as a state directory made read-only would, and notes when.
type failingBackend struct {
	state.Backend
	fail func(*state.Change) bool

	mu       sync.Mutex
	failedAt time.Time
	writes   int
}

func (b *failingBackend) Commit(ctx context.Context, lineage string, serial uint64, c *state.Change) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	if b.failedAt.IsZero() && b.fail(c) {
		b.failedAt = time.Now()
	}
	if !b.failedAt.IsZero() {
		return 0, fmt.Errorf("commit state: %w", &fs.PathError{Op: "open", Path: "state/packer-hybrid.json.journal", Err: syscall.EROFS})
	}
	return b.Backend.Commit(ctx, lineage, serial, c)
}

// run is one run of a provisioner, from the log the fixture's builds write.
type run struct {
	build      string
	pid        int
	start, end time.Time // end is zero for a run that never ended
}

// readRuns parses the runs log: "start|end BUILD UNIXNANO PID" lines.
func readRuns(t *testing.T, path string) []*run {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var runs []*run
	open := map[int]*run{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 {
			t.Fatalf("runs log line %q", sc.Text())
		}
		ns, err1 := strconv.ParseInt(fields[2], 10, 64)
		pid, err2 := strconv.Atoi(fields[3])
		if err1 != nil || err2 != nil {
			t.Fatalf("runs log line %q", sc.Text())
		}
		at := time.Unix(0, ns)
		switch fields[0] {
		case "start":
			r := &run{build: fields[1], pid: pid, start: at}
			runs = append(runs, r)
			open[pid] = r
		case "end":
			if r := open[pid]; r != nil {
				r.end = at
				delete(open, pid)
			}
		}
	}
	return runs
}

// TestRunStopsWhenStateCannotBeWritten: the first result that cannot be
// recorded stops the apply. Nothing starts after it, the builds running
// are interrupted, and the error names every result not recorded.
func TestRunStopsWhenStateCannotBeWritten(t *testing.T) {
	bin := packerBin(t)
	ctx := context.Background()
	runsLog := filepath.Join(t.TempDir(), "runs.log") // outside the workspace
	t.Setenv("HYBRID_TEST_RUNS", runsLog)
	// The first build to start is done in 0.5 s, while the two others that
	// started with it sleep 3 s.
	t.Setenv("HYBRID_TEST_FAST_FIRST", "1")
	dir := copyFixture(t, "supervise")
	pd := makePlan(ctx, t, dir)
	defer pd.unlock(t)
	version, err := packer.Version(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}

	// Renders are recorded; the first build's result is not, nor anything
	// after it.
	fb := &failingBackend{Backend: pd.backend, fail: func(c *state.Change) bool { return len(c.Builds) > 0 }}
	start := time.Now()
	res, err := apply.Run(ctx, apply.Options{
		Workspace: pd.ws, Plan: pd.plan, State: state.NewManagerFor(fb, pd.state), Lock: pd.lock,
		Parallelism: 3, PackerBin: bin, PackerVersion: version, Children: pd.backend,
		StopGrace: 30 * time.Second,
	})
	took := time.Since(start)
	var rerr *apply.RecordError
	if !errors.As(err, &rerr) {
		t.Fatalf("Run error = %v, want a *apply.RecordError", err)
	}
	if !strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("error %q does not give the write error", err)
	}
	if fb.failedAt.IsZero() {
		t.Fatal("no write failed")
	}

	outcomes := map[string]apply.Outcome{}
	for _, nr := range res.Nodes {
		outcomes[nr.Address] = nr.Outcome
	}
	runs := readRuns(t, runsLog)
	started := map[string]*run{}
	var after []string
	interrupted, finished := 0, 0
	var first string // the build that finished, whose result was the first not recorded
	for _, r := range runs {
		addr := "build.dev." + r.build
		if started[addr] != nil {
			t.Errorf("%s ran twice", addr)
		}
		started[addr] = r
		if r.start.After(fb.failedAt) {
			after = append(after, fmt.Sprintf("%s at +%s", addr, r.start.Sub(fb.failedAt)))
		}
		switch {
		case r.end.IsZero():
			interrupted++
			if outcomes[addr] != apply.Cancelled {
				t.Errorf("%s was stopped mid-run, but its outcome is %s", addr, outcomes[addr])
			}
			if !strings.Contains(err.Error(), addr+": interrupted") {
				t.Errorf("the error does not say that the result of %s, interrupted, is not recorded", addr)
			}
		default:
			finished++
			first = addr
		}
	}
	if len(after) > 0 {
		t.Errorf("builds started after the first failed write: %s", strings.Join(after, ", "))
	}
	if finished != 1 {
		t.Fatalf("%d builds ran to their end, want the first one only", finished)
	}
	if outcomes[first] != apply.Failed || !strings.Contains(err.Error(), first+": built (artifact ") {
		t.Errorf("%s ran to its end but its result could not be written: outcome %s, want failed, and named as built and not recorded in %q", first, outcomes[first], err)
	}
	if interrupted == 0 {
		t.Error("no build was running when the write failed; the test needs one to interrupt")
	}
	var never []string
	for addr, o := range outcomes {
		if strings.HasPrefix(addr, "build.") && started[addr] == nil {
			never = append(never, addr)
			if o != apply.Cancelled {
				t.Errorf("%s never started, but its outcome is %s", addr, o)
			}
		}
	}
	sort.Strings(never)
	// The others sleep 3 s: they were interrupted, not waited for.
	if took > 20*time.Second {
		t.Errorf("apply took %s after the failure", took)
	}

	// What is on disk: the renders, no build; and no process recorded in
	// the lock info any more.
	st, err := state.NewLocal(pd.backend.Path()).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Builds) != 0 || len(st.Renders) == 0 {
		t.Errorf("state on disk has %d builds and %d renders, want renders only", len(st.Builds), len(st.Renders))
	}
	info, err := os.ReadFile(pd.backend.LockInfoPath())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(info), `"children"`) {
		t.Errorf("lock info still records children after the apply:\n%s", info)
	}
	t.Logf("6 builds, parallelism 3: the first build result could not be written at +%s (write %d); %d builds had started before it (%d finished, %d interrupted), 0 after; %d never started (%s); apply returned at +%s. Not recorded: %s",
		fb.failedAt.Sub(start).Round(time.Millisecond), fb.writes, len(runs), finished, interrupted, len(never), strings.Join(never, ", "), took.Round(time.Millisecond), strings.Join(rerr.NotRecorded, "; "))
}

// TestBuildTimeout: a build that runs past its build timeout is interrupted
// and recorded as timed out, within the grace period; the others are not
// touched.
func TestBuildTimeout(t *testing.T) {
	bin := packerBin(t)
	ctx := context.Background()
	runsLog := filepath.Join(t.TempDir(), "runs.log")
	t.Setenv("HYBRID_TEST_RUNS", runsLog)
	dir := copyFixture(t, "supervise")
	const timeout = 2 * time.Second
	// linux-1 gets 2 s; the hybrid block's default, 1 hour, is the others'.
	hcl, err := os.ReadFile(filepath.Join(dir, "hybrid.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(hcl), `build    = "null.linux-1"`, `build    = "null.linux-1"
  build_timeout = "2s"`, 1)
	edited = strings.Replace(edited, `packer_version = ">= 1.9.0"`, `packer_version = ">= 1.9.0"
  build_timeout  = "1h"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "hybrid.hcl"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	pd := makePlan(ctx, t, dir)
	for _, b := range pd.ws.Builds {
		want := time.Hour
		if b.Image.Name == "linux-1" {
			want = timeout
		}
		if b.Image.BuildTimeout != want {
			t.Fatalf("%s: build timeout %s, want %s", b.Address(), b.Image.BuildTimeout, want)
		}
	}
	defer pd.unlock(t)
	version, err := packer.Version(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	const grace = 20 * time.Second
	res, err := apply.Run(ctx, apply.Options{
		Workspace: pd.ws, Plan: pd.plan, State: state.NewManagerFor(pd.backend, pd.state), Lock: pd.lock,
		Parallelism: 6, PackerBin: bin, PackerVersion: version, Children: pd.backend, StopGrace: grace,
	})
	if err != nil {
		t.Fatal(err)
	}
	var timedOut apply.NodeResult
	for _, nr := range res.Nodes {
		switch {
		case nr.Address == "build.dev.linux-1":
			timedOut = nr
		case nr.Outcome != apply.Succeeded:
			t.Errorf("%s: %s (%v), want succeeded", nr.Address, nr.Outcome, nr.Err)
		}
	}
	if timedOut.Outcome != apply.TimedOut || timedOut.Err == nil || timedOut.Err.Error() != "timed out after 2s" {
		t.Fatalf("build.dev.linux-1: %s (%v), want timed out after 2s", timedOut.Outcome, timedOut.Err)
	}
	if timedOut.Duration < timeout || timedOut.Duration > timeout+grace {
		t.Errorf("the timed-out build took %s, want between its timeout %s and the end of the grace period %s", timedOut.Duration, timeout, timeout+grace)
	}
	if got := res.Count("", apply.TimedOut); got != 1 || res.OK() {
		t.Errorf("Count(timed out) = %d, OK() = %v; want 1, false", got, res.OK())
	}
	st, err := state.NewLocal(pd.backend.Path()).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rec := st.Builds["build.dev.linux-1"]
	if rec == nil || rec.Status != state.StatusFailed || rec.Error != "timed out after 2s" || rec.Fingerprint != "" {
		t.Errorf("state record %+v, want a failed build with error \"timed out after 2s\" and no fingerprint", rec)
	}
	runs := readRuns(t, runsLog)
	for _, r := range runs {
		if r.build == "linux-1" && !r.end.IsZero() {
			t.Errorf("linux-1's provisioner ran to its end (%s): it was not stopped", r.end.Sub(r.start))
		}
	}
	t.Logf("build.dev.linux-1 (3 s provisioner, timeout %s, grace %s): %s after %s, recorded as %q; the 5 other builds succeeded",
		timeout, grace, timedOut.Outcome, timedOut.Duration.Round(time.Millisecond), rec.Error)
}

// failingChildren records the first child, then fails as a read-only state
// directory would.
type failingChildren struct {
	apply.Children
	mu    sync.Mutex
	added int
}

func (c *failingChildren) AddChild(ch state.Child) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.added++
	if c.added > 1 {
		return fmt.Errorf("write lock info: %w", &fs.PathError{Op: "open", Path: "state/packer-hybrid.json.lock.info", Err: syscall.EROFS})
	}
	return c.Children.AddChild(ch)
}

// TestRunStopsWhenAChildCannotBeRecorded: a packer process that cannot be
// recorded in the lock info is stopped as it starts, and the apply stops as
// for any other state write.
func TestRunStopsWhenAChildCannotBeRecorded(t *testing.T) {
	bin := packerBin(t)
	ctx := context.Background()
	runsLog := filepath.Join(t.TempDir(), "runs.log")
	t.Setenv("HYBRID_TEST_RUNS", runsLog)
	dir := copyFixture(t, "supervise")
	pd := makePlan(ctx, t, dir)
	defer pd.unlock(t)
	version, err := packer.Version(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	res, err := apply.Run(ctx, apply.Options{
		Workspace: pd.ws, Plan: pd.plan, State: state.NewManagerFor(pd.backend, pd.state), Lock: pd.lock,
		Parallelism: 3, PackerBin: bin, PackerVersion: version, Children: &failingChildren{Children: pd.backend},
		StopGrace: 30 * time.Second,
	})
	var rerr *apply.RecordError
	if !errors.As(err, &rerr) {
		t.Fatalf("Run error = %v, want a *apply.RecordError", err)
	}
	if !strings.Contains(err.Error(), "not built: packer was stopped as it started, as its process could not be recorded in the state lock info") {
		t.Errorf("error %q does not say which packer was stopped unrecorded", err)
	}
	for _, r := range readRuns(t, runsLog) {
		if !r.end.IsZero() {
			t.Errorf("%s ran to its end after the apply stopped", r.build)
		}
	}
	if res.OK() {
		t.Error("OK() = true")
	}
	t.Logf("%s", err)
}
