package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/packer"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/sources"
	"github.com/hybridcore/hybrid/state"
)

// applyCommand carries out a plan.
type applyCommand struct {
	s streams
	// live is the status line while one is drawn, so that a notice
	// printed from the signal handler goes above it.
	live atomic.Pointer[progressLine]
}

type applyArgs struct {
	PlanFile    string
	AutoApprove bool
	Parallelism int
	Targets     []string
	Envs        []string
	JSON        bool
	Inputs      config.Inputs
	LockTimeout time.Duration
	NoColor     bool
}

func (c *applyCommand) Synopsis() string { return "Sync, render and build what is out of date" }

func (c *applyCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid apply [options] [PLANFILE]

  Plans, shows the plan, asks for approval, then runs only the source
  syncs, var-file renders and packer builds that are out of date, in
  dependency order and in parallel. Each node's result is written to the
  state the moment it finishes. A failed build skips the builds that depend
  on it; independent builds go on.

  Given PLANFILE (from "hybrid plan -out=PLANFILE"), applies that plan
  without asking, and refuses it if the state, the lockfile, the source
  commits or the inputs changed since it was made.

  The first interrupt (Ctrl-C, SIGTERM) starts nothing new and lets running
  packer builds clean up; a second one stops them at once. A build that runs
  past its build_timeout is interrupted, killed if it has not stopped 5
  minutes later, and recorded as timed out. When a result cannot be written
  to the state, apply stops the same way: it starts nothing new, interrupts
  running builds and names every result it could not record.

  A killed hybrid leaves no packer building: packer dies with it, and the
  next command that takes the state lock ends whatever packer had started.

  On a terminal, a status line below the output shows the nodes running,
  with how long each has run, and how many are done, failed and queued.
  Without one (a pipeline log), each running build gets a "still building"
  line every 30 seconds (HYBRID_PROGRESS_INTERVAL, such as 10s, changes
  it). A node skipped because a dependency failed is reported when the
  failure is. Apply ends with a table of every node: its outcome, duration,
  log file, and artifact or first line of error.

Options:
  -auto-approve        Do not ask for approval.
  -parallelism=N       Run at most N nodes at once (default: hybrid.hcl's
                       parallelism, else 4).
  -target=ADDR         Apply only ADDR and what it needs; may be repeated.
  -env=NAME            Apply only this environment; may be repeated.
  -json                Stream one JSON event per line (docs/json.md). Needs
                       -auto-approve or PLANFILE.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
  -lock-timeout=DUR    Wait up to DUR for the state lock.
  -no-color            Do not colour the output.
`)
}

func parseApplyArgs(args []string) (*applyArgs, hcl.Diagnostics) {
	a := &applyArgs{}
	fs := newFlagSet("apply")
	fs.BoolVar(&a.AutoApprove, "auto-approve", false, "")
	fs.IntVar(&a.Parallelism, "parallelism", 0, "")
	fs.Var((*stringsFlag)(&a.Targets), "target", "")
	fs.Var((*stringsFlag)(&a.Envs), "env", "")
	fs.BoolVar(&a.JSON, "json", false, "")
	lockTimeoutFlag(fs, &a.LockTimeout)
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	varFlags(fs, &a.Inputs)
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("apply", err)
	}
	switch fs.NArg() {
	case 0:
	case 1:
		a.PlanFile = fs.Arg(0)
	default:
		return nil, flagError("apply", fmt.Errorf("too many arguments: give at most one plan file"))
	}
	if a.Parallelism < 0 || a.Parallelism > 256 {
		return nil, flagError("apply", fmt.Errorf("-parallelism must be between 1 and 256"))
	}
	if a.PlanFile != "" && (len(a.Targets) > 0 || len(a.Envs) > 0) {
		return nil, flagError("apply", fmt.Errorf("-target and -env cannot be used with a plan file: the plan already says what to apply"))
	}
	if a.JSON && !a.AutoApprove && a.PlanFile == "" {
		return nil, flagError("apply", fmt.Errorf("-json needs -auto-approve or a saved plan: apply cannot ask for approval in a JSON stream"))
	}
	return a, nil
}

func (c *applyCommand) Run(args []string) int {
	a, diags := parseApplyArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if wantsJSON(args) {
		// The stream opens with the version event whatever follows.
		v.useJSON().version()
	}
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ctx, hard, stop := signalContext(context.Background(), func() {
		c.notice("Interrupt received: starting nothing new, waiting for running builds to clean up. Interrupt again to stop them at once.")
	})
	defer stop()
	return c.run(ctx, hard, a, v)
}

// notice prints a message to the person running apply on stderr, above the
// status line when one is drawn.
func (c *applyCommand) notice(msg string) {
	if l := c.live.Load(); l != nil {
		l.printlnTo(c.s.Err, msg)
		return
	}
	fmt.Fprintln(c.s.Err, msg)
}

func (c *applyCommand) run(ctx, hard context.Context, a *applyArgs, v *view) int {
	heartbeat, intervalErr := progressInterval(os.Getenv)
	if intervalErr != nil {
		v.errorf("%v", intervalErr)
		return 1
	}
	var saved *plan.Plan
	req := planRequest{Inputs: a.Inputs, Targets: a.Targets, Envs: a.Envs, LockTimeout: a.LockTimeout, KeepLock: true}
	if a.PlanFile != "" {
		var err error
		saved, err = plan.ReadFile(a.PlanFile)
		if err != nil {
			v.errorf("%v", err)
			return 1
		}
		req.Targets, req.Envs, req.Lineage = saved.Targets, saved.Envs, saved.Lineage
	}
	pd, p, diags := makePlanned(ctx, "apply", req)
	if pd != nil && pd.unlock != nil {
		defer pd.unlock()
	}
	if pd != nil {
		defer pd.ws.Close()
	}
	files := map[string]*hcl.File(nil)
	if pd != nil && pd.ws != nil {
		files = pd.ws.Parser.Files()
	}
	if !diags.HasErrors() {
		// Before anything runs: every plugin a build needs is the
		// binary the lockfile pins.
		lf, _, _ := readLockfile(pd.ws)
		diags = append(diags, checkPluginBinaries(lf, planPluginNeeds(pd.ws, p, true))...)
	}
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return 1
	}
	// Warnings: a stale lock taken over, the processes a killed hybrid
	// left that were ended, a plugin not installed.
	v.diagnostics(files, diags)
	if saved != nil {
		if err := plan.Stale(saved, p); err != nil {
			v.errorf("the saved plan %s is stale: %v. Run \"hybrid plan -out=%s\" again, then apply the new plan.", a.PlanFile, err, a.PlanFile)
			return 1
		}
	} else if !a.JSON {
		v.renderPlan(c.s.Out, p)
	}
	if !p.HasChanges() {
		switch {
		case a.JSON:
			applyJSON{v.events}.summary(&apply.Result{})
		case saved != nil:
			fmt.Fprintln(c.s.Out, "No changes.")
		}
		return 0
	}
	if saved == nil && !a.AutoApprove {
		if !c.s.InTTY {
			v.errorf("hybrid apply needs approval, and there is no terminal to ask in. Pass -auto-approve, or apply a saved plan: hybrid plan -out=FILE, then hybrid apply FILE.")
			return 1
		}
		fmt.Fprint(c.s.Out, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
		answer, _ := bufio.NewReader(c.s.In).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			fmt.Fprintln(c.s.Out, "\nApply cancelled.")
			return 1
		}
		fmt.Fprintln(c.s.Out)
	}

	ws := pd.ws
	logger, closeLog := setupLogs(ws, "apply", c.s.Err)
	defer closeLog()
	logger.Info("apply started", "changes", p.Summary.Total(), "serial", p.Serial)
	lf, _, _ := readLockfile(ws)
	bin, version, d := checkPacker(ctx, ws, lf, p)
	if d.HasErrors() {
		v.diagnostics(files, d)
		return 1
	}
	mgr := state.NewManagerFor(pd.backend, pd.state)
	var git *sources.Git
	var err error
	if len(ws.Config.Sources) > 0 {
		if git, err = sources.NewGit(); err != nil {
			v.errorf("%v. Install git: hybrid uses it to check out sources.", err)
			return 1
		}
	}
	parallelism := a.Parallelism
	if parallelism == 0 {
		parallelism = ws.Config.Settings.Parallelism
	}
	var sink apply.Sink
	human := &applyHuman{v: v, w: c.s.Out}
	if liveProgress(c.s, a.JSON, os.Getenv) {
		human.live = newProgressLine(c.s.Out, countChanges(p), terminalWidth(c.s.Out), time.Now)
		human.live.start(time.Second)
		c.live.Store(human.live)
		defer func() {
			c.live.Store(nil)
			human.live.close()
		}()
	}
	jsonSink := applyJSON{v.events}
	if a.JSON {
		sink = jsonSink
	} else {
		sink = human
	}
	sink = loggingSink{Sink: sink, log: logger}
	children, _ := pd.backend.(apply.Children) // every backend hybrid has tracks them
	opts := apply.Options{
		Workspace: ws, Plan: p, State: mgr, Lock: lf, Parallelism: parallelism,
		PackerBin: bin, PackerVersion: version, Git: git, Sink: sink, Hard: hard,
		Children: children, Heartbeat: heartbeat,
	}
	res, err := apply.Run(ctx, opts)
	if err != nil && res == nil {
		v.errorf("%v", err)
		return 1
	}
	logger.Info("apply finished", "summary", applySummary(res))
	// People read the summary, then what went wrong with the state; a
	// JSON stream ends with its summary.
	if !a.JSON {
		human.summary(res)
	}
	var rerr *apply.RecordError
	switch {
	case errors.As(err, &rerr):
		logger.Error("apply stopped: the state cannot be written", "error", rerr.Err.Error(), "not_recorded", rerr.NotRecorded)
		v.diagnostics(nil, errDiag("Apply stopped: results not recorded in the state", err, ""))
	case err != nil:
		v.errorf("cannot record the end of the run in the state: %v", err)
	}
	if a.JSON {
		jsonSink.summary(res)
	}
	if err != nil {
		return 1
	}
	if !res.OK() {
		return 1
	}
	return 0
}

// countChanges counts the nodes a plan does something to: every change but
// the no-ops.
func countChanges(p *plan.Plan) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			n++
		}
	}
	return n
}

// checkPacker finds the packer binary and checks it against the lockfile's
// pin and every template's required_version, before any build starts.
func checkPacker(ctx context.Context, ws *plan.Workspace, lf *lock.File, p *plan.Plan) (string, string, hcl.Diagnostics) {
	needsPacker := false
	for _, c := range p.Changes {
		// A source sync can change what the builds read, so they may
		// need packer after it even when this plan rebuilds nothing.
		if (c.Type == plan.TypeBuild || c.Type == plan.TypeSource) && (c.Action == plan.Create || c.Action == plan.Update) {
			needsPacker = true
		}
	}
	if !needsPacker {
		return "", "", nil
	}
	bin, err := findPacker()
	if err != nil {
		return "", "", errDiag("Packer not found", err, "")
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	version, err := packer.Version(cctx, bin)
	if err != nil {
		return "", "", errDiag("Cannot run packer", err, "Check HYBRID_PACKER or rebuild it with scripts/packer")
	}
	if err := lf.CheckPackerVersion(version); err != nil {
		return "", "", errDiag("Packer does not match the lockfile", err, "")
	}
	var diags hcl.Diagnostics
	for _, dir := range sortedTemplateDirs(ws) {
		for _, c := range ws.Templates[dir].RequiredVersion {
			if err := lock.CheckRequiredVersion(dir, c.Value, version); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Packer too old or too new for a template",
					Detail: err.Error(), Subject: c.Range.Ptr()})
			}
		}
	}
	return bin, version, diags
}

func sortedTemplateDirs(ws *plan.Workspace) []string {
	var out []string
	for dir, t := range ws.Templates {
		if t != nil {
			out = append(out, dir)
		}
	}
	sortStrings(out)
	return out
}

// loggingSink records node results in hybrid.log as well as showing them.
type loggingSink struct {
	apply.Sink
	log *slog.Logger
}

func (l loggingSink) NodeFinished(r apply.NodeResult) {
	attrs := []any{"address", r.Address, "action", r.Action.String(), "outcome", string(r.Outcome), "duration", r.Duration}
	if r.LogPath != "" {
		attrs = append(attrs, "log", r.LogPath)
	}
	if r.Err != nil {
		l.log.Error("node failed", append(attrs, "error", r.Err.Error())...)
	} else {
		l.log.Info("node finished", attrs...)
	}
	l.Sink.NodeFinished(r)
}
