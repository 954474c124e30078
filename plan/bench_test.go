package plan_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/internal/wsgen"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/sources"
	"github.com/hybridcore/hybrid/state"
)

// The plan benchmarks run the sequence of "hybrid plan" (cmd/hybrid
// makePlanned) on generated workspaces: load hybrid.hcl, the templates and
// every render; read the lockfile; take the state lock and read the state;
// load the stat cache; make the plan; save the stat cache. Git is left out
// (the generated sources are plain directories, not checkouts).
//
//	go test -run='^$' -bench=Plan -benchtime=5x ./plan/
//
// The large workspace (wsgen.Default: 200 images x 5 environments, 20
// sources, 20,000 input files of ~200 MB) is generated once per process,
// lazily, in a temporary directory that TestMain removes. Set
// HYBRID_BENCH_DIR to generate it there instead and keep it for later runs
// (and for comparing with sha256sum and git status on the same files).
// Preparing a workspace records every build in its state/ and writes its
// renders to configs/, as apply would.
//
// Figures:
//   - BenchmarkPlanCold: no stat cache, so every input file is hashed; the
//     state records every build, so the plan must still be a no-op. The
//     OS page cache holds the files after the first run: this measures
//     hashing and planning, not the disk.
//   - BenchmarkPlanWarmNoop: the stat cache vouches for every file; the
//     plan must have no changes.
//   - BenchmarkPlanSmall: both, on a quickstart-sized workspace, to catch
//     regressions of the fixed cost of a plan.
//   - BenchmarkPlanHashCold, BenchmarkPlanHashWarm: the hashing part alone
//     (stat cache, walks, hashing), as a plan asks for the build trees.
//   - BenchmarkPlanBaselineSha256sum: coreutils sha256sum over the same
//     input files, batched as xargs does, for comparison with the cold plan.
//   - peak-RSS-MB: the high-water mark of resident memory (VmHWM) of a
//     child process that runs one plan and nothing else, which is what a
//     "hybrid plan" process would peak at, runtime and GC slack included.
//   - B/op and allocs/op: everything one plan allocates.
//   - cpu-ms/op: CPU time of the process (all threads, GC included) per
//     plan, which other load on the machine changes far less than ns/op.
//   - load-ms, state-ms, make-ms...: wall time of each step of the plan.

// benchWorkspace is a generated workspace shared by the benchmarks of one
// process, with the state that records every build.
type benchWorkspace struct {
	name string
	spec wsgen.Spec

	once    sync.Once
	dir     string
	temp    string // a temporary directory to remove when the tests end
	inputs  []string
	bytes   int64
	prepErr error

	peakMu sync.Mutex
	peak   map[string]float64
}

var (
	largeWorkspace = &benchWorkspace{name: "large", spec: wsgen.Default()}
	smallWorkspace = &benchWorkspace{name: "small", spec: wsgen.Small()}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, w := range []*benchWorkspace{largeWorkspace, smallWorkspace} {
		if w.temp != "" {
			os.RemoveAll(w.temp)
		}
	}
	os.Exit(code)
}

// prepared returns the workspace directory, generating it on first use and
// recording every build in its state, so that a plan of it has no changes.
func (w *benchWorkspace) prepared(b *testing.B) string {
	b.Helper()
	w.once.Do(func() { w.prepErr = w.prepare() })
	if w.prepErr != nil {
		b.Fatal(w.prepErr)
	}
	return w.dir
}

