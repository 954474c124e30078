package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/sources"
	"github.com/hybridcore/hybrid/state"
)

// planCommand shows what is out of date, and why.
type planCommand struct{ s streams }

type planArgs struct {
	Out  string
	JSON bool
	// Markdown prints the plan as a pull-request comment.
	Markdown         bool
	DetailedExitCode bool
	Targets          []string
	Envs             []string
	Inputs           config.Inputs
	LockTimeout      time.Duration
	NoColor          bool
	// NoLock plans without the state lock (-lock=false), so a read-only
	// plan can run while an apply holds it.
	NoLock bool
	// NoRefresh leaves out what recorded builds left on disk
	// (-refresh=false).
	NoRefresh bool
}

func (c *planCommand) Synopsis() string {
	return "Show which renders and builds are out of date, and why"
}

func (c *planCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid plan [options]

  Compares the workspace (hybrid.hcl, templates, var files, provisioner
  assets, source checkouts) with the state and the lockfile, and shows every
  source sync, var-file render and packer build that is out of date, with
  the inputs that make it so. Plan changes nothing (it may refresh the
  stat cache that makes the next plan faster).

Options:
  -out=FILE            Save the plan, for "hybrid apply FILE".
  -json                Print the plan as a JSON document (format_version 1.0),
                       or errors as JSON events; see docs/json.md.
  -markdown            Print the plan as a Markdown comment for a pull or
                       merge request: a table per image, the reasons and
                       variable diffs, the changed graph in Mermaid, the
                       estimate; at most 65,000 characters, saying what it
                       leaves out. Warnings go to stderr.
  -detailed-exitcode   Exit 0 with no changes, 2 with changes, 1 on error.
  -target=ADDR         Plan only ADDR and what it needs. Globs allowed
                       (build.prod.*); may be repeated.
  -env=NAME            Plan only renders and builds of this environment;
                       may be repeated.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
  -lock-timeout=DUR    Wait up to DUR for the state lock (default: fail at once).
  -lock=false          Read the state without its lock, so the plan runs
                       while an apply holds it; the plan file says so.
  -refresh=false       Do not look at what recorded builds left on disk
                       (their artifact files).
  -no-color            Do not colour the output.
`)
}

// stringsFlag collects a repeatable option.
type stringsFlag []string

func (f *stringsFlag) String() string { return strings.Join(*f, ",") }
func (f *stringsFlag) Set(s string) error {
	*f = append(*f, s)
	return nil
}

func parsePlanArgs(args []string) (*planArgs, hcl.Diagnostics) {
	a := &planArgs{}
	fs := newFlagSet("plan")
	fs.StringVar(&a.Out, "out", "", "")
	fs.BoolVar(&a.JSON, "json", false, "")
	fs.BoolVar(&a.Markdown, "markdown", false, "")
	fs.BoolVar(&a.DetailedExitCode, "detailed-exitcode", false, "")
	fs.Var((*stringsFlag)(&a.Targets), "target", "")
	fs.Var((*stringsFlag)(&a.Envs), "env", "")
	lockTimeoutFlag(fs, &a.LockTimeout)
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	lockFlag := fs.Bool("lock", true, "")
	refreshFlag := fs.Bool("refresh", true, "")
	varFlags(fs, &a.Inputs)
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("plan", err)
	}
	a.NoLock, a.NoRefresh = !*lockFlag, !*refreshFlag
	if fs.NArg() > 0 {
		return nil, flagError("plan", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if a.JSON && a.Markdown {
		return nil, flagError("plan", fmt.Errorf("-json and -markdown cannot be combined: choose one output"))
	}
	return a, nil
}

func (c *planCommand) Run(args []string) int {
	a, diags := parsePlanArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if wantsJSON(args) {
		v.useJSON()
	}
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ctx, _, stop := signalContext(context.Background(), nil)
	defer stop()
	return runInterruptible(ctx, c.s, func() int { return c.run(ctx, a, v) })
}

// interruptGrace is how long a read-only command that was interrupted
// waits for its work to wind down (releasing the state lock, ending git)
// before it exits anyway.
const interruptGrace = 600 * time.Millisecond

// runInterruptible runs a read-only command's work so that an interrupt
// (Ctrl-C, SIGTERM) ends the command promptly: the work is told through
// ctx, gets interruptGrace to finish, and the command exits with 1 either
// way. A plan writes nothing that an interrupt could leave half-done; its
// git children die with it.
func runInterruptible(ctx context.Context, s streams, work func() int) int {
	done := make(chan int, 1)
	go func() { done <- work() }()
	select {
	case code := <-done:
		if ctx.Err() != nil {
			return 1
		}
		return code
	case <-ctx.Done():
	}
	select {
	case <-done:
	case <-time.After(interruptGrace):
	}
	fmt.Fprintln(s.Err, "Interrupted: hybrid stopped before finishing; nothing was changed.")
	return 1
}

func (c *planCommand) run(ctx context.Context, a *planArgs, v *view) int {
	o := planOrReuse(ctx, planRequest{
		Inputs: a.Inputs, Targets: a.Targets, Envs: a.Envs, LockTimeout: a.LockTimeout,
		NoLock: a.NoLock, NoRefresh: a.NoRefresh,
	})
	defer o.ws.Close()
	p, diags, files := o.plan, o.diags, o.files
	if !diags.HasErrors() {
		// Plugins are what the lock says, or the plan is not what apply
		// would do.
		diags = append(diags, checkPluginBinaries(o.lock, o.needs)...)
	}
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return 1
	}
	if a.Out != "" {
		if err := plan.WriteFile(a.Out, p); err != nil {
			v.errorf("cannot save the plan: %v", err)
			return 1
		}
	}
	if a.Markdown {
		// The comment is all that goes to stdout.
		ev := *v
		ev.s.Out = v.s.Err
		ev.diagnostics(files, diags)
		if err := writePlanMarkdown(c.s.Out, p, a.Out); err != nil {
			v.errorf("%v", err)
			return 1
		}
		return planExitCode(a, p)
	}
	var err error
	if a.JSON {
		// The warnings travel in the document, which stays one JSON value.
		err = writePlanJSON(c.s.Out, p, files, warningsOf(diags))
	} else {
		v.diagnostics(files, diags)
		err = v.writePlan(c.s.Out, p, false)
	}
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	if !a.JSON && a.Out != "" {
		fmt.Fprintf(c.s.Out, "\nSaved the plan to %s. Apply exactly this plan with:\n    hybrid apply %s\n", a.Out, a.Out)
	}
	return planExitCode(a, p)
}

// planOutcome is a plan as the plan command prints it, made or reused.
type planOutcome struct {
	plan  *plan.Plan
	diags hcl.Diagnostics
	// files are the files read, for diagnostics with snippets.
	files map[string]*hcl.File
	// lock is the lockfile, and needs the plugins the builds need, for
	// the check of the plugin binaries every plan makes.
	lock  *lock.File
	needs []pluginNeed
	// ws is the workspace loaded, nil when the plan was reused.
	ws *plan.Workspace
}

// planOrReuse makes the plan req asks for, or reuses the last one when
// nothing it was made from moved (planMemo), and keeps a plan made
// without diagnostics for the next time.
func planOrReuse(ctx context.Context, req planRequest) planOutcome {
	memo := openPlanMemo(req)
	if hit := memo.lookup(ctx, req); hit != nil {
		// The lockfile is as the reused plan read it: the memo's stamp
		// vouches for it.
		parser := hclparse.NewParser()
		if lf, d := lock.ReadWith(parser, lock.DefaultFilename); lf != nil && !d.HasErrors() {
			return planOutcome{plan: hit.plan, diags: hit.diags, files: parser.Files(), lock: lf, needs: hit.needs}
		}
	}
	pd, p, diags := makePlan(ctx, "plan", req)
	o := planOutcome{plan: p, diags: append(memo.pendingDiags(), diags...), ws: pd.ws}
	if pd.ws != nil {
		o.files = pd.ws.Parser.Files()
	}
	if !o.diags.HasErrors() {
		o.lock, _, _ = readLockfile(pd.ws)
		o.needs = planPluginNeeds(pd.ws, p, false)
		if len(o.diags) == 0 {
			memo.keep(pd, p, o.needs)
		}
	}
	return o
}

// planExitCode is 2 for a plan with changes under -detailed-exitcode, else 0.
func planExitCode(a *planArgs, p *plan.Plan) int {
	if a.DetailedExitCode && p.HasChanges() {
		return 2
	}
	return 0
}

// planRequest is what makePlan needs from plan's and apply's options.
type planRequest struct {
	// KeepCaches leaves the plan caches on disk as they are (a worker
	// plans many times from one loaded workspace).
	KeepCaches  bool
	Inputs      config.Inputs
	Targets     []string
	Envs        []string
	LockTimeout time.Duration
	// KeepLock leaves the state locked for the caller (apply), which then
	// releases it with the returned workspace's unlock function.
	KeepLock bool
	// Lineage, from a saved plan, is adopted by a state that was never
	// written, so the plan made before the first apply stays valid.
	Lineage string
	// NoLock reads the state without taking its lock (plan -lock=false);
	// the plan records that it was made so.
	NoLock bool
	// NoRefresh leaves out artifact files on disk (plan -refresh=false).
	NoRefresh bool
	// Keys keeps the digest key with a shared state (pg); nil for the
	// local backend, whose key is a file beside the state.
	Keys state.KeyKeeper
}

// planned is a plan with what apply needs to carry it out.
type planned struct {
	ws      *plan.Workspace
	backend state.Backend
	state   *state.State
	// stateKey identifies the local state's bytes the plan read
	// (state.Local.ReadKey); "" for other backends.
	stateKey string
	unlock   func() error
}

// makePlan loads the workspace, the lockfile and the state (under the state
// lock), and plans. Plan is read-only: the lock is released before it
// returns unless req.KeepLock.
func makePlan(ctx context.Context, operation string, req planRequest) (*planned, *plan.Plan, hcl.Diagnostics) {
	pd, p, diags := makePlanned(ctx, operation, req)
	if pd.unlock != nil && !req.KeepLock {
		pd.unlock()
		pd.unlock = nil
	}
	return pd, p, diags
}

func makePlanned(ctx context.Context, operation string, req planRequest) (*planned, *plan.Plan, hcl.Diagnostics) {
	pd := &planned{}
	// The state is locked and read while the templates load and render:
	// it needs only the configuration's settings.
	var stateDone chan struct{}
	var stateDiags hcl.Diagnostics
	ws, diags := plan.LoadWorkspaceWith(".", req.Inputs, plan.LoadOptions{Caches: true, OnConfig: func(cfg *config.Config) {
		stateDone = make(chan struct{})
		go func() {
			defer close(stateDone)
			start := time.Now()
			stateDiags = pd.openState(ctx, cfg, operation, req)
			slog.Debug("phase", "phase", "lock and read the state", "duration", time.Since(start).Round(time.Microsecond))
		}()
	}})
	pd.ws = ws
	registerSecrets(logRedactor, ws)
	if stateDone != nil {
		<-stateDone
	}
	diags = append(diags, stateDiags...)
	release := func() {
		if pd.unlock != nil && !req.KeepLock {
			pd.unlock()
			pd.unlock = nil
		}
	}
	if diags.HasErrors() {
		release()
		return pd, nil, diags
	}
	req.Keys, _ = pd.backend.(state.KeyKeeper)
	p, d := planWorkspace(ctx, ws, pd.state, req)
	diags = append(diags, d...)
	if diags.HasErrors() {
		release()
	}
	return pd, p, diags
}

// digestKey returns the workspace's digest key: HYBRID_DIGEST_KEY when set,
// else the one kept with a shared state, else the key file beside the
// local state. The first plan makes it.
func digestKey(ctx context.Context, ws *plan.Workspace, keys state.KeyKeeper) ([]byte, error) {
	if keys == nil || os.Getenv(plan.DigestKeyEnv) != "" {
		return plan.LoadDigestKey(filepath.Join(ws.Config.Dir, filepath.FromSlash(ws.Config.Settings.Dirs.State)), true)
	}
	k, err := keys.DigestKey(ctx, plan.NewDigestKey())
	return []byte(k), err
}

// planWorkspace plans a loaded workspace against a state the caller holds
// (read under the state lock).
func planWorkspace(ctx context.Context, ws *plan.Workspace, st *state.State, req planRequest) (*plan.Plan, hcl.Diagnostics) {
	lf, lockDigest, diags := readLockfile(ws)
	if diags.HasErrors() {
		return nil, diags
	}
	opts := plan.Options{
		State: st, Lock: lf, LockDigest: lockDigest,
		Targets: req.Targets, Envs: req.Envs, NoRefresh: req.NoRefresh,
	}
	if lf.Packer != nil {
		opts.PackerVersion = lf.Packer.Version
	}
	opts.Hasher = ws.Hasher
	// Secrets are digested with the workspace's key, which never enters a
	// state or plan file; the first plan of a workspace makes it.
	key, err := digestKey(ctx, ws, req.Keys)
	if err != nil {
		return nil, append(diags, errDiag("No digest key for sensitive values", err, "")...)
	}
	opts.Secrets = ws.Secrets(key)
	if len(ws.Config.Sources) > 0 {
		g, err := sources.NewGit()
		if err != nil {
			return nil, append(diags, errDiag("git not found", err, "Install git: hybrid uses it to check out sources")...)
		}
		opts.Git = g
	}
	p, d := plan.Make(ctx, ws, opts)
	diags = append(diags, d...)
	if p != nil {
		p.WithoutLock = req.NoLock
	}
	if req.KeepCaches {
		return p, diags
	}
	if err := ws.SaveCaches(); err != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Cannot save the plan caches",
			Detail: fmt.Sprintf("%v. The next plan hashes every file and reads every template again.", err)})
	}
	return p, diags
}

// openState locks (when there is a state, or the caller will write one)
// and reads the state of the configuration's workspace.
func (pd *planned) openState(ctx context.Context, cfg *config.Config, operation string, req planRequest) hcl.Diagnostics {
	store, diags := openStateStore(ctx, cfg)
	if diags.HasErrors() {
		return diags
	}
	backend := store.backend
	pd.backend = backend
	if (store.exists() || req.KeepLock) && !req.NoLock {
		if d := store.prepare(); d.HasErrors() {
			return d
		}
		unlock, err := lockState(ctx, backend, operation, req.LockTimeout)
		if err != nil {
			return lockDiags(err)
		}
		pd.unlock = unlock
		diags = append(diags, takeoverDiags(backend, "If that run was interrupted, this plan shows what it did not finish.")...)
	}
	var st *state.State
	var err error
	if l, ok := backend.(*state.Local); ok && !req.KeepLock {
		// A plan alone reads the state's summary: what decides each
		// change, with the details that explain one decoded only when
		// a change needs them. Apply commits, and reads it whole.
		st, err = l.ReadSummary(ctx)
		pd.stateKey = l.ReadKey()
	} else {
		st, err = backend.Read(ctx)
	}
	if err != nil {
		if pd.unlock != nil {
			pd.unlock()
			pd.unlock = nil
		}
		return append(diags, errDiag("Cannot read the state", err, "")...)
	}
	if st.Serial == 0 && req.Lineage != "" {
		st.Lineage = req.Lineage
	}
	pd.state = st
	return diags
}

func dirOf(p string) string {
	i := strings.LastIndex(p, string(os.PathSeparator))
	if i < 0 {
		return "."
	}
	return p[:i]
}
