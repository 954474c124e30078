//go:build linux

package sources

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// syncChildEnv marks the test binary run by TestSyncSurvivesSIGKILL as the
// hybrid that is killed: it does what hybrid sources sync does for one
// source (Store.Fetch, then Sync) and exits 0, unless it is killed first.
const syncChildEnv = "HYBRID_TEST_SYNC_CHILD"

func init() {
	if os.Getenv(syncChildEnv) != "1" {
		return
	}
	g := &Git{Bin: os.Getenv("HYBRID_TEST_GIT")}
	src := Source{
		Name:   os.Getenv("HYBRID_TEST_NAME"),
		URL:    os.Getenv("HYBRID_TEST_URL"),
		Ref:    os.Getenv("HYBRID_TEST_REF"),
		Commit: os.Getenv("HYBRID_TEST_COMMIT"),
	}
	root := os.Getenv("HYBRID_TEST_ROOT")
	ctx := context.Background()
	if err := g.Store(root, src.Name).Fetch(ctx, src.URL, src.Ref, src.Commit); err != nil {
		fmt.Println("fetch error:", err)
		os.Exit(1)
	}
	if _, err := g.Sync(ctx, root, src); err != nil {
		fmt.Println("sync error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// killTrials returns how many trials TestSyncSurvivesSIGKILL runs in all:
// HYBRID_SYNC_KILL_TRIALS, or 52.
func killTrials(t *testing.T) int {
	t.Helper()
	return envCount(t, "HYBRID_SYNC_KILL_TRIALS", 52)
}

// bigFiles returns how many files each commit of a bigRemote has:
// HYBRID_SYNC_KILL_FILES, or 600 (enough for a checkout to take most of
// a sync's time, few enough to keep the test within seconds on a slow
// disk).
func bigFiles(t *testing.T) int {
	t.Helper()
	return envCount(t, "HYBRID_SYNC_KILL_FILES", 600)
}

func envCount(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// bigRemote is an upstream with two commits of files files each (in
// directories of 30), A and B, far enough apart that moving between them takes git a while:
// B changes half of A's files, deletes a directory, adds one, turns a file
// into a directory, moves a link and flips an executable bit. main is at B.
type bigRemote struct {
	URL  string
	A, B string
}

func newBigRemote(t *testing.T, env []string, files int) *bigRemote {
	t.Helper()
	base := t.TempDir()
	r := &bigRemote{URL: filepath.Join(base, "upstream.git")}
	work := filepath.Join(base, "work")
	gitT(t, env, base, "init", "--quiet", "--bare", "--initial-branch=main", r.URL)
	gitT(t, env, base, "init", "--quiet", "--initial-branch=main", work)
	body := func(i, version int) string {
		// Mostly small files, as in a template repository, and one in
		// fifty of 64 KiB or more, which git writes in several writes.
		line := fmt.Sprintf("file %d version %d\n", i, version)
		if i%50 == 0 {
			return strings.Repeat(line, 65536/len(line)+1)
		}
		return strings.Repeat(line, 1+(i*7919)%40)
	}
	const perDir = 30
	dirs := max(2, (files+perDir-1)/perDir)
	for d := 0; d < dirs; d++ {
		for f := 0; f < perDir; f++ {
			i := d*perDir + f
			writeFile(t, filepath.Join(work, fmt.Sprintf("d%02d", d), fmt.Sprintf("f%03d.txt", f)), body(i, 1))
		}
	}
	writeFile(t, filepath.Join(work, "x"), "a file that becomes a directory\n")
	writeFile(t, filepath.Join(work, "run.sh"), "#!/bin/sh\necho run\n")
	if err := os.Symlink("d00/f000.txt", filepath.Join(work, "link")); err != nil {
		t.Fatal(err)
	}
	gitT(t, env, work, "add", "-A")
	gitT(t, env, work, "commit", "--quiet", "-m", "A")
	r.A = gitT(t, env, work, "rev-parse", "HEAD")

	for d := 0; d < dirs; d++ {
		for f := 0; f < perDir; f += 2 {
			i := d*perDir + f
			writeFile(t, filepath.Join(work, fmt.Sprintf("d%02d", d), fmt.Sprintf("f%03d.txt", f)), body(i, 2))
		}
	}
	if err := os.RemoveAll(filepath.Join(work, fmt.Sprintf("d%02d", dirs-1))); err != nil {
		t.Fatal(err)
	}
	for f := 0; f < perDir; f++ {
		writeFile(t, filepath.Join(work, "new", "deep", fmt.Sprintf("n%03d.txt", f)), body(f, 3))
	}
	if err := os.Remove(filepath.Join(work, "x")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "x", "y"), "now a directory\n")
	if err := os.Remove(filepath.Join(work, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("d01/f001.txt", filepath.Join(work, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(work, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	gitT(t, env, work, "add", "-A")
	gitT(t, env, work, "commit", "--quiet", "-m", "B")
	r.B = gitT(t, env, work, "rev-parse", "HEAD")
	gitT(t, env, work, "push", "--quiet", r.URL, "main")
	return r
}

// childOutcome is how a run of the child ended.
type childOutcome struct {
	killed bool // killed before it finished
	// gitRunning is how many git process groups it had when killed;
	// gitSurvived how many of them were still there a second later
	// (only counted when git was not killed by the test itself).
	gitRunning, gitSurvived int
	took                    time.Duration
}

// runChild runs the child syncing src under root and, when delay >= 0,
// kills it delay after it started: with SIGKILL to hybrid alone, or (with
// killGit) to hybrid and the process groups of every git it runs, at the
// same instant. It fails the test if the child fails on its own.
func runChild(t *testing.T, g *Git, root string, src Source, delay time.Duration, killGit bool) childOutcome {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(g.Env[:len(g.Env):len(g.Env)], syncChildEnv+"=1", "HYBRID_TEST_GIT="+g.Bin,
		"HYBRID_TEST_ROOT="+root, "HYBRID_TEST_NAME="+src.Name, "HYBRID_TEST_URL="+src.URL,
		"HYBRID_TEST_REF="+src.Ref, "HYBRID_TEST_COMMIT="+src.Commit,
		// A race-enabled child would sleep a second before exiting,
		// and the measured duration with it.
		"GORACE=atexit_sleep_ms=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var o childOutcome
	if delay >= 0 {
		select {
		case err := <-exited:
			o.took = time.Since(start)
			if err != nil {
				t.Fatalf("the child failed before it was killed: %v\n%s", err, out.String())
			}
			return o
		case <-time.After(delay):
		}
		pid := cmd.Process.Pid
		// Freeze hybrid so it starts no git while its gits are listed.
		syscall.Kill(pid, syscall.SIGSTOP)
		groups := childGroups(pid)
		o.gitRunning = len(groups)
		syscall.Kill(pid, syscall.SIGKILL)
		if killGit {
			for _, pg := range groups {
				syscall.Kill(-pg, syscall.SIGKILL)
			}
		}
		err := <-exited
		o.took = time.Since(start)
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			o.killed = true
		} else if err != nil {
			t.Fatalf("the child failed: %v\n%s", err, out.String())
		}
		if !killGit && o.killed {
			// git's parent-death signal is SIGKILL: git goes at once.
			// What git started (index-pack, upload-pack) is left to
			// the next Sync, which ends the group recorded in the lock.
			deadline := time.Now().Add(time.Second)
			for _, pg := range groups {
				for alive(pg) && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if alive(pg) {
					o.gitSurvived++
				}
			}
		}
		return o
	}
	err := <-exited
	o.took = time.Since(start)
	if err != nil {
		t.Fatalf("the child failed: %v\n%s", err, out.String())
	}
	return o
}

// childGroups lists the process groups of the children of pid that lead
// their own group (the gits hybrid runs), from /proc.
func childGroups(pid int) []int {
	var groups []int
	list, _ := os.ReadDir("/proc")
	for _, e := range list {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 3 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		if ppid == pid && pgrp == child {
			groups = append(groups, child)
		}
	}
	return groups
}

// leftovers counts what a killed child left for the next Sync to repair.
type leftovers struct {
	tempClones, markers, gitLocks, liveGroups int
}

func (l *leftovers) look(t *testing.T, root, name string) {
	t.Helper()
	list, _ := os.ReadDir(root)
	for _, e := range list {
		if isTempClone(e.Name(), name) {
			l.tempClones++
		}
	}
	gitDir := filepath.Join(root, name, ".git")
	if _, err := os.Stat(filepath.Join(gitDir, markerName)); err == nil {
		l.markers++
	}
	for _, d := range []string{gitDir, filepath.Join(root, StoreDir, name+".git")} {
		if m, _ := filepath.Glob(filepath.Join(d, "*.lock")); len(m) > 0 {
			l.gitLocks++
		}
	}
	if b, err := os.ReadFile(lockPath(root, name)); err == nil {
		if r := parseRecord(string(b)); r.pgid > 0 && groupExists(r.pgid) {
			l.liveGroups++
		}
	}
}

// checkRecovered runs the next hybrid sources sync (Fetch, then Sync) in
// this process, and checks the checkout is exactly commit: HEAD there,
// nothing modified, untracked or ignored, no empty directory the commit
// does not have, and nothing of the killed run left.
func checkRecovered(t *testing.T, g *Git, root string, src Source) *SyncResult {
	t.Helper()
	ctx := context.Background()
	if err := g.Store(root, src.Name).Fetch(ctx, src.URL, src.Ref, src.Commit); err != nil {
		t.Fatalf("Fetch after the kill: %v", err)
	}
	mustHave(t, g.Store(root, src.Name), src.Commit)
	res, err := g.Sync(ctx, root, src)
	if err != nil {
		t.Fatalf("Sync after the kill: %v", err)
	}
	dir := filepath.Join(root, src.Name)
	if res.Commit != src.Commit {
		t.Fatalf("Sync after the kill: commit %s, want %s", res.Commit, src.Commit)
	}
	if h := headOf(t, g, dir); h != src.Commit {
		t.Fatalf("HEAD after the kill = %s, want %s", h, src.Commit)
	}
	if st := gitT(t, g.Env, dir, "status", "--porcelain", "--untracked-files=all", "--ignored"); st != "" {
		t.Fatalf("the checkout is not clean after recovery:\n%s", st)
	}
	if d := gitT(t, g.Env, dir, "diff", "--cached", "--name-only", src.Commit); d != "" {
		t.Fatalf("the index differs from %s:\n%s", src.Commit, d)
	}
	want := map[string]bool{}
	for _, p := range strings.Split(gitT(t, g.Env, dir, "ls-tree", "-r", "-t", "--name-only", src.Commit), "\n") {
		want[p] = true
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, path)
		if rel == ".git" {
			return filepath.SkipDir
		}
		if rel != "." && !want[filepath.ToSlash(rel)] {
			t.Fatalf("%s is in the checkout but not in %s", rel, src.Commit)
		}
		return nil
	})
	mustNotExist(t, filepath.Join(dir, ".git", markerName))
	mustNotExist(t, filepath.Join(dir, ".git", "index.lock"))
	mustNotExist(t, lockPath(root, src.Name))
	list, _ := os.ReadDir(root)
	for _, e := range list {
		if isTempClone(e.Name(), src.Name) {
			t.Fatalf("%s is left in %s", e.Name(), root)
		}
	}
	return res
}

// TestSyncSurvivesSIGKILL kills hybrid sources sync (the child: Fetch,
// then Sync, as the command does) at random moments of a first clone and
// of an update between two commits of 600 files, with SIGKILL to hybrid
// alone or to hybrid and its gits at once, and checks that the next sync
// always succeeds with the checkout exactly at the locked commit and clean.
// The delays are spread over the whole run, from 0 to the measured
// duration of an uninterrupted one (see killLoop). HYBRID_SYNC_KILL_TRIALS
// sets how many trials must kill a sync before it finishes, in all
// (default 52), HYBRID_SYNC_KILL_FILES the files per commit.
func TestSyncSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := newBigRemote(t, g.Env, bigFiles(t))
	// Two fifths of the trials clone, the rest update; half of each
	// kill git too.
	total := killTrials(t)
	cloneTrials := max(2, total*2/5)
	updateTrials := max(2, total-cloneTrials)

	t.Run("clone", func(t *testing.T) {
		t.Parallel()
		base := t.TempDir()
		src := Source{Name: "big", URL: r.URL, Ref: "main", Commit: r.A}
		full := runChild(t, g, filepath.Join(base, "measure"), src, -1, false).took
		killLoop(t, "clone", cloneTrials, full, func(i int, killGit bool, delay time.Duration) (childOutcome, leftovers, *SyncResult) {
			src.Commit = []string{r.A, r.B}[i/2%2]
			root := filepath.Join(base, strconv.Itoa(i))
			defer os.RemoveAll(root)
			o := runChild(t, g, root, src, delay, killGit)
			var left leftovers
			left.look(t, root, src.Name)
			return o, left, checkRecovered(t, g, root, src)
		})
	})

	t.Run("update", func(t *testing.T) {
		t.Parallel()
		root := filepath.Join(t.TempDir(), "sources")
		src := Source{Name: "big", URL: r.URL, Ref: "main", Commit: r.A}
		runChild(t, g, root, src, -1, false)
		src.Commit = r.B
		full := runChild(t, g, root, src, -1, false).took
		// Each trial moves the checkout to the other commit: B -> A,
		// then A -> B, and so on.
		killLoop(t, "update", updateTrials, full, func(i int, killGit bool, delay time.Duration) (childOutcome, leftovers, *SyncResult) {
			src.Commit = []string{r.A, r.B}[i%2]
			o := runChild(t, g, root, src, delay, killGit)
			var left leftovers
			left.look(t, root, src.Name)
			return o, left, checkRecovered(t, g, root, src)
		})
	})
}

// killLoop runs trials until want of them (half with git killed too) have
// killed a sync before it finished, and logs the counts. Each trial gets a
// random delay from 0 to full, the duration of an uninterrupted run, which
// follows how busy the machine is: a run that finishes before its kill
// gives its duration, and each kill adds 5%, so that the delays keep
// reaching the end of a sync (about one trial in seven finishes first).
// It gives up after 4*want trials.
func killLoop(t *testing.T, what string, want int, full time.Duration, trial func(i int, killGit bool, delay time.Duration) (childOutcome, leftovers, *SyncResult)) {
	t.Helper()
	counts := map[bool]*killCounts{false: {}, true: {}}
	need := map[bool]int{false: want / 2, true: want - want/2}
	first := full
	for i := 0; counts[false].killed < need[false] || counts[true].killed < need[true]; i++ {
		if i >= 4*want {
			t.Errorf("%s: gave up after %d trials: only %d killed a sync before it finished", what, i, counts[false].killed+counts[true].killed)
			break
		}
		killGit := i/2%2 == 1
		if counts[killGit].killed >= need[killGit] {
			killGit = !killGit
		}
		o, left, res := trial(i, killGit, rand.N(full))
		counts[killGit].add(o, left, res)
		if o.killed {
			full += full / 20
		} else {
			full = o.took
		}
	}
	t.Logf("%s (uninterrupted: %s, at the end %s), hybrid killed: %s", what, first.Round(time.Millisecond), full.Round(time.Millisecond), counts[false])
	t.Logf("%s (uninterrupted: %s, at the end %s), hybrid and git killed: %s", what, first.Round(time.Millisecond), full.Round(time.Millisecond), counts[true])
}

// killCounts tallies the trials of one scenario.
type killCounts struct {
	trials, killed, recovered, finished int
	gitRunning, gitSurvived             int
	left                                leftovers
	notes                               int
}

func (c *killCounts) add(o childOutcome, left leftovers, res *SyncResult) {
	c.trials++
	if o.killed {
		c.killed++
		c.recovered++ // checkRecovered failed the test otherwise
	} else {
		c.finished++
	}
	c.gitRunning += o.gitRunning
	c.gitSurvived += o.gitSurvived
	c.left.tempClones += left.tempClones
	c.left.markers += left.markers
	c.left.gitLocks += left.gitLocks
	c.left.liveGroups += left.liveGroups
	if len(res.Recovered) > 0 {
		c.notes++
	}
}

func (c *killCounts) String() string {
	return fmt.Sprintf("%d trials: %d killed mid-sync, %d recovered, %d finished before the kill (and synced again); "+
		"git running at the kill in %d, git outliving hybrid by 1s %d; left: %d temporary clones, %d in-progress markers, %d with git lock files, %d live git groups; %d syncs repaired something",
		c.trials, c.killed, c.recovered, c.finished, c.gitRunning, c.gitSurvived,
		c.left.tempClones, c.left.markers, c.left.gitLocks, c.left.liveGroups, c.notes)
}

// TestSyncEndsGitLeftByKilledHybrid leaves a lock file recording a process
// group, as a hybrid killed while its git ran leaves it, and checks the
// next Sync kills that group, but not a group whose leader started at
// another time (its PID was reused).
func TestSyncEndsGitLeftByKilledHybrid(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	r := sharedRemote(t)
	for _, reused := range []bool{false, true} {
		root := filepath.Join(t.TempDir(), "sources")
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		orphan := exec.Command("sleep", "60")
		orphan.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := orphan.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { orphan.Process.Kill() })
		waited := make(chan struct{})
		go func() { orphan.Wait(); close(waited) }()
		pid := orphan.Process.Pid
		start, ok := processStart(pid)
		if !ok {
			t.Fatal("no start time for the orphan")
		}
		if reused {
			start++
		}
		writeFile(t, lockPath(root, "src"), formatRecord(lockRecord{pid: 1 << 22, pgid: pid, start: start}))
		res := mustSync(t, g, root, Source{Name: "src", URL: r.URL, Ref: "main", Commit: r.Main[2]})
		killed := false
		select {
		case <-waited:
			killed = true
		case <-time.After(time.Second):
		}
		said := strings.Contains(strings.Join(res.Recovered, "\n"), fmt.Sprintf("killed git (process group %d)", pid))
		if killed != !reused || said != !reused {
			t.Errorf("reused PID %v: orphan killed %v, reported %v (%q); want both %v", reused, killed, said, res.Recovered, !reused)
		}
	}
}
