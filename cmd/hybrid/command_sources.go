package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/cli"
	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/sources"
	"github.com/hybridcore/hybrid/state"
)

// sourcesCommand is the parent of the sources subcommands; alone it prints
// its help.
type sourcesCommand struct{ s streams }

func (c *sourcesCommand) Synopsis() string { return "Manage the git sources" }

func (c *sourcesCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid sources <subcommand> [options] [args]

  Manages the git checkouts under sources/ that hybrid.hcl declares.
`)
}

func (c *sourcesCommand) Run(args []string) int { return cli.RunResultHelp }

// sourcesSyncCommand brings source checkouts to their locked commits.
type sourcesSyncCommand struct{ s streams }

type sourcesSyncArgs struct {
	// Names restricts the sync to these sources; empty means all.
	Names       []string
	LockTimeout time.Duration
	NoColor     bool
	Inputs      config.Inputs
}

func (c *sourcesSyncCommand) Synopsis() string {
	return "Check out every source at its locked commit"
}

func (c *sourcesSyncCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid sources sync [options] [NAME...]

  Clones or updates each source under sources/<name> at the commit
  hybrid.lock.hcl pins (all sources, or the named ones), and records its
  url, ref and commit in the state. The locked commit must be what the ref
  leads to (in the branch's history, or the tag's commit), or the sync is
  refused as a possible tampering.

  A checkout with modified or untracked files is never touched: hybrid lists
  the files and moves on to the other sources, and exits 1. After syncing,
  the installed plugin binaries are checked against the hashes in the
  lockfile.

Options:
  -lock-timeout=DUR    Wait up to DUR for the state lock (default: fail at once).
  -no-color            Do not colour the output.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
`)
}

func parseSourcesSyncArgs(args []string) (*sourcesSyncArgs, hcl.Diagnostics) {
	a := &sourcesSyncArgs{}
	fs := newFlagSet("sources sync")
	lockTimeoutFlag(fs, &a.LockTimeout)
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	varFlags(fs, &a.Inputs)
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("sources sync", err)
	}
	names, err := nameArgs(fs.Args())
	if err != nil {
		return nil, flagError("sources sync", err)
	}
	a.Names = names
	return a, nil
}

func (c *sourcesSyncCommand) Run(args []string) int {
	a, diags := parseSourcesSyncArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ctx, _, stop := signalContext(context.Background(), nil)
	defer stop()
	return c.run(ctx, a, v)
}

func (c *sourcesSyncCommand) run(ctx context.Context, a *sourcesSyncArgs, v *view) int {
	ws, diags := plan.LoadWorkspaceWith(".", a.Inputs, plan.LoadOptions{SkipUnsynced: true})
	defer ws.Close()
	if diags.HasErrors() {
		v.diagnostics(ws.Parser.Files(), diags)
		return 1
	}
	logger, closeLog := setupLogs(ws, "sources sync", c.s.Err)
	defer closeLog()
	logger.Info("sources sync started", "names", a.Names)
	lf, _, d := readLockfile(ws)
	diags = append(diags, d...)
	v.diagnostics(ws.Parser.Files(), diags)
	if diags.HasErrors() {
		return 1
	}
	failed := false
	if len(ws.Config.Sources) == 0 && len(a.Names) == 0 {
		fmt.Fprintln(c.s.Out, "hybrid.hcl declares no sources: nothing to sync.")
	} else {
		failed = syncSources(ctx, v, ws, lf, syncOptions{Names: a.Names, LockTimeout: a.LockTimeout, Operation: "sources sync"}).failed
	}
	if !checkPlugins(v, ws, lf) || failed {
		return 1
	}
	return 0
}

// syncOptions say which sources syncSources brings to their pins.
type syncOptions struct {
	Names       []string // empty: every source
	LockTimeout time.Duration
	Operation   string // recorded in the lock info and the state's last run
}

// syncOutcome is what syncSources did.
type syncOutcome struct {
	// changed counts checkouts created or moved.
	changed int
	// failed is set when any source or the state failed; the problem has
	// been printed.
	failed bool
}

