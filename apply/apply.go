package apply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/graph"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/sources"
	"github.com/hybridcore/hybrid/state"
)

// Outcome is how a node ended.
type Outcome string

// The outcomes.
const (
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Skipped   Outcome = "skipped"   // a dependency failed
	Cancelled Outcome = "cancelled" // interrupted, or never started after an interrupt
	Unchanged Outcome = "unchanged" // a no-op node
	TimedOut  Outcome = "timed out" // a build that ran past its build timeout
)

// DefaultStopGrace is how long a build stopped without a person asking (it
// ran past its build timeout, or the state could not be written) gets to
// clean up after its interrupt before it is killed: long enough for packer
// to delete a half-built VM or cloud instance.
const DefaultStopGrace = 5 * time.Minute

// NodeResult is the result of one node.
type NodeResult struct {
	Address string
	Type    string
	Action  plan.Action
	Outcome Outcome
	Err     error
	// RootCauses names the failed nodes that made a skipped node skip.
	RootCauses []string
	Started    time.Time
	Duration   time.Duration
	// Build nodes only.
	Artifacts []state.Artifact
	LogPath   string
	ExitCode  int
}

// Result is the outcome of an apply.
type Result struct {
	Nodes []NodeResult // sorted by address
}

// Count returns how many nodes of a type (or every type, for "") ended with
// an outcome, excluding no-ops.
func (r *Result) Count(typ string, o Outcome) int {
	n := 0
	for _, nr := range r.Nodes {
		if (typ == "" || nr.Type == typ) && nr.Outcome == o && nr.Action != plan.NoOp {
			n++
		}
	}
	return n
}

// Forgotten counts the deleted state entries.
func (r *Result) Forgotten() int {
	n := 0
	for _, nr := range r.Nodes {
		if nr.Action == plan.Delete && nr.Outcome == Succeeded {
			n++
		}
	}
	return n
}

// OK reports whether every node succeeded.
func (r *Result) OK() bool {
	for _, nr := range r.Nodes {
		if nr.Outcome != Succeeded && nr.Outcome != Unchanged {
			return false
		}
	}
	return true
}

// Sink receives apply's progress as it happens. Calls may come from many
// goroutines; implementations serialise their output.
type Sink interface {
	NodeStarted(addr string, action plan.Action)
	// Output is one line of a running build's output.
	Output(addr, line string)
	// StillRunning is called every Options.Heartbeat while a build runs,
	// whatever it prints, with the time since it started.
	StillRunning(addr string, elapsed time.Duration)
	// NodeFinished is called once for every node that is not a no-op:
	// when it ends, or, for one skipped because a dependency failed,
	// the moment that failure is known.
	NodeFinished(r NodeResult)
}

