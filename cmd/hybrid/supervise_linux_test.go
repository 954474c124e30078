package main

// The supervision tests run the real hybrid binary (built once with go
// build) against real packer null builds, kill it with SIGKILL and check,
// through /proc and a log the builds write outside the workspace, that
// nothing it started runs on unsupervised.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/state"
)

// killTrialsEnv sets how many trials TestApplyKilledAtRandom runs.
const killTrialsEnv = "HYBRID_KILL_TRIALS"

// superviseWS is a copy of testdata/supervise with its runs log and lock
// directory outside the workspace.
type superviseWS struct {
	t                 *testing.T
	bin, packer       string
	dir, runs, locks  string
	sleep             string
	gens              []string // generations started, for the cleanup
	stateInfo, hybrid string
	extraEnv          []string // more environment for every command
}

func newSuperviseWS(t *testing.T, sleep string) *superviseWS {
	t.Helper()
	w := &superviseWS{t: t, packer: requirePacker(t), sleep: sleep}
	if _, err := exec.LookPath("flock"); err != nil {
		missing(t, "flock (util-linux)")
	}
	w.bin = hybridBinary(t)
	w.dir = filepath.Join(t.TempDir(), "ws")
	outside := t.TempDir()
	w.runs = filepath.Join(outside, "runs.log")
	w.locks = filepath.Join(outside, "locks")
	if err := os.Mkdir(w.locks, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(w.dir, os.DirFS(filepath.Join("testdata", "supervise"))); err != nil {
		t.Fatal(err)
	}
	w.stateInfo = filepath.Join(w.dir, "state", "packer-hybrid.json"+state.LockInfoSuffix)
	t.Cleanup(func() {
		for _, g := range w.gens {
			for _, p := range genProcs(g) {
				syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
	})
	return w
}

// command is hybrid with args in the workspace; gen tags everything it
// starts (HYBRID_TEST_GEN in the environment).
func (w *superviseWS) command(gen string, args ...string) *exec.Cmd {
	w.gens = append(w.gens, gen)
	cmd := exec.Command(w.bin, args...)
	cmd.Dir = w.dir
	cmd.Env = append(os.Environ(), "HYBRID_PACKER="+w.packer, "CHECKPOINT_DISABLE=1", "NO_COLOR=1",
		"HYBRID_TEST_RUNS="+w.runs, "HYBRID_TEST_LOCKS="+w.locks, "HYBRID_TEST_SLEEP="+w.sleep, "HYBRID_TEST_GEN="+gen)
	cmd.Env = append(cmd.Env, w.extraEnv...)
	return cmd
}

// run runs hybrid to its end and returns its output and exit code.
func (w *superviseWS) run(gen string, args ...string) (string, int) {
	w.t.Helper()
	cmd := w.command(gen, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		w.t.Fatalf("hybrid %s: %v", strings.Join(args, " "), err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// lockHolder is the PID in the state lock info, 0 when there is none.
func (w *superviseWS) lockHolder() int {
	b, err := os.ReadFile(w.stateInfo)
	if err != nil {
		return 0
	}
	var info state.LockInfo
	if json.Unmarshal(b, &info) != nil {
		return 0
	}
	return info.PID
}

// liveProc is a live process, as /proc shows it.
type liveProc struct {
	pid, pgid int
	comm      string
}

// genProcs lists the live processes (not zombies) whose environment holds
// HYBRID_TEST_GEN=gen.
func genProcs(gen string) []liveProc {
	ents, _ := os.ReadDir("/proc")
	want := []byte("HYBRID_TEST_GEN=" + gen)
	var out []liveProc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !slices.ContainsFunc(bytes.Split(env, []byte{0}), func(kv []byte) bool { return bytes.Equal(kv, want) }) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[end+1:]))
		if open < 0 || len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		pgid, _ := strconv.Atoi(f[2])
		out = append(out, liveProc{pid: pid, pgid: pgid, comm: string(stat[open+1 : end])})
	}
	return out
}

// packerLeaders are the packer processes hybrid started itself: leaders of
// their process group.
func packerLeaders(ps []liveProc) []liveProc {
	var out []liveProc
	for _, p := range ps {
		if p.comm == "packer" && p.pid == p.pgid {
			out = append(out, p)
		}
	}
	return out
}

// buildRun is one run of a build's provisioner, from the runs log.
type buildRun struct {
	build, gen string
	pid        int
	start, end time.Time // end is zero for a run cut short
}

// readBuildRuns parses the runs log; overlaps are the "overlap" lines: a
// run that found its build's lock held by another run.
func readBuildRuns(t *testing.T, path string) (runs []*buildRun, overlaps []string) {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	open := map[int]*buildRun{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 5 {
			t.Fatalf("runs log line %q", sc.Text())
		}
		ns, err1 := strconv.ParseInt(fs[2], 10, 64)
		pid, err2 := strconv.Atoi(fs[4])
		if err1 != nil || err2 != nil {
			t.Fatalf("runs log line %q", sc.Text())
		}
		switch fs[0] {
		case "overlap":
			overlaps = append(overlaps, sc.Text())
		case "start":
			r := &buildRun{build: fs[1], gen: fs[3], pid: pid, start: time.Unix(0, ns)}
			runs = append(runs, r)
			open[pid] = r
		case "end":
			if r := open[pid]; r != nil {
				r.end = time.Unix(0, ns)
				delete(open, pid)
			}
		}
	}
	return runs, overlaps
}

// timedOverlaps lists the runs of one build that started while an earlier
// run of it, which logged its end, had not ended yet. (Runs cut short log no
// end; the flock check covers them.)
func timedOverlaps(runs []*buildRun) []string {
	byBuild := map[string][]*buildRun{}
	for _, r := range runs {
		byBuild[r.build] = append(byBuild[r.build], r)
	}
	var out []string
	for build, rs := range byBuild {
		sort.Slice(rs, func(i, j int) bool { return rs[i].start.Before(rs[j].start) })
		for i, a := range rs {
			for _, b := range rs[i+1:] {
				if !a.end.IsZero() && b.start.Before(a.end) {
					out = append(out, fmt.Sprintf("%s: run %d (%s) started %s before run %d (%s) ended", build, b.pid, b.gen, a.end.Sub(b.start), a.pid, a.gen))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestApplyKilledAtRandom kills hybrid apply with SIGKILL at random moments
// of a run of three parallel packer builds, then runs the next apply to its
// end. It checks that packer dies with hybrid, that the next apply ends
// everything the killed one left running before it builds anything (no
// process of the killed apply is alive once the next one holds the lock),
// that no two runs of one build ever overlap, and that each next apply
// succeeds. HYBRID_KILL_TRIALS sets the number of trials: 10 by default
// (about 30 s), 3 with -short; the bar for the issue is 100 (5 to 8
// minutes on 2 cores).
func TestApplyKilledAtRandom(t *testing.T) {
	trials := 10
	if testing.Short() {
		trials = 3
	}
	if s := os.Getenv(killTrialsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a number of trials", killTrialsEnv, s)
		}
		trials = n
	}
	w := newSuperviseWS(t, "0.8")
	if out, code := w.run("lock", "lock"); code != 0 {
		t.Fatalf("hybrid lock exited %d:\n%s", code, out)
	}

	// A whole apply, timed: the kills land anywhere within one.
	began := time.Now()
	if out, code := w.run("0-full", "apply", "-auto-approve", "-var", "trial=0"); code != 0 {
		t.Fatalf("first apply exited %d:\n%s", code, out)
	}
	full := time.Since(began)

	var (
		killedMidRun, finishedFirst int
		packerSurvived              []string // packer leaders alive 1 s after their hybrid was killed
		takeovers, killedProcs      int      // next applies that ended what a killed one left; processes they killed
		orphans                     []string // processes of a killed apply alive once the next one held the lock
		nextTook                    time.Duration
	)
	endedRE := regexp.MustCompile(`(?m)^  packer build for build\.dev\.linux-[abc] \(pid [0-9]+, process group [0-9]+\): killed (.*)$`)
	for i := 1; i <= trials; i++ {
		killedGen, nextGen := fmt.Sprintf("%d-killed", i), fmt.Sprintf("%d-next", i)
		trial := "trial=" + strconv.Itoa(i)

		cmd := w.command(killedGen, "apply", "-auto-approve", "-var", trial)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := rand.N(full + full/10)
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killedMidRun++
		} else {
			finishedFirst++
			if err != nil {
				t.Fatalf("trial %d: apply failed before the kill: %v\n%s", i, err, out.String())
			}
		}

		// Packer died with hybrid.
		deadline := time.Now().Add(time.Second)
		for len(packerLeaders(genProcs(killedGen))) > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		for _, p := range packerLeaders(genProcs(killedGen)) {
			packerSurvived = append(packerSurvived, fmt.Sprintf("trial %d: packer %d", i, p.pid))
		}

		// The next apply: once it holds the lock (or has finished), nothing
		// of the killed one may run.
		next := w.command(nextGen, "apply", "-auto-approve", "-var", trial)
		var nextOut bytes.Buffer
		next.Stdout, next.Stderr = &nextOut, &nextOut
		nextStart := time.Now()
		if err := next.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- next.Wait() }()
		var nextErr error
		finished := false
	watch:
		for {
			select {
			case nextErr = <-done:
				finished = true
				break watch
			default:
			}
			if w.lockHolder() == next.Process.Pid {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		for _, p := range genProcs(killedGen) {
			orphans = append(orphans, fmt.Sprintf("trial %d: %d %s", i, p.pid, p.comm))
		}
		if !finished {
			nextErr = <-done
		}
		nextTook += time.Since(nextStart)
		if nextErr != nil {
			t.Fatalf("trial %d (killed after %s): the next apply failed: %v\n%s\n-- the killed apply's output --\n%s", i, delay, nextErr, nextOut.String(), out.String())
		}
		if !strings.Contains(nextOut.String(), "Apply complete!") && !strings.Contains(nextOut.String(), "No changes.") {
			t.Fatalf("trial %d: the next apply did not complete:\n%s", i, nextOut.String())
		}
		if m := endedRE.FindAllStringSubmatch(nextOut.String(), -1); len(m) > 0 {
			takeovers++
			for _, sm := range m {
				killedProcs += strings.Count(sm[1], ",") + 1
			}
		}
	}

	if out, code := w.run("final", "plan", "-detailed-exitcode", "-var", "trial="+strconv.Itoa(trials)); code != 0 {
		t.Errorf("plan after the last trial exited %d, want 0 (no changes):\n%s", code, out)
	}
	runs, flockOverlaps := readBuildRuns(t, w.runs)
	timed := timedOverlaps(runs)
	cut := 0
	for _, r := range runs {
		if r.end.IsZero() {
			cut++
		}
	}
	if len(packerSurvived) > 0 {
		t.Errorf("packer outlived its killed hybrid: %s", strings.Join(packerSurvived, "; "))
	}
	if len(orphans) > 0 {
		t.Errorf("processes of a killed apply still ran once the next apply held the lock: %s", strings.Join(orphans, "; "))
	}
	if len(flockOverlaps) > 0 || len(timed) > 0 {
		t.Errorf("overlapping runs of one build: %s", strings.Join(append(flockOverlaps, timed...), "; "))
	}
	t.Logf("%d SIGKILL trials (a full apply of 3 parallel 0.8 s null builds takes %s; kills at uniform random moments within 110%% of it): %d killed mid-run, %d had finished; "+
		"packer alive 1 s after its hybrid was killed: %d; next applies: %d of %d completed (mean %s), %d of them first killed what the dead one left (%d processes); "+
		"processes of a killed apply alive once the next held the lock: %d; provisioner runs: %d (%d cut short by a kill); overlapping runs of one build: %d by flock, %d by timestamps",
		trials, full.Round(time.Millisecond), killedMidRun, finishedFirst,
		len(packerSurvived), trials, trials, (nextTook / time.Duration(trials)).Round(time.Millisecond), takeovers, killedProcs,
		len(orphans), len(runs), cut, len(flockOverlaps), len(timed))
}

// TestTakeoverKillsOrphanedBuild: hybrid apply is killed while three builds
// sleep in their provisioners. packer dies with hybrid, but what it started
// runs on; the next command (plan) kills it before anything else, names it,
// and no process of those groups is left.
func TestTakeoverKillsOrphanedBuild(t *testing.T) {
	w := newSuperviseWS(t, "60")
	cmd := w.command("killed", "apply", "-auto-approve")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if runs, _ := readBuildRuns(t, w.runs); len(runs) == 3 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the three builds did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	time.Sleep(100 * time.Millisecond)

	left := genProcs("killed")
	if leaders := packerLeaders(left); len(leaders) > 0 {
		t.Errorf("packer outlived hybrid: %v", leaders)
	}
	groups := map[int][]liveProc{}
	for _, p := range left {
		groups[p.pgid] = append(groups[p.pgid], p)
	}
	if len(groups) != 3 {
		t.Fatalf("the killed apply left %d process groups (%v), want its 3 builds' groups", len(groups), left)
	}

	plan, code := w.run("next", "plan", "-no-color")
	if code != 0 {
		t.Fatalf("plan exited %d:\n%s", code, plan)
	}
	if !strings.Contains(plan, "Warning: Ended processes left running by a killed hybrid") {
		t.Errorf("plan does not warn that it ended the killed apply's processes:\n%s", plan)
	}
	runs, _ := readBuildRuns(t, w.runs)
	for pgid, ps := range groups {
		re := regexp.MustCompile(fmt.Sprintf(`packer build for build\.dev\.linux-[abc] \(pid %d, process group %d\): killed ([^\n]*)`, pgid, pgid))
		m := re.FindStringSubmatch(plan)
		if m == nil {
			t.Errorf("plan does not name process group %d (%v):\n%s", pgid, ps, plan)
			continue
		}
		for _, p := range ps {
			if !strings.Contains(m[1], fmt.Sprintf("%d %s", p.pid, p.comm)) {
				t.Errorf("plan does not name process %d %s of group %d as killed: %s", p.pid, p.comm, pgid, m[1])
			}
		}
	}
	if still := genProcs("killed"); len(still) > 0 {
		t.Errorf("processes of the killed apply still run after plan: %v", still)
	}
	for _, r := range runs {
		if !r.end.IsZero() {
			t.Errorf("%s's provisioner (pid %d) ran to its end: it was not killed", r.build, r.pid)
		}
	}
	var names []string
	for pgid, ps := range groups {
		names = append(names, fmt.Sprintf("group %d: %d processes", pgid, len(ps)))
	}
	sort.Strings(names)
	t.Logf("the killed apply left 3 process groups (%s), packer itself dead; plan killed all of them and named them:\n%s",
		strings.Join(names, ", "), strings.Join(regexp.MustCompile(`(?m)^  packer build for .*$`).FindAllString(plan, -1), "\n"))
}