// syncSources brings each selected source to its locked commit under the
// state lock, recording each success in the state with its own write (none
// when the state already records that checkout). A source that fails
// (dirty, tampered, unreachable) is reported and the others still run.
// Problems with the lockfile itself stop everything before git runs, and a
// state that cannot be read stops everything before any checkout moves.
func syncSources(ctx context.Context, v *view, ws *plan.Workspace, lf *lock.File, opts syncOptions) syncOutcome {
	cfg := ws.Config
	names, diags := selectSources(cfg, opts.Names)
	diags = append(diags, checkSourcePins(cfg, lf, names)...)
	if diags.HasErrors() {
		v.diagnostics(ws.Parser.Files(), diags)
		return syncOutcome{failed: true}
	}
	g, err := sources.NewGit()
	if err != nil {
		v.diagnostics(nil, errDiag("git not found", err, "Install git: hybrid uses it to check out sources"))
		return syncOutcome{failed: true}
	}

	store, diags := openStateStore(ctx, cfg)
	if !diags.HasErrors() {
		diags = append(diags, store.prepare()...)
	}
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return syncOutcome{failed: true}
	}
	backend := store.backend
	unlock, err := lockState(ctx, backend, opts.Operation, opts.LockTimeout)
	if err != nil {
		v.diagnostics(nil, lockDiags(err))
		return syncOutcome{failed: true}
	}
	defer func() {
		if err := unlock(); err != nil {
			v.diagnostics(nil, errDiag("Cannot release the state lock", err,
				fmt.Sprintf("If later commands report the state locked, run hybrid force-unlock with the lock ID in %s", store.lockInfoHint())))
		}
	}()
	v.diagnostics(nil, takeoverDiags(backend, ""))
	mgr, err := state.NewManager(ctx, backend)
	if err != nil {
		v.diagnostics(nil, errDiag("Cannot read the state", err, ""))
		return syncOutcome{failed: true}
	}

	var out syncOutcome
	root := filepath.FromSlash(cfg.Settings.Dirs.Sources)
	for _, name := range names {
		if ctx.Err() != nil {
			v.errorf("interrupted before syncing %s; run hybrid sources sync again", state.SourceAddr(name))
			out.failed = true
			break
		}
		s, pin := cfg.Sources[name], lf.Sources[name]
		// The object store first: plans read the locked commit there.
		if err := g.Store(root, name).Fetch(ctx, s.URL, s.Ref, pin.Commit); err != nil {
			v.diagnostics(nil, syncErrorDiag(name, err))
			out.failed = true
			continue
		}
		res, err := g.Sync(ctx, root, sources.Source{Name: name, URL: s.URL, Ref: s.Ref, Commit: pin.Commit})
		if err != nil {
			v.diagnostics(nil, syncErrorDiag(name, err))
			out.failed = true
			continue
		}
		fmt.Fprintln(v.s.Out, syncLine(res, s.Ref))
		if res.Action != sources.ActionUnchanged {
			out.changed++
		}
		recorded := false
		mgr.View(func(st *state.State) {
			prev := st.Sources[name]
			recorded = prev != nil && prev.URL == s.URL && prev.Ref == s.Ref && prev.Commit == res.Commit
		})
		if recorded && res.Action == sources.ActionUnchanged {
			continue // the state already records this checkout
		}
		now := time.Now().UTC()
		err = mgr.Commit(&state.Change{
			Sources: map[string]*state.Source{name: {URL: s.URL, Ref: s.Ref, Commit: res.Commit, SyncedAt: now}},
			LastRun: &state.Run{Command: opts.Operation, Who: state.Who(), When: now, Outcome: "succeeded"},
		})
		if err != nil {
			v.diagnostics(nil, errDiag(fmt.Sprintf("Cannot record %s in the state", state.SourceAddr(name)), err,
				fmt.Sprintf("%s is checked out; run hybrid sources sync %s again to record it", res.Dir, name)))
			out.failed = true
		}
	}
	return out
}

