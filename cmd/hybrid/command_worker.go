package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/apply/queue"
	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/sources"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/pg"
)

// workerCommand takes the build jobs of distributed applies.
type workerCommand struct{ s streams }

type workerArgs struct {
	Concurrency int
	Queues      []string
	Grace       time.Duration
	RescueAfter time.Duration
	Name        string
	IdleExit    time.Duration
	NoColor     bool
}

func (c *workerCommand) Synopsis() string { return "Run the builds of distributed applies" }

func (c *workerCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid worker [options]

  Takes build jobs from the job queue in the pg state backend's database
  (hybrid apply -distributed enqueues them) and runs them on this machine,
  from this checkout of the workspace: for each job it syncs the build's
  sources to the locked commits, plans the build and refuses it unless the
  fingerprint is the one the coordinator planned, writes its var file, runs
  packer as hybrid apply does (per-build log under logs/, artifacts), and
  records the result in the state under the coordinator's state lock. It
  starts no build once that lock is gone, and interrupts a running build
  when the lock goes or the coordinator cancels.

  SIGTERM or Ctrl-C: take no new job, let running builds finish for up to
  -grace, then interrupt them; a job that did not finish goes back to the
  queue for another worker. A second signal stops the builds at once.

  A worker killed outright (SIGKILL, a lost machine) stops touching its
  jobs; after -rescue-after another worker takes them over and builds
  them again. Every worker of a database should use the same -rescue-after.

  The state must use the pg backend (backend "pg" in the hybrid block, or
  HYBRID_PG_CONN_STR). Values that apply takes from -var and -var-file
  cannot reach a worker: a distributed apply refuses them; set them in
  hybrid.hcl, or as HYBRID_VAR_name on every machine. Secrets digest with
  HYBRID_DIGEST_KEY, which must be the same on the coordinator and workers.

Options:
  -concurrency=N       Run at most N builds at once, per queue (default 1).
  -queue=NAME          Take jobs from this queue; may be repeated (default:
                       the "default" queue). Images and environments name
                       their queue with queue = "NAME" in hybrid.hcl.
  -grace=DUR           After SIGTERM, how long running builds may go on
                       before they are interrupted (default 30m).
  -rescue-after=DUR    How long a running job may go without its worker's
                       heartbeat before another worker takes it (default
                       2m; HYBRID_WORKER_RESCUE_AFTER sets the default).
  -name=NAME           The worker's name in the queue (default host-pid);
                       unique among running workers.
  -idle-exit=DUR       Exit (0) once no build job of its queues has waited
                       or run for DUR: for workers started as CI jobs
                       beside the apply. Default: run until stopped.
  -no-color            Do not colour the output.
`)
}

func parseWorkerArgs(args []string, getenv func(string) string) (*workerArgs, hcl.Diagnostics) {
	a := &workerArgs{Concurrency: 1, Grace: 30 * time.Minute, RescueAfter: queue.DefaultRescueAfter}
	if s := getenv("HYBRID_WORKER_RESCUE_AFTER"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Second {
			return nil, flagError("worker", fmt.Errorf("HYBRID_WORKER_RESCUE_AFTER is %q: give a duration of at least 1s, such as 2m", s))
		}
		a.RescueAfter = d
	}
	fs := newFlagSet("worker")
	fs.IntVar(&a.Concurrency, "concurrency", a.Concurrency, "")
	fs.Var((*stringsFlag)(&a.Queues), "queue", "")
	fs.DurationVar(&a.Grace, "grace", a.Grace, "")
	fs.DurationVar(&a.RescueAfter, "rescue-after", a.RescueAfter, "")
	fs.StringVar(&a.Name, "name", "", "")
	fs.DurationVar(&a.IdleExit, "idle-exit", 0, "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("worker", err)
	}
	if fs.NArg() > 0 {
		return nil, flagError("worker", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if a.Concurrency < 1 || a.Concurrency > 256 {
		return nil, flagError("worker", errors.New("-concurrency must be between 1 and 256"))
	}
	if a.IdleExit < 0 {
		return nil, flagError("worker", errors.New("-idle-exit must not be negative"))
	}
	if a.Grace < 0 {
		return nil, flagError("worker", errors.New("-grace must not be negative"))
	}
	if a.RescueAfter < time.Second {
		return nil, flagError("worker", errors.New("-rescue-after must be at least 1s"))
	}
	for _, q := range a.Queues {
		if !config.ValidQueueName(q) {
			return nil, flagError("worker", fmt.Errorf("invalid queue name %q: lowercase letters and digits, words joined by one \"_\" or \"-\"", q))
		}
	}
	if a.Name == "" {
		host, _ := os.Hostname()
		a.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	} else if !validWorkerName(a.Name) {
		return nil, flagError("worker", fmt.Errorf("invalid worker name %q: letters, digits, \".\", \"_\" and \"-\", at most 100", a.Name))
	}
	return a, nil
}

func validWorkerName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (c *workerCommand) Run(args []string) int {
	a, diags := parseWorkerArgs(args, os.Getenv)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ctx, hard, stop := signalContext(context.Background(), func() {
		fmt.Fprintf(c.s.Err, "Stop received: taking no new jobs; running builds have %s to finish, then are interrupted. Signal again to stop them at once.\n", a.Grace)
	})
	defer stop()
	return c.run(ctx, hard, a, v)
}

func (c *workerCommand) run(ctx, hard context.Context, a *workerArgs, v *view) int {
	cfg, files, diags := workspaceSettings()
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return 1
	}
	store, diags := openStateStore(ctx, cfg)
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return 1
	}
	backend, ok := store.backend.(*pg.Backend)
	if !ok {
		v.errorf("hybrid worker needs the pg state backend: the job queue lives in its database. Add backend \"pg\" to the hybrid block of hybrid.hcl, or set %s.", config.PGConnEnv)
		return 1
	}
	log := slog.New(slog.NewTextHandler(c.s.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// The queue's own connections: River keeps one listening, fetches,
	// completes and elects a leader, beside the builds' state writes.
	pool, err := pg.NewPool(ctx, cfg.Settings.Backend.ConnStr, int32(8+2*a.Concurrency*max(1, len(a.Queues))))
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	defer pool.Close()
	q, err := queue.Open(ctx, pool, backend.Schema(), log)
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	b := &workerBuilder{log: log, keys: backend}
	// Load the workspace now: a checkout that does not load is reported
	// before any job is taken, and the first job starts warm.
	if diags := b.warm(); diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	err = q.RunWorker(ctx, hard, queue.WorkerOptions{
		Name: a.Name, Queues: a.Queues, Concurrency: a.Concurrency,
		RescueAfter: a.RescueAfter, Grace: a.Grace, IdleExit: a.IdleExit,
		State: backend, Builder: b, Log: log,
	})
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	return 0
}

// workerBuilder runs a build job from this machine's checkout of the
// workspace.
type workerBuilder struct {
	log *slog.Logger
	// keys is the digest key kept with the shared state, so this worker
	// digests secrets as the coordinator did.
	keys state.KeyKeeper
	// mu orders the loading, source syncs and planning of jobs (they
	// share the checkouts and the plan caches); builds run in parallel.
	mu sync.Mutex
	// packer is the packer binary checked against the lockfile with the
	// given digest.
	packerFor, packerBin, packerVersion string
	// cur is the workspace as last loaded, reused while its files are
	// unchanged.
	cur *loadedWS
}

// loadedWS is a loaded workspace shared by the jobs that use it.
type loadedWS struct {
	ws *plan.Workspace
	// key identifies the files it was loaded from (workspaceKey).
	key   string
	users int
	stale bool
}

// workspaceKey identifies what a loaded workspace was read from: hybrid.hcl,
// the lockfile, the HYBRID_VAR_ values, and the size and modification time
// of every file in the template directories ws read (nil: none known yet).
// A job reloads the workspace when it changed; the files a build reads are
// digested again by every plan whatever this key says.
func workspaceKey(ws *plan.Workspace) string {
	h := sha256.New()
	for _, name := range []string{"hybrid.hcl", lock.DefaultFilename} {
		b, _ := os.ReadFile(name)
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HYBRID_VAR_") {
			fmt.Fprintf(h, "%s\x00", kv)
		}
	}
	if ws != nil {
		for _, dir := range sortedTemplateDirs(ws) {
			entries, _ := os.ReadDir(filepath.Join(ws.Config.Dir, filepath.FromSlash(dir)))
			for _, e := range entries {
				if fi, err := e.Info(); err == nil {
					fmt.Fprintf(h, "%s/%s\x00%d\x00%d\x00", dir, e.Name(), fi.Size(), fi.ModTime().UnixNano())
				}
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// acquire returns the loaded workspace, loading it again when its files
// changed. w.mu must be held. Call release when done with it.
func (w *workerBuilder) acquire() (*loadedWS, hcl.Diagnostics) {
	if w.cur != nil && workspaceKey(w.cur.ws) == w.cur.key {
		w.cur.users++
		return w.cur, nil
	}
	if old := w.cur; old != nil {
		old.stale = true
		if old.users == 0 {
			old.ws.Close()
		}
		w.cur = nil
	}
	ws, diags := plan.LoadWorkspaceWith(".", config.Inputs{Environ: os.Environ()}, plan.LoadOptions{Caches: true})
	if diags.HasErrors() {
		if ws != nil {
			ws.Close()
		}
		return nil, diags
	}
	w.cur = &loadedWS{ws: ws, key: workspaceKey(ws), users: 1}
	return w.cur, diags
}

// warm loads the workspace and saves its plan caches.
func (w *workerBuilder) warm() hcl.Diagnostics {
	w.mu.Lock()
	l, diags := w.acquire()
	w.mu.Unlock()
	if l != nil {
		l.ws.SaveCaches()
		w.release(l)
	}
	return diags
}

// release ends a job's use of a loaded workspace.
func (w *workerBuilder) release(l *loadedWS) {
	w.mu.Lock()
	defer w.mu.Unlock()
	l.users--
	if l.stale && l.users == 0 {
		l.ws.Close()
	}
}

// Build runs one build job.
func (w *workerBuilder) Build(ctx, hard context.Context, job queue.BuildJob) queue.Output {
	fail := func(format string, args ...any) queue.Output {
		return queue.Output{Outcome: string(apply.Failed), Error: fmt.Sprintf(format, args...)}
	}
	prep, out := w.prepare(ctx, job)
	if prep == nil {
		return out
	}
	defer w.release(prep.loaded)
	// Loading and planning took a moment: the apply may have ended.
	if err := job.CheckLock(ctx); err != nil {
		return queue.Output{Outcome: string(apply.Cancelled), Error: err.Error()}
	}
	mgr := state.NewManagerFor(job.State, prep.st)
	mgr.SetShared(true)
	sink := &workerSink{log: w.log.With("address", job.Args.Address, "job", job.ID)}
	nr, err := apply.RunBuild(ctx, apply.Options{
		Workspace: prep.ws, Plan: prep.plan, State: mgr, Lock: prep.lf,
		PackerBin: prep.bin, PackerVersion: prep.version, Git: prep.git,
		Sink: sink, Hard: hard, Heartbeat: 30 * time.Second,
	}, job.Args.Address)
	o := queue.Output{Outcome: string(nr.Outcome), ExitCode: nr.ExitCode, LogPath: nr.LogPath, Artifacts: nr.Artifacts}
	if nr.Err != nil {
		o.Error = nr.Err.Error()
	}
	if err != nil {
		if nr.Outcome == apply.Succeeded {
			return fail("%v", err)
		}
		o.Error = err.Error()
	}
	return o
}

// prepared is a job ready to build.
type prepared struct {
	loaded       *loadedWS
	ws           *plan.Workspace
	plan         *plan.Plan
	st           *state.State
	lf           *lock.File
	bin, version string
	git          *sources.Git
}

// prepare loads the workspace, syncs the build's sources to the locked
// commits, and plans the build against the state: it returns nil and the
// job's output when the job ends here (refused, or already recorded).
func (w *workerBuilder) prepare(ctx context.Context, job queue.BuildJob) (*prepared, queue.Output) {
	fail := func(format string, args ...any) (*prepared, queue.Output) {
		return nil, queue.Output{Outcome: string(apply.Failed), Error: fmt.Sprintf(format, args...)}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	first := w.cur == nil
	loaded, diags := w.acquire()
	if diags.HasErrors() {
		return fail("this worker's checkout of the workspace does not load: %s", diagText(diags))
	}
	ws := loaded.ws
	ok := false
	defer func() {
		if !ok {
			loaded.users--
			if loaded.stale && loaded.users == 0 {
				ws.Close()
			}
		}
	}()
	var b *plan.Build
	for _, x := range ws.Builds {
		if x.Address() == job.Args.Address {
			b = x
		}
	}
	if b == nil {
		return fail("%s is not in this worker's checkout of the workspace: update the checkout to the coordinator's commit", job.Args.Address)
	}
	lf, _, d := readLockfile(ws)
	if d.HasErrors() {
		return fail("this worker's lockfile does not load: %s", diagText(d))
	}
	var git *sources.Git
	if len(ws.Config.Sources) > 0 {
		var err error
		if git, err = sources.NewGit(); err != nil {
			return fail("%v. Install git: hybrid uses it to check out sources", err)
		}
		root := filepath.Join(ws.Config.Dir, filepath.FromSlash(ws.Config.Settings.Dirs.Sources))
		if err := os.MkdirAll(root, 0o755); err != nil {
			return fail("%v", err)
		}
		for _, name := range b.Sources {
			src, pin := ws.Config.Sources[name], lf.Sources[name]
			if src == nil || pin == nil {
				continue
			}
			if _, err := git.Sync(ctx, root, sources.Source{Name: src.Name, URL: src.URL, Ref: src.Ref, Commit: pin.Commit}); err != nil {
				return fail("sync source %s to %s: %v", name, short(pin.Commit), err)
			}
		}
	}
	st, err := job.State.Read(ctx)
	if err != nil {
		return fail("read the state: %v", err)
	}
	if st.Lineage != job.Args.Lineage {
		return fail("the state has lineage %s, not %s as the coordinator's", st.Lineage, job.Args.Lineage)
	}
	p, d := planWorkspace(ctx, ws, st, planRequest{Targets: []string{job.Args.Address}, KeepCaches: !first, Keys: w.keys})
	if d.HasErrors() {
		return fail("plan %s on this worker: %s", job.Args.Address, diagText(d))
	}
	c := p.Change(job.Args.Address)
	switch {
	case c == nil:
		return fail("the plan of this worker has no %s", job.Args.Address)
	case c.After != job.Args.Fingerprint:
		return fail("this worker plans %s with fingerprint %s, the coordinator with %s: this checkout (commit, lockfile, files, HYBRID_VAR_ values or HYBRID_DIGEST_KEY) is not the coordinator's", job.Args.Address, shortFP(c.After), shortFP(job.Args.Fingerprint))
	case c.Action == plan.NoOp:
		// Recorded already with this fingerprint: an earlier attempt
		// built it and recorded it just before its worker died.
		return nil, queue.Output{Outcome: string(apply.Unchanged)}
	}
	digest := lockDigestOf(ws)
	if w.packerFor != digest {
		bin, version, d := checkPacker(ctx, ws, lf, p)
		if d.HasErrors() {
			return fail("%s", diagText(d))
		}
		if d := checkPluginBinaries(lf, planPluginNeeds(ws, p, true)); d.HasErrors() {
			return fail("%s", diagText(d))
		}
		w.packerFor, w.packerBin, w.packerVersion = digest, bin, version
	}
	ok = true
	return &prepared{loaded: loaded, ws: ws, plan: p, st: st, lf: lf, bin: w.packerBin, version: w.packerVersion, git: git}, queue.Output{}
}

func lockDigestOf(ws *plan.Workspace) string {
	_, d, _ := readLockfile(ws)
	return d
}

func shortFP(fp string) string {
	_, hex, ok := strings.Cut(fp, ":")
	if !ok {
		hex = fp
	}
	return short(hex)
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// diagText is diagnostics as one line, for a job's error.
func diagText(diags hcl.Diagnostics) string {
	var parts []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		s := d.Summary
		if d.Detail != "" {
			s += ": " + d.Detail
		}
		if d.Subject != nil {
			s = fmt.Sprintf("%s:%d: %s", d.Subject.Filename, d.Subject.Start.Line, s)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// workerSink logs a build's progress on the worker.
type workerSink struct{ log *slog.Logger }

func (s *workerSink) NodeStarted(addr string, action plan.Action) {
	s.log.Info("build started", "action", action.String())
}

func (s *workerSink) Output(addr, line string) { s.log.Debug(line) }

func (s *workerSink) StillRunning(addr string, elapsed time.Duration) {
	s.log.Info("still building", "elapsed", elapsed.String())
}

func (s *workerSink) NodeFinished(r apply.NodeResult) {
	attrs := []any{"outcome", string(r.Outcome), "duration", r.Duration.Round(time.Millisecond).String()}
	if r.LogPath != "" {
		attrs = append(attrs, "log", r.LogPath)
	}
	if r.Err != nil {
		attrs = append(attrs, "error", r.Err.Error())
	}
	s.log.Info("build finished", attrs...)
}