func (w *benchWorkspace) prepare() error {
	key := fmt.Sprintf("%s-seed%d-i%d-d%d-e%d-s%d-f%d-b%d", w.name, w.spec.Seed, w.spec.Images, w.spec.DerivedPercent,
		w.spec.Envs, w.spec.Sources, w.spec.Files, w.spec.TotalBytes)
	if root := os.Getenv("HYBRID_BENCH_DIR"); root != "" {
		w.dir = filepath.Join(root, key)
		marker := w.dir + ".complete"
		if _, err := os.Stat(marker); err != nil {
			os.RemoveAll(w.dir)
			if err := wsgen.Generate(w.dir, w.spec); err != nil {
				return err
			}
			if err := os.WriteFile(marker, nil, 0o644); err != nil {
				return err
			}
		}
	} else {
		tmp, err := os.MkdirTemp("", "hybrid-bench-")
		if err != nil {
			return err
		}
		w.dir, w.temp = filepath.Join(tmp, key), tmp
		if err := wsgen.Generate(w.dir, w.spec); err != nil {
			return err
		}
	}
	// The object stores, as hybrid init leaves them: plans read the
	// sources there.
	if err := fillStores(w.dir); err != nil {
		return err
	}
	// Start from no state, no renders and no stat cache.
	for _, d := range []string{"state", "configs"} {
		if err := os.RemoveAll(filepath.Join(w.dir, d)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(w.dir, "state"), 0o755); err != nil {
		return err
	}
	ws, st, p, err := runPlan(w.dir)
	if err != nil {
		return err
	}
	if err := recordApplied(st, ws, p); err != nil {
		return err
	}
	if err := state.NewLocal(statePath(w.dir)).Write(context.Background(), st, false); err != nil {
		return err
	}
	files := map[string]bool{}
	for _, tree := range st.Trees {
		for f := range tree {
			files[f] = true
		}
	}
	for f := range files {
		fi, err := os.Stat(filepath.Join(w.dir, filepath.FromSlash(f)))
		if err != nil {
			return err
		}
		w.inputs = append(w.inputs, f)
		w.bytes += fi.Size()
	}
	sort.Strings(w.inputs)
	return nil
}

// fillStores fetches each source's locked commit from its checkout into its
// object store, unless the store has it.
func fillStores(dir string) error {
	g, err := sources.NewGit()
	if err != nil {
		return err
	}
	lf, diags := lock.Read(filepath.Join(dir, lock.DefaultFilename))
	if diags.HasErrors() {
		return diags
	}
	root := filepath.Join(dir, "sources")
	for name, pin := range lf.Sources {
		if err := g.Store(root, name).Fetch(context.Background(), filepath.Join(root, name), pin.Ref, pin.Commit); err != nil {
			return err
		}
	}
	return nil
}

func statePath(dir string) string     { return filepath.Join(dir, "state", "packer-hybrid.json") }
func statCachePath(dir string) string { return filepath.Join(dir, "state", plan.StatCacheFilename) }

// dropCaches removes the stat cache and the plan cache: the next plan
// hashes every file and reads every template.
func dropCaches(dir string) error {
	for _, p := range []string{statCachePath(dir), filepath.Join(dir, "state", plan.PlanCacheFilename)} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// phases times the steps of one plan, so a benchmark can say where the
// time goes.
type phases struct {
	load, lock, state, cache, make, save time.Duration
}

func (p *phases) add(q phases) {
	p.load += q.load
	p.lock += q.lock
	p.state += q.state
	p.cache += q.cache
	p.make += q.make
	p.save += q.save
}

// report adds each phase's mean time per plan to the benchmark's figures.
func (p *phases) report(b *testing.B, n int) {
	for _, f := range []struct {
		d    time.Duration
		unit string
	}{
		{p.load, "load-ms"}, {p.lock, "lockfile-ms"}, {p.state, "state-ms"},
		{p.cache, "cacheload-ms"}, {p.make, "make-ms"}, {p.save, "cachesave-ms"},
	} {
		b.ReportMetric(float64(f.d.Microseconds())/1000/float64(n), f.unit)
	}
}

// runPlan plans the workspace as "hybrid plan" does, saving the stat cache.
// It returns the state the plan was made against.
func runPlan(dir string) (*plan.Workspace, *state.State, *plan.Plan, error) {
	ws, st, p, _, err := runPlanTimed(dir)
	return ws, st, p, err
}

func runPlanTimed(dir string) (*plan.Workspace, *state.State, *plan.Plan, phases, error) {
	var t phases
	mark := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d = now.Sub(mark)
		mark = now
	}
	// As hybrid plan does, the state is locked and read while the
	// templates load and render; "state" is the wait for it afterwards.
	backend := state.NewLocal(statePath(dir))
	var st *state.State
	var stateErr error
	var lockID string
	stateDone := make(chan struct{})
	ws, diags := plan.LoadWorkspaceWith(dir, config.Inputs{}, plan.LoadOptions{Caches: true, OnConfig: func(*config.Config) {
		go func() {
			defer close(stateDone)
			if lockID, stateErr = backend.Lock(context.Background(), state.LockInfo{Operation: "plan"}); stateErr == nil {
				st, stateErr = backend.ReadSummary(context.Background())
			}
		}()
	}})
	defer ws.Close()
	if diags.HasErrors() {
		return nil, nil, nil, t, diags
	}
	lap(&t.load)
	<-stateDone
	if lockID != "" {
		defer backend.Unlock(lockID)
	}
	if stateErr != nil {
		return nil, nil, nil, t, stateErr
	}
	lap(&t.state)
	lockPath := filepath.Join(ws.Config.Dir, lock.DefaultFilename)
	lf, d := lock.ReadWith(ws.Parser, lockPath)
	if d.HasErrors() {
		return nil, nil, nil, t, d
	}
	lockBytes, err := os.ReadFile(lockPath)
	if err != nil {
		return nil, nil, nil, t, err
	}
	lap(&t.lock)
	lap(&t.cache)
	p, d := plan.Make(context.Background(), ws, plan.Options{
		State: st, Lock: lf, LockDigest: plan.Digest(lockBytes), PackerVersion: lf.Packer.Version,
		Hasher: ws.Hasher, Secrets: ws.Secrets([]byte(benchDigestKey)),
	})
	if d.HasErrors() {
		return nil, nil, nil, t, d
	}
	lap(&t.make)
	if err := ws.SaveCaches(); err != nil {
		return nil, nil, nil, t, err
	}
	lap(&t.save)
	return ws, st, p, t, nil
}

// recordApplied records every change of p in st as apply would after each
// node succeeded (apply/apply.go, apply/build.go), without running git or
// packer: sources at their locked commit, renders written to disk, builds
// succeeded with the planned fingerprint and the per-file tree digests.
func recordApplied(st *state.State, ws *plan.Workspace, p *plan.Plan) error {
	builds := map[string]*plan.Build{}
	for _, b := range ws.Builds {
		builds[b.RenderAddress()] = b
		builds[b.Address()] = b
	}
	if st.Trees == nil {
		st.Trees = map[string]map[string]string{}
	}
	for _, c := range p.Changes {
		switch {
		case c.Action == plan.Delete:
			return fmt.Errorf("unexpected forget of %s in a fresh workspace", c.Address)
		case c.Type == plan.TypeSource:
			st.Sources[c.Source] = &state.Source{URL: c.Inputs["url"], Ref: c.Inputs["ref"], Commit: c.Inputs["commit"]}
		case c.Type == plan.TypeRender:
			b := builds[c.Address]
			r := b.Render
			path := filepath.Join(ws.Config.Dir, filepath.FromSlash(r.Path))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if _, err := atomicfile.WriteIfChanged(path, r.Bytes, 0o644); err != nil {
				return err
			}
			st.Renders[c.Address] = &state.Render{Env: b.Env, Image: b.Image.Name, Path: r.Path,
				Digest: c.After, Fingerprint: c.After, Inputs: c.Inputs, Values: plan.RenderValues(r)}
		case c.Type == plan.TypeBuild:
			b := builds[c.Address]
			st.Builds[c.Address] = &state.Build{Env: b.Env, Image: b.Image.Name, Inputs: c.Inputs,
				Status: state.StatusSucceeded, Fingerprint: c.After}
			for d, files := range c.Trees {
				st.Trees[d] = files
			}
		}
	}
	return nil
}

// cacheEntries counts the entries of the saved stat cache.
func cacheEntries(dir string) int {
	data, err := os.ReadFile(statCachePath(dir))
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n")) - 1
}

// warmUp plans until the stat cache vouches for every file a plan reads
// from disk (files in sources are read from git objects, whose digests
// need no cache): files changed within the racy-clean
// window of a plan are left out of its cache, so right after generation a
// plan or two more may be needed. The cache is warm when a plan no longer
// rewrites it.
func (w *benchWorkspace) warmUp(b *testing.B) {
	b.Helper()
	for try := 0; ; try++ {
		// A file written within the racy-clean window of a plan is left
		// out of the cache that plan saves, and is hashed again by the
		// next: wait out the window before the plan that must find the
		// cache complete.
		time.Sleep(2100 * time.Millisecond)
		before, _ := os.Stat(statCachePath(w.dir))
		_, _, p, err := runPlan(w.dir)
		if err != nil {
			b.Fatal(err)
		}
		assertNoChanges(b, p)
		after, err := os.Stat(statCachePath(w.dir))
		if err != nil {
			b.Fatal(err)
		}
		if before != nil && after.ModTime().Equal(before.ModTime()) {
			return
		} else if try == 5 {
			b.Fatalf("the stat cache (%d entries) was still rewritten by plan %d", cacheEntries(w.dir), try+1)
		}
	}
}

func assertNoChanges(b *testing.B, p *plan.Plan) {
	b.Helper()
	if !p.HasChanges() {
		return
	}
	var lines []string
	for _, c := range p.Changes {
		if c.Action != plan.NoOp && len(lines) < 5 {
			lines = append(lines, fmt.Sprintf("%s %s: %v", c.Action, c.Address, c.Reasons))
		}
	}
	b.Fatalf("plan of a workspace whose state records every build: %s\n%s", p.Summary, strings.Join(lines, "\n"))
}

func BenchmarkPlanCold(b *testing.B) {
	benchCold(b, largeWorkspace)
}

func BenchmarkPlanWarmNoop(b *testing.B) {
	benchWarm(b, largeWorkspace)
}

// BenchmarkPlanSmall guards the fixed cost of a plan on a quickstart-sized
// workspace (4 images, 2 environments).
func BenchmarkPlanSmall(b *testing.B) {
	b.Run("cold", func(b *testing.B) { benchCold(b, smallWorkspace) })
	b.Run("warm", func(b *testing.B) { benchWarm(b, smallWorkspace) })
}

func benchCold(b *testing.B, w *benchWorkspace) {
	dir := w.prepared(b)
	b.SetBytes(w.bytes)
	b.ReportAllocs()
	var total phases
	n := 0
	cpu := cpuTime()
	for b.Loop() {
		b.StopTimer()
		if err := dropCaches(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		_, _, p, t, err := runPlanTimed(dir)
		if err != nil {
			b.Fatal(err)
		}
		assertNoChanges(b, p)
		total.add(t)
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(n), "cpu-ms/op")
	total.report(b, n)
	w.report(b, "cold")
}

func benchWarm(b *testing.B, w *benchWorkspace) {
	dir := w.prepared(b)
	w.warmUp(b)
	before, err := os.Stat(statCachePath(dir))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var total phases
	n := 0
	cpu := cpuTime()
	for b.Loop() {
		_, _, p, t, err := runPlanTimed(dir)
		if err != nil {
			b.Fatal(err)
		}
		assertNoChanges(b, p)
		total.add(t)
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(n), "cpu-ms/op")
	total.report(b, n)
	after, err := os.Stat(statCachePath(dir))
	if err != nil {
		b.Fatal(err)
	}
	if !after.ModTime().Equal(before.ModTime()) {
		b.Fatal("a warm plan rewrote the stat cache: it hashed files the cache should have vouched for")
	}
	w.report(b, "warm")
}

// report adds the workspace's size and the peak memory of one plan in a
// child process.
func (w *benchWorkspace) report(b *testing.B, mode string) {
	b.Helper()
	b.ReportMetric(float64(len(w.inputs)), "files")
	b.ReportMetric(float64(w.bytes)/(1<<20), "input-MB")
	hwm, err := w.peakRSS(mode)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(hwm, "peak-RSS-MB")
}

// cpuTime is the user and system CPU time the process has used, on all
// threads: unlike the wall time, it barely moves when other processes load
// the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Environment of the child process TestPlanPeakMemory runs in.
const (
	childDirEnv  = "HYBRID_BENCH_CHILD_DIR"
	childModeEnv = "HYBRID_BENCH_CHILD_MODE"
	// childHeapEnv names a file for a heap profile taken right after the
	// plan, for looking into the peak (go tool pprof -sample_index=inuse_space).
	childHeapEnv = "HYBRID_BENCH_HEAPPROFILE"
)

// peakRSS runs one plan in a child process and returns its VmHWM in MB,
// once per mode.
func (w *benchWorkspace) peakRSS(mode string) (float64, error) {
	w.peakMu.Lock()
	defer w.peakMu.Unlock()
	if v, ok := w.peak[mode]; ok {
		return v, nil
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPlanPeakMemory$", "-test.bench=^$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childDirEnv+"="+w.dir, childModeEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("peak memory child: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if _, v, ok := strings.Cut(sc.Text(), "VmHWM-kB="); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, err
			}
			if w.peak == nil {
				w.peak = map[string]float64{}
			}
			w.peak[mode] = kb / 1024
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("peak memory child printed no VmHWM:\n%s", out)
}

// TestPlanPeakMemory is the child process of the benchmarks' peak-RSS-MB
// figure: it runs one plan of the workspace in HYBRID_BENCH_CHILD_DIR (cold:
// without stat cache; warm: with it) and prints the process's VmHWM.
func TestPlanPeakMemory(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("run by the plan benchmarks in a child process")
	}
	if os.Getenv(childModeEnv) == "cold" {
		if err := dropCaches(dir); err != nil {
			t.Fatal(err)
		}
	}
	ws, st, p, err := runPlan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() {
		t.Fatalf("plan has changes: %s", p.Summary)
	}
	if path := os.Getenv(childHeapEnv); path != "" {
		// What is live once the plan is made: the workspace, the state
		// and the plan, as the command holds them while printing.
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		runtime.KeepAlive(ws)
		runtime.KeepAlive(st)
		runtime.KeepAlive(p)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("cannot read peak memory: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Printf("VmHWM-kB=%s\n", strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
}

// BenchmarkPlanHashCold and BenchmarkPlanHashWarm measure the hashing part
// of a plan alone (hash.go and statcache.go): load the stat cache, digest
// every tree the builds use, as Make asks for them, and save the cache.
func BenchmarkPlanHashCold(b *testing.B) { benchHash(b, largeWorkspace, false) }
func BenchmarkPlanHashWarm(b *testing.B) { benchHash(b, largeWorkspace, true) }

func benchHash(b *testing.B, w *benchWorkspace, warm bool) {
	dir := w.prepared(b)
	ws, diags := plan.LoadWorkspace(dir, config.Inputs{})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	if warm {
		w.warmUp(b)
	} else {
		b.SetBytes(w.bytes)
	}
	b.ReportAllocs()
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		if !warm {
			b.StopTimer()
			os.Remove(statCachePath(dir))
			b.StartTimer()
		}
		cache := plan.LoadStatCache(statCachePath(dir))
		h := plan.NewHasher(ws.Config.Dir, cache)
		trees := map[*plan.Tree]bool{}
		for _, bd := range ws.Builds {
			t, err := h.Dir(bd.Image.Template)
			if err != nil {
				b.Fatal(err)
			}
			trees[t] = true
			for _, in := range bd.Image.Inputs {
				t, err := h.Glob(in.Path)
				if err != nil {
					b.Fatal(err)
				}
				trees[t] = true
			}
			if p := bd.Stack.Provisioner; p != nil {
				t, err := h.Dir(p.Dir)
				if err != nil {
					b.Fatal(err)
				}
				trees[t] = true
			}
		}
		// The template directories hold the input files and a few more
		// (the OS var file examples): every input must be hashed.
		distinct := map[string]bool{}
		for t := range trees {
			for f := range t.Files {
				distinct[f] = true
			}
		}
		if len(distinct) < len(w.inputs) {
			b.Fatalf("hashed %d files, want at least the %d inputs", len(distinct), len(w.inputs))
		}
		if err := cache.Save(statCachePath(dir)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(n), "cpu-ms/op")
}

// BenchmarkPlanBaselineSha256sum hashes the large workspace's input files
// with coreutils sha256sum, batched like xargs, for comparison with
// BenchmarkPlanCold.
func BenchmarkPlanBaselineSha256sum(b *testing.B) {
	bin, err := exec.LookPath("sha256sum")
	if err != nil {
		b.Skip("sha256sum not found")
	}
	dir := largeWorkspace.prepared(b)
	files := largeWorkspace.inputs
	b.SetBytes(largeWorkspace.bytes)
	for b.Loop() {
		for i := 0; i < len(files); i += 2000 {
			batch := files[i:min(i+2000, len(files))]
			cmd := exec.Command(bin, append([]string{"--"}, batch...)...)
			cmd.Dir = dir
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatalf("sha256sum: %v", err)
			}
		}
	}
	b.ReportMetric(float64(len(files)), "files")
}

// BenchmarkPlanWarmVsNinja compares the warm no-op plan of the large
// workspace (1,000 builds) with `ninja -n` on an equivalent graph of the
// same files: one edge per render (from hybrid.hcl) and one per build, from
// its trees (template and asset directories, each an edge from its files)
// and its render, to stamp files that a first ninja run made up to date.
//
// Both are processes: the hybrid binary built from this module runs
// "hybrid plan" in the workspace as a user would, after one plan that
// kept its memo (warm: nothing moved since). Each iteration runs one plan
// and one ninja -n; it reports their mean wall times (plan_ms, ninja_ms)
// and plan_ms/ninja_ms. full_ms is a plan made without the memo
// (HYBRID_PLAN_MEMO=off), as after any change: every template loaded from
// the plan cache, every var file rendered, every tree walked, every
// checkout's git status read.
func BenchmarkPlanWarmVsNinja(b *testing.B) {
	ninja, err := exec.LookPath("ninja")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("ninja is needed for the baseline: %v", err)
		}
		b.Skipf("ninja not found (apt-get install ninja-build): %v", err)
	}
	w := largeWorkspace
	dir := w.prepared(b)
	w.warmUp(b)
	st, err := state.NewLocal(statePath(dir)).Read(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	build := b.TempDir()
	graph, edges := ninjaGraph(st, build)
	manifest := filepath.Join(build, "build.ninja")
	if err := os.WriteFile(manifest, []byte(graph), 0o644); err != nil {
		b.Fatal(err)
	}
	runNinja := func(args ...string) string {
		cmd := exec.Command(ninja, append([]string{"-f", manifest}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("ninja %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	runNinja("-j", "8") // make every stamp, and the log

	hybrid := buildHybrid(b)
	runHybrid := func(env ...string) string {
		cmd := exec.Command(hybrid, "plan", "-no-color", "-detailed-exitcode")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append([]string{plan.DigestKeyEnv + "=" + benchDigestKey, "CHECKPOINT_DISABLE=1"}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("hybrid plan: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "\nNo changes.") {
			b.Fatalf("hybrid plan has changes on an up-to-date workspace:\n%s", out)
		}
		return string(out)
	}
	// The memo is kept by a plan of a workspace where nothing changed
	// within the racy window: wait it out after the warm-up.
	time.Sleep(2100 * time.Millisecond)
	runHybrid()
	memo := filepath.Join(dir, "state", plan.MemoFilename)
	kept, err := os.Stat(memo)
	if err != nil {
		b.Fatalf("the warm-up plan kept no memo: %v", err)
	}
	start := time.Now()
	runHybrid("HYBRID_PLAN_MEMO=off")
	full := time.Since(start)

	var planTotal, ninjaTotal time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		runHybrid()
		planTotal += time.Since(start)
		start = time.Now()
		out := runNinja("-n")
		ninjaTotal += time.Since(start)
		if !strings.Contains(out, "no work to do") {
			b.Fatalf("ninja -n has work to do on an up-to-date graph:\n%s", out)
		}
		n++
	}
	// A plan that did not reuse the memo keeps it again.
	if fi, err := os.Stat(memo); err != nil || !fi.ModTime().Equal(kept.ModTime()) {
		b.Fatalf("a warm plan did not reuse the memo (%v)", err)
	}
	b.ReportMetric(float64(planTotal.Microseconds())/1000/float64(n), "plan_ms")
	b.ReportMetric(float64(ninjaTotal.Microseconds())/1000/float64(n), "ninja_ms")
	b.ReportMetric(planTotal.Seconds()/ninjaTotal.Seconds(), "plan/ninja")
	b.ReportMetric(float64(full.Microseconds())/1000, "full_ms")
	b.ReportMetric(float64(edges), "edges")
	b.ReportMetric(float64(len(w.inputs)), "files")
}

// benchDigestKey is the digest key of the benchmarks' plans, given to the
// hybrid binary as HYBRID_DIGEST_KEY.
const benchDigestKey = "bench-digest-key-0123456789abcdef0123"

// buildHybrid builds the hybrid binary of this module, once per run.
func buildHybrid(b *testing.B) string {
	hybridOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hybrid-bench-bin-")
		if err != nil {
			hybridErr = err
			return
		}
		hybridBin = filepath.Join(dir, "hybrid")
		out, err := exec.Command("go", "build", "-o", hybridBin, "github.com/hybridcore/hybrid/cmd/hybrid").CombinedOutput()
		if err != nil {
			hybridErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if hybridErr != nil {
		b.Fatal(hybridErr)
	}
	return hybridBin
}

var (
	hybridOnce sync.Once
	hybridBin  string
	hybridErr  error
)

// ninjaGraph writes the ninja manifest equivalent to the state's graph,
// with its stamps and log under build, and returns it and its edge count:
// an edge per tree (from its files; builds share trees as plan shares
// their digests), per render (from hybrid.hcl) and per build (from its
// trees and its render).
func ninjaGraph(st *state.State, build string) (string, int) {
	var g strings.Builder
	esc := func(p string) string { return strings.NewReplacer("$", "$$", " ", "$ ", ":", "$:").Replace(p) }
	fmt.Fprintf(&g, "builddir = %s\nrule stamp\n  command = touch $out\n\n", esc(build))
	edges := 0
	trees := make([]string, 0, len(st.Trees))
	for d := range st.Trees {
		trees = append(trees, d)
	}
	sort.Strings(trees)
	treeStamp := map[string]string{}
	for i, d := range trees {
		files := make([]string, 0, len(st.Trees[d]))
		for f := range st.Trees[d] {
			files = append(files, esc(filepath.FromSlash(f)))
		}
		sort.Strings(files)
		treeStamp[d] = esc(filepath.Join(build, "trees", strconv.Itoa(i)))
		fmt.Fprintf(&g, "build %s: stamp %s\n", treeStamp[d], strings.Join(files, " "))
		edges++
	}
	addrs := make([]string, 0, len(st.Builds))
	for a := range st.Builds {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		rec := st.Builds[a]
		render := esc(filepath.Join(build, "stamps", rec.Env, rec.Image+".render"))
		fmt.Fprintf(&g, "build %s: stamp hybrid.hcl\n", render)
		var ins []string
		for _, v := range rec.Inputs {
			if s, ok := treeStamp[v]; ok {
				ins = append(ins, s)
			}
		}
		sort.Strings(ins)
		ins = append(ins, render)
		fmt.Fprintf(&g, "build %s: stamp %s\n", esc(filepath.Join(build, "stamps", rec.Env, rec.Image+".build")), strings.Join(ins, " "))
		edges += 2
	}
	return g.String(), edges
}