// Options configure an apply.
type Options struct {
	Workspace *plan.Workspace
	Plan      *plan.Plan
	State     *state.Manager
	Lock      *lock.File
	// Parallelism bounds how many nodes do work at once.
	Parallelism int
	// PackerBin is the packer binary, already checked against the lock.
	PackerBin string
	// PackerVersion is PackerBin's version, recorded in state.
	PackerVersion string
	Git           *sources.Git
	Sink          Sink
	// Hard, when done, kills running packer builds at once (a second
	// interrupt); cancelling Run's context interrupts them gracefully.
	Hard context.Context
	// Heartbeat is how often Sink hears that a build is still running;
	// zero means 30 seconds.
	Heartbeat time.Duration
	// Children records each packer process apply starts while it runs (in
	// the state lock info), so that a hybrid taking the lock over after
	// this one was killed ends what it left running first. Nil records
	// nothing.
	Children Children
	// StopGrace is how long a build stopped without a person asking gets
	// to clean up before it is killed; zero means DefaultStopGrace.
	StopGrace time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Remote, when set, runs the builds elsewhere (hybrid workers of a
	// distributed apply): each build node the walk reaches is handed to
	// it, outside the Parallelism bound (the workers' concurrency bounds
	// builds), while source syncs, renders and forgets run here.
	Remote Remote
}

// Children records the processes apply starts, while they run. The state's
// local backend is one: it keeps them in its lock info.
type Children interface {
	// AddChild records a started process; an error means it is not
	// recorded, and the process is stopped at once.
	AddChild(state.Child) error
	// RemoveChild forgets a process that has ended.
	RemoveChild(pid int) error
	// ChildEnv is the KEY=VALUE environment entry that marks every
	// process started under the lock ("" for none).
	ChildEnv() string
}

var _ Children = (*state.Local)(nil)

// RecordError is an apply stopped because a node's result could not be
// written to the state. Apply stops at the first such failure: it starts
// nothing more and interrupts the running builds, whose results it then
// tries to record too.
type RecordError struct {
	// Err is the first failed write.
	Err error
	// NotRecorded says, for each node whose result is not in the state,
	// what it did: "build.prod.linux: built (artifact ...)".
	NotRecorded []string
}

// Error names the first failure and every result that is not recorded.
func (e *RecordError) Error() string {
	return fmt.Sprintf("cannot write the state: %v. Apply stopped at the first result it could not record: it started nothing more and interrupted the builds that were running. Not recorded: %s. The next plan shows these again; make the state writable, then plan and apply again",
		trimDot(e.Err.Error()), strings.Join(e.NotRecorded, "; "))
}

func (e *RecordError) Unwrap() error { return e.Err }

func trimDot(s string) string { return strings.TrimRight(s, ".\n") }

// errStateUnwritable is the cause of the apply's cancellation when a
// result could not be recorded.
var errStateUnwritable = errors.New("the state cannot be written")

// notRecordedError is a node that did its work, or part of it, but whose
// result could not be written to the state.
type notRecordedError struct {
	// did says what the node did: "built (artifact x)", "interrupted".
	did string
	err error
}

func (e *notRecordedError) Error() string {
	return e.did + ", but this is not recorded in the state: " + e.err.Error()
}

func (e *notRecordedError) Unwrap() error { return e.err }

// timeoutError is a build stopped by its build timeout.
type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string { return "timed out after " + e.after.String() }

// vertex is a plan change in the apply graph.
type vertex struct{ c *plan.Change }

func (v vertex) Name() string { return v.c.Address }

// Run applies the plan. It returns a Result for every node in the plan; the
// error is for problems that stop the apply as a whole.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Parallelism < 1 {
		opts.Parallelism = 1
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hard == nil {
		opts.Hard = context.Background()
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	// The first result that cannot be recorded stops the apply: nothing
	// new starts, running builds are interrupted, and killed if they have
	// not stopped StopGrace later.
	parent := ctx
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	hard, kill := context.WithCancel(opts.Hard)
	defer kill()
	a := &applier{opts: opts, builds: map[string]*plan.Build{}, sem: make(chan struct{}, opts.Parallelism), stop: stop, hard: hard, kill: kill}
	for _, b := range opts.Workspace.Builds {
		a.builds[b.Address()] = b
		a.builds[b.RenderAddress()] = b
	}
	if err := a.preflight(ctx); err != nil {
		return nil, err
	}
	g := graph.New()
	byAddr := map[string]vertex{}
	for _, c := range opts.Plan.Changes {
		v := vertex{c}
		byAddr[c.Address] = v
		g.Add(v)
	}
	for _, c := range opts.Plan.Changes {
		for _, dep := range c.DependsOn {
			if d, ok := byAddr[dep]; ok {
				g.Connect(byAddr[c.Address], d)
			}
		}
	}
	results := map[string]*NodeResult{}
	var mu sync.Mutex
	// A node the walk does not run (a dependency failed, or the apply
	// was stopped first) is reported the moment the walk decides it, so
	// a pipeline log shows what a failure skipped while the other builds
	// go on.
	notRun := func(vr graph.VertexResult) {
		c := vr.Vertex.(vertex).c
		mu.Lock()
		_, ran := results[c.Address]
		mu.Unlock()
		if ran {
			return
		}
		nr := &NodeResult{Address: c.Address, Type: c.Type, Action: c.Action, Outcome: Cancelled}
		switch vr.Outcome {
		case graph.Skipped:
			nr.Outcome = Skipped
			nr.RootCauses = vr.RootCauses
		case graph.Failed: // the node panicked
			nr.Outcome = Failed
			nr.Err = vr.Err
		}
		if c.Action == plan.NoOp && nr.Outcome == Skipped {
			nr.Outcome = Unchanged
		}
		mu.Lock()
		results[c.Address] = nr
		mu.Unlock()
		if opts.Sink != nil && c.Action != plan.NoOp {
			opts.Sink.NodeFinished(*nr)
		}
	}
	wr := g.WalkObserved(ctx, func(ctx context.Context, gv graph.Vertex) error {
		c := gv.(vertex).c
		nr := a.node(ctx, c)
		mu.Lock()
		results[c.Address] = &nr
		mu.Unlock()
		if nr.Outcome == Cancelled {
			return ctx.Err()
		}
		return nr.Err
	}, notRun)
	if wr.Invalid != nil {
		return nil, wr.Invalid
	}
	res := &Result{}
	for _, c := range opts.Plan.Changes {
		res.Nodes = append(res.Nodes, *results[c.Address])
	}
	sort.Slice(res.Nodes, func(i, j int) bool { return res.Nodes[i].Address < res.Nodes[j].Address })
	serr := a.recordSkipped(res)
	outcome := "succeeded"
	if !res.OK() {
		outcome = "failed"
		if parent.Err() != nil {
			outcome = "cancelled"
		}
	}
	err := opts.State.SetLastRun(&state.Run{Command: "apply", Who: state.Who(), When: opts.Now().UTC(), Outcome: outcome})
	if rerr := a.recordError(); rerr != nil {
		return res, rerr
	}
	return res, errors.Join(serr, err)
}

// recordSkipped records in the state every build this apply skipped, as
// StatusSkipped with the failed builds at its root, so the state says why
// it was not built. A build recorded before keeps what it recorded then,
// artifacts and fingerprint included; one never built gets a record of its
// own, with exit code -1 (packer never ran).
func (a *applier) recordSkipped(res *Result) error {
	var skipped []NodeResult
	for _, nr := range res.Nodes {
		if nr.Type == plan.TypeBuild && nr.Outcome == Skipped {
			skipped = append(skipped, nr)
		}
	}
	if len(skipped) == 0 {
		return nil
	}
	change := &state.Change{Builds: map[string]*state.Build{}}
	a.opts.State.View(func(s *state.State) {
		for _, nr := range skipped {
			rec := &state.Build{ExitCode: -1}
			if b := a.builds[nr.Address]; b != nil {
				rec.Env, rec.Image = b.Env, b.Image.Name
			}
			if old := s.Builds[nr.Address]; old != nil {
				keep := *old
				rec = &keep
			}
			rec.Status, rec.RootCauses = state.StatusSkipped, nr.RootCauses
			change.Builds[nr.Address] = rec
		}
	})
	return a.opts.State.Commit(change)
}

type applier struct {
	opts   Options
	builds map[string]*plan.Build
	sem    chan struct{}

	// stop cancels the apply; hard is cancelled when running builds must
	// be killed (Options.Hard, or kill StopGrace after a stop).
	stop context.CancelCauseFunc
	hard context.Context
	kill context.CancelFunc

	// recordMu guards the results that could not be recorded.
	recordMu    sync.Mutex
	recordErr   error
	notRecorded []string

	// configsMu orders the writes of renders and the removals of
	// forgotten ones in the configs directory.
	configsMu sync.Mutex

	// checked holds, per source, the result of checking its checkout
	// before the first build that reads it.
	checkMu sync.Mutex
	checked map[string]*checkoutCheck
}

// checkoutCheck is the check of one source's checkout, done once.
type checkoutCheck struct {
	once sync.Once
	err  error
}

// preflight checks, before anything runs, the checkouts that builds of
// this plan read and that no sync of this plan moves: each must hold
// exactly the locked commit the plan read from git objects. A checkout
// this plan syncs is checked by the sync itself.
func (a *applier) preflight(ctx context.Context) error {
	synced := map[string]bool{}
	for _, c := range a.opts.Plan.Changes {
		if c.Type == plan.TypeSource && (c.Action == plan.Create || c.Action == plan.Update) {
			synced[c.Source] = true
		}
	}
	for _, c := range a.opts.Plan.Changes {
		if c.Type != plan.TypeBuild || (c.Action != plan.Create && c.Action != plan.Update) {
			continue
		}
		b := a.builds[c.Address]
		if b == nil || a.opts.Remote != nil {
			// A remote build's checkouts are the worker's: it syncs
			// them to the locked commits itself.
			continue
		}
		var unsynced []string
		for _, s := range b.Sources {
			if !synced[s] {
				unsynced = append(unsynced, s)
			}
		}
		if err := a.checkCheckouts(ctx, &plan.Build{Sources: unsynced}); err != nil {
			return fmt.Errorf("%s reads a checkout that is not what the plan read: %w", c.Address, err)
		}
	}
	return nil
}

// checkCheckouts makes sure every source checkout a build reads holds
// exactly the locked commit, as the plan read it from git objects: at that
// commit, with no local changes. Each checkout is checked once per apply,
// after the source's own sync (the build runs after it).
func (a *applier) checkCheckouts(ctx context.Context, b *plan.Build) error {
	if a.opts.Git == nil {
		return nil
	}
	cfg := a.opts.Workspace.Config
	for _, name := range b.Sources {
		src, pin := cfg.Sources[name], a.opts.Lock.Sources[name]
		if src == nil || pin == nil {
			continue
		}
		a.checkMu.Lock()
		if a.checked == nil {
			a.checked = map[string]*checkoutCheck{}
		}
		cc := a.checked[name]
		if cc == nil {
			cc = &checkoutCheck{}
			a.checked[name] = cc
		}
		a.checkMu.Unlock()
		cc.once.Do(func() {
			dir := filepath.Join(cfg.Dir, filepath.FromSlash(src.Path))
			head, err := a.opts.Git.Head(ctx, dir)
			if err != nil {
				cc.err = fmt.Errorf("source %s: %w", name, err)
				return
			}
			if head != pin.Commit {
				cc.err = fmt.Errorf("checkout %s is at %s, not at the locked commit %s the plan read; run hybrid sources sync %s, then plan again", src.Path, short(head), short(pin.Commit), name)
				return
			}
			dirty, err := a.opts.Git.Dirty(ctx, dir)
			if err != nil {
				cc.err = fmt.Errorf("source %s: %w", name, err)
				return
			}
			if len(dirty) > 0 {
				cc.err = fmt.Errorf("checkout %s has local changes the plan did not read (%s); commit, stash or remove them", src.Path, strings.Join(dirty[:min(len(dirty), 5)], ", "))
			}
		})
		if cc.err != nil {
			return cc.err
		}
	}
	return nil
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// node runs one change, holding a parallelism slot while it works.
func (a *applier) node(ctx context.Context, c *plan.Change) NodeResult {
	nr := NodeResult{Address: c.Address, Type: c.Type, Action: c.Action}
	if c.Action == plan.NoOp {
		nr.Outcome = Unchanged
		return nr
	}
	if a.opts.Remote != nil && c.Type == plan.TypeBuild && c.Action != plan.Delete {
		return a.remote(ctx, c)
	}
	select {
	case a.sem <- struct{}{}:
	case <-ctx.Done():
		nr.Outcome = Cancelled
		return nr
	}
	defer func() { <-a.sem }()
	if ctx.Err() != nil {
		nr.Outcome = Cancelled
		return nr
	}
	nr.Started = a.opts.Now()
	if a.opts.Sink != nil {
		a.opts.Sink.NodeStarted(c.Address, c.Action)
	}
	var err error
	switch {
	case c.Action == plan.Delete:
		err = a.forget(c)
	case c.Type == plan.TypeSource:
		err = a.sync(ctx, c)
	case c.Type == plan.TypeRender:
		err = a.render(c)
	case c.Type == plan.TypeBuild:
		err = a.build(ctx, c, &nr)
	default:
		err = fmt.Errorf("unknown node type %q", c.Type)
	}
	nr.Duration = a.opts.Now().Sub(nr.Started)
	if werr := (*state.WriteError)(nil); errors.As(err, &werr) {
		var nre *notRecordedError
		if !errors.As(err, &nre) {
			err = &notRecordedError{did: doneText(c), err: err}
		}
		a.notRecordable(c.Address, err)
	}
	var te *timeoutError
	switch {
	case err == nil:
		nr.Outcome = Succeeded
	case errors.As(err, &te):
		nr.Outcome = TimedOut
		nr.Err = err
	case errors.Is(err, context.Canceled) || (ctx.Err() != nil && nr.Outcome == Cancelled):
		nr.Outcome = Cancelled
		nr.Err = err
	default:
		nr.Outcome = Failed
		nr.Err = err
	}
	if a.opts.Sink != nil {
		a.opts.Sink.NodeFinished(nr)
	}
	return nr
}

// doneText says what a node other than a build did before its result could
// not be recorded.
func doneText(c *plan.Change) string {
	switch {
	case c.Action == plan.Delete:
		return "forgotten"
	case c.Type == plan.TypeSource:
		return "synced"
	case c.Type == plan.TypeRender:
		return "rendered"
	}
	return "done"
}

// notRecordable notes that the result of node addr could not be written to
// the state (err says what it did) and, the first time, stops the apply:
// nothing new starts, running builds get an interrupt, and StopGrace later
// whatever still runs is killed.
func (a *applier) notRecordable(addr string, err error) {
	a.recordMu.Lock()
	defer a.recordMu.Unlock()
	a.notRecorded = append(a.notRecorded, addr+": "+notRecordedText(err))
	if a.recordErr != nil {
		return
	}
	var werr *state.WriteError
	errors.As(err, &werr)
	a.recordErr = werr.Err
	a.stop(errStateUnwritable)
	time.AfterFunc(a.opts.StopGrace, a.kill)
}

// notRecordedText is what a not-recorded node did, without the write error
// (RecordError gives it once).
func notRecordedText(err error) string {
	var nre *notRecordedError
	if errors.As(err, &nre) {
		return nre.did
	}
	return "not recorded"
}

// recordError is the error that stopped the apply, nil if none did.
func (a *applier) recordError() error {
	a.recordMu.Lock()
	defer a.recordMu.Unlock()
	if a.recordErr == nil {
		return nil
	}
	nr := slices.Clone(a.notRecorded)
	sort.Strings(nr)
	return &RecordError{Err: a.recordErr, NotRecorded: nr}
}

// forget drops a node's record from the state (a build's trees no other
// build reads go with it). A render's var file goes with it too
// (removeRender): hybrid wrote it, and nothing else reads it once the
// render is gone. Nothing else is touched: checkouts, artifacts and
// infrastructure stay.
func (a *applier) forget(c *plan.Change) error {
	if c.Type == plan.TypeRender {
		if err := a.removeRender(c); err != nil {
			return err
		}
	}
	addr := c.Address
	if c.Type == plan.TypeSource {
		addr = state.SourceAddr(c.Source)
	}
	return a.opts.State.Forget(addr)
}

// removeRender removes the var file the state records for a render being
// forgotten, when it is still there and still the bytes hybrid wrote, then
// the env's directory under the configs directory if that left it empty.
// A file edited since hybrid wrote it is left in place, and so is a
// recorded path outside the configs directory (hybrid never writes renders
// elsewhere; it refuses to delete anything else); the node's output says
// so. Files are reached through an os.Root on the configs directory, so
// no link leads a removal out of it. An error (a file that cannot be read
// or removed) fails the node and keeps the state entry, so a later apply
// tries again.
func (a *applier) removeRender(c *plan.Change) error {
	var rec state.Render
	found := false
	a.opts.State.View(func(s *state.State) {
		if r := s.Renders[c.Address]; r != nil {
			rec, found = *r, true
		}
	})
	if !found || rec.Path == "" {
		return nil
	}
	say := func(format string, args ...any) {
		if a.opts.Sink != nil {
			a.opts.Sink.Output(c.Address, fmt.Sprintf(format, args...))
		}
	}
	cfg := a.opts.Workspace.Config
	configs := path.Clean(cfg.Settings.Dirs.Configs)
	rel, ok := withinDir(configs, rec.Path)
	if !ok {
		say("left %s in place: it is not inside the configs directory %s/, the only place hybrid removes renders from", rec.Path, configs)
		return nil
	}
	a.configsMu.Lock()
	defer a.configsMu.Unlock()
	root, err := os.OpenRoot(filepath.Join(cfg.Dir, filepath.FromSlash(configs)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing left to remove
	}
	if err != nil {
		return fmt.Errorf("cannot open the configs directory to remove %s: %w", rec.Path, err)
	}
	defer root.Close()
	name := filepath.FromSlash(rel)
	fi, err := root.Lstat(name)
	if err == nil && !fi.Mode().IsRegular() {
		say("left %s in place: it is not a file hybrid wrote (%s)", rec.Path, fileKind(fi.Mode()))
		return nil
	}
	var b []byte
	if err == nil {
		b, err = root.ReadFile(name)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Already gone; its directory may still be empty.
	case err != nil:
		return fmt.Errorf("cannot read %s to remove it: %w", rec.Path, err)
	case plan.Digest(b) != rec.Digest:
		say("left %s in place: it was edited since hybrid wrote it (%s, recorded %s); delete it by hand if nothing needs it", rec.Path, shortDigest(plan.Digest(b)), shortDigest(rec.Digest))
		return nil
	default:
		if err := root.Remove(name); err != nil {
			return fmt.Errorf("cannot remove %s: %w", rec.Path, err)
		}
		say("removed %s", rec.Path)
	}
	if dir := path.Dir(rel); dir != "." {
		// Remove refuses a directory that is not empty: other renders
		// of the environment, or files someone put there, keep it.
		if err := root.Remove(filepath.FromSlash(dir)); err == nil {
			say("removed the empty directory %s/", path.Join(configs, dir))
		}
	}
	return nil
}

// fileKind names a file mode that is not a regular file's.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a directory"
	}
	return "not a regular file"
}

// shortDigest abbreviates "sha256:<hex>" as plan's reasons do.
func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		hex = d
	}
	return short(hex)
}