// selectSources returns the named sources (every source when names is
// empty) in name order, or an error naming the unknown ones.
func selectSources(cfg *config.Config, names []string) ([]string, hcl.Diagnostics) {
	if len(names) == 0 {
		return cfg.SourceNames(), nil
	}
	var diags hcl.Diagnostics
	var out []string
	for _, n := range names {
		if _, ok := cfg.Sources[n]; !ok {
			declared := strings.Join(cfg.SourceNames(), ", ")
			if declared == "" {
				declared = "none"
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Unknown source %q", n),
				Detail:   fmt.Sprintf("hybrid.hcl declares no source %q. Declared sources: %s.", n, declared),
			})
			continue
		}
		out = append(out, n)
	}
	sortStrings(out)
	return out, diags
}

// checkSourcePins checks that the lockfile pins each source as hybrid.hcl
// declares it, so a sync never checks out a commit of another url or ref.
func checkSourcePins(cfg *config.Config, lf *lock.File, names []string) hcl.Diagnostics {
	if lf.Missing {
		return lf.Check(lock.Requirements{})
	}
	var diags hcl.Diagnostics
	for _, name := range names {
		s, pin := cfg.Sources[name], lf.Sources[name]
		switch {
		case pin == nil:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Source %q is not locked", name),
				Detail:   fmt.Sprintf("%s has no pin for source %q. Run \"hybrid lock\" to pin it, then sync again.", lock.DefaultFilename, name),
				Subject:  s.DeclRange.Ptr(),
			})
		case pin.URL != s.URL || pin.Ref != s.Ref:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Source %q changed since it was locked", name),
				Detail: fmt.Sprintf("%s pins url %q ref %q, but hybrid.hcl says url %q ref %q. Run \"hybrid lock\" to pin it again, then sync.",
					lock.DefaultFilename, pin.URL, pin.Ref, s.URL, s.Ref),
				Subject: s.DeclRange.Ptr(),
			})
		}
	}
	return diags
}

// syncErrorDiag explains why a source could not be synced.
func syncErrorDiag(name string, err error) hcl.Diagnostics {
	addr := state.SourceAddr(name)
	var dirty *sources.DirtyError
	var tamper *sources.TamperError
	var origin *sources.OriginError
	switch {
	case errors.As(err, &dirty):
		return errDiag(fmt.Sprintf("%s has local changes", addr), err, "")
	case errors.As(err, &tamper):
		return errDiag(fmt.Sprintf("Locked commit of %s is not on its ref", addr), err, "")
	case errors.As(err, &origin):
		return errDiag(fmt.Sprintf("%s is a checkout of another repository", addr), err, "")
	case errors.Is(err, sources.ErrRefNotFound):
		return errDiag(fmt.Sprintf("Locked commit of %s not found", addr), err, "")
	case errors.Is(err, context.Canceled):
		return errDiag(fmt.Sprintf("Sync of %s interrupted", addr), err, fmt.Sprintf("Run hybrid sources sync %s again", name))
	}
	return errDiag(fmt.Sprintf("Cannot sync %s", addr), err, "")
}

// syncLine says in one line what a sync did.
func syncLine(r *sources.SyncResult, ref string) string {
	what := fmt.Sprintf("%s %s", r.Kind, ref)
	if r.Kind == sources.KindCommit {
		what = "commit"
	}
	switch r.Action {
	case sources.ActionCloned:
		return fmt.Sprintf("Checked out %s at %s (%s)", r.Dir, shortCommit(r.Commit), what)
	case sources.ActionUpdated:
		return fmt.Sprintf("Moved %s from %s to %s (%s)", r.Dir, shortCommit(r.From), shortCommit(r.Commit), what)
	}
	return fmt.Sprintf("%s is already at %s (%s)", r.Dir, shortCommit(r.Commit), what)
}

// shortCommit abbreviates a commit as hybrid lock's output does.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// checkPlugins checks the installed binaries of every pinned plugin
// against the lockfile's hashes, printing one diagnostic per plugin with a
// problem; it reports whether all is well.
func checkPlugins(v *view, ws *plan.Workspace, lf *lock.File) bool {
	diags := checkPluginBinaries(lf, lockedPluginNeeds(ws, lf))
	v.diagnostics(ws.Parser.Files(), diags)
	return !diags.HasErrors()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