// withinDir returns p relative to dir when p (a slash-separated,
// workspace-relative path) names something inside dir.
func withinDir(dir, p string) (string, bool) {
	if p == "" || path.IsAbs(p) || strings.Contains(p, "\\") {
		return "", false
	}
	clean := path.Clean(p)
	rel := clean
	if dir != "." {
		var ok bool
		if rel, ok = strings.CutPrefix(clean, dir+"/"); !ok {
			return "", false
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", false
	}
	return rel, true
}

func (a *applier) sync(ctx context.Context, c *plan.Change) error {
	cfg := a.opts.Workspace.Config
	src := cfg.Sources[c.Source]
	pin := a.opts.Lock.Sources[c.Source]
	if src == nil || pin == nil {
		return fmt.Errorf("source %s has no lock pin; run hybrid lock", c.Source)
	}
	if a.opts.Git == nil {
		return errors.New("git is not available")
	}
	root := filepath.Join(cfg.Dir, filepath.FromSlash(cfg.Settings.Dirs.Sources))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	res, err := a.opts.Git.Sync(ctx, root, sources.Source{Name: src.Name, URL: src.URL, Ref: src.Ref, Commit: pin.Commit})
	if err != nil {
		return err
	}
	if a.opts.Sink != nil {
		a.opts.Sink.Output(c.Address, res.String())
	}
	return a.opts.State.PutSource(src.Name, &state.Source{URL: src.URL, Ref: src.Ref, Commit: res.Commit, SyncedAt: a.opts.Now().UTC()})
}

func (a *applier) render(c *plan.Change) error {
	b := a.builds[c.Address]
	if b == nil {
		return fmt.Errorf("%s is not in the workspace", c.Address)
	}
	r := b.Render
	root := a.opts.Workspace.Files.Workspace()
	if root == nil {
		return fmt.Errorf("cannot open the workspace to write %s", r.Path)
	}
	// Through os.Root: the directories on the way must be real
	// directories inside the workspace, so a link planted at configs/<env>
	// cannot send the file elsewhere. Held while writing, so a forgotten
	// render of the same environment does not remove the directory
	// between its creation and the write.
	a.configsMu.Lock()
	err := root.MkdirAll(path.Dir(r.Path), 0o755)
	if err == nil {
		_, err = root.WriteFile(r.Path, r.Bytes, 0o644)
	}
	a.configsMu.Unlock()
	if err != nil {
		return err
	}
	return a.opts.State.PutRender(c.Address, &state.Render{
		Env: b.Env, Image: b.Image.Name, Path: r.Path,
		Digest: c.After, Fingerprint: c.After, Inputs: c.Inputs,
		Values: plan.RenderValues(r), RenderedAt: a.opts.Now().UTC(),
	})
}

// ensureRender writes a build's var file when it is not on disk as
// rendered (the file of a recorded render is missing on a fresh checkout),
// without recording anything: the state already records this render.
func (a *applier) ensureRender(b *plan.Build) error {
	root := a.opts.Workspace.Files.Workspace()
	if root == nil {
		return fmt.Errorf("cannot open the workspace to write %s", b.Render.Path)
	}
	a.configsMu.Lock()
	defer a.configsMu.Unlock()
	if err := root.MkdirAll(path.Dir(b.Render.Path), 0o755); err != nil {
		return err
	}
	_, err := root.WriteFile(b.Render.Path, b.Render.Bytes, 0o644)
	return err
}

// upstreamValue is the HCL text of the hybrid_upstream variable for a
// derived image: each base image's last artifact ID and files.
func upstreamValue(s *state.State, env string, deps []config.Ref) string {
	var b strings.Builder
	b.WriteString("{")
	for i, d := range deps {
		rec := s.Builds[state.BuildAddr(env, d.Name)]
		id, files := "", []string{}
		if rec != nil && len(rec.Artifacts) > 0 {
			id = rec.Artifacts[0].ID
			files = rec.Artifacts[0].Files
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q = { id = %q, files = [", d.Name, id)
		for j, f := range files {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", f)
		}
		b.WriteString("] }")
	}
	b.WriteString("}")
	return b.String()
}
