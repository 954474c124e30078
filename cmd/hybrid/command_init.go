package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
)

// initCommand prepares a workspace: directories, lockfile, sources.
type initCommand struct{ s streams }

type initArgs struct {
	// MigrateState copies the state from the backend hybrid.hcl does not
	// select into the one it does (see migrateState); ForceCopy lets it
	// replace a state of another lineage or a newer one there;
	// MigrateSchema is the pg schema migrated from.
	MigrateState  bool
	ForceCopy     bool
	MigrateSchema string
	LockTimeout   time.Duration
	NoColor       bool
	Inputs        config.Inputs
}

func (c *initCommand) Synopsis() string {
	return "Prepare the workspace: directories, lockfile, sources"
}

func (c *initCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid init [options]

  Prepares the workspace in the current directory (or -chdir=DIR):

  - creates the directories hybrid manages (sources, configs, state and
    logs, as the hybrid block's dirs name them);
  - writes hybrid.lock.hcl when there is none, as "hybrid lock" would; to
    an existing lockfile it adds pins for the sources and plugins
    hybrid.hcl and its templates name but the lockfile lacks (and for
    packer, when it has none), as "terraform init" does, and moves no pin
    that is there: when one no longer matches hybrid.hcl, init says so and
    "hybrid lock" updates it;
  - checks out every source at its locked commit, as "hybrid sources sync"
    does, and records the commits in the state;
  - checks the installed plugins against the lockfile's hashes.

  Running init again is safe: what is already in place is left alone.
  From a fresh clone of a repository with a committed lockfile, init checks
  out exactly the commits the lockfile pins.

  With -migrate-state, init first copies the state into the backend
  hybrid.hcl selects from the other one: from the local state file into
  pg when the hybrid block's backend "pg" (or HYBRID_PG_CONN_STR) selects
  pg, or from the pg backend HYBRID_PG_CONN_STR names into the local file
  when the hybrid block says backend "local" {}. The old state is left as
  it was. A state already there of another lineage, or a newer one, is
  replaced only with -force-copy.

Options:
  -migrate-state       Copy the state from the other backend (see above).
  -migrate-schema=NAME The pg schema to migrate from (default "hybrid").
  -force-copy          Let -migrate-state replace the state already there.
  -lock-timeout=DUR    Wait up to DUR for the state lock (default: fail at once).
  -no-color            Do not colour the output.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
`)
}

func parseInitArgs(args []string) (*initArgs, hcl.Diagnostics) {
	a := &initArgs{}
	fs := newFlagSet("init")
	lockTimeoutFlag(fs, &a.LockTimeout)
	fs.BoolVar(&a.MigrateState, "migrate-state", false, "")
	fs.BoolVar(&a.ForceCopy, "force-copy", false, "")
	fs.StringVar(&a.MigrateSchema, "migrate-schema", "", "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	varFlags(fs, &a.Inputs)
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("init", err)
	}
	if fs.NArg() > 0 {
		return nil, flagError("init", fmt.Errorf("unexpected argument %q: init prepares the workspace in the current directory (use -chdir=DIR)", fs.Arg(0)))
	}
	return a, nil
}

func (c *initCommand) Run(args []string) int {
	a, diags := parseInitArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ctx, _, stop := signalContext(context.Background(), nil)
	defer stop()
	return c.run(ctx, a, v)
}

func (c *initCommand) run(ctx context.Context, a *initArgs, v *view) int {
	out := c.s.Out
	shown := map[string]bool{} // diagnostics printed by an earlier load
	load := func() (*plan.Workspace, bool) {
		ws, diags := plan.LoadWorkspaceWith(".", a.Inputs, plan.LoadOptions{SkipUnsynced: true})
		var fresh hcl.Diagnostics
		for _, d := range diags {
			key := fmt.Sprintf("%d|%s|%s|%v", d.Severity, d.Summary, d.Detail, d.Subject)
			if !shown[key] {
				shown[key] = true
				fresh = append(fresh, d)
			}
		}
		v.diagnostics(ws.Parser.Files(), fresh)
		return ws, !diags.HasErrors()
	}
	ws, ok := load()
	defer func() { ws.Close() }()
	if !ok {
		return 1
	}
	cfg := ws.Config
	did := 0 // things init created or changed

	dirs := cfg.Settings.Dirs
	for _, d := range []string{dirs.Sources, dirs.Configs, dirs.State, dirs.Logs} {
		created, err := ensureDir(filepath.Join(cfg.Dir, filepath.FromSlash(d)))
		if err != nil {
			v.errorf("cannot create directory %s/: %v", d, err)
			return 1
		}
		if created {
			fmt.Fprintf(out, "Created directory %s/\n", d)
			did++
		}
	}
	logger, closeLog := setupLogs(ws, "init", c.s.Err)
	defer closeLog()
	logger.Info("init started", "directories_created", did)
	if a.MigrateState {
		copied, diags := migrateState(ctx, cfg, a, out)
		v.diagnostics(ws.Parser.Files(), diags)
		if diags.HasErrors() {
			return 1
		}
		if copied {
			did++
		}
	}

	lf, _, diags := readLockfile(ws)
	if diags.HasErrors() {
		v.diagnostics(ws.Parser.Files(), diags)
		v.errorf("%s cannot be read; fix it, or delete it and run hybrid init to pin everything again", lock.DefaultFilename)
		return 1
	}
	// A new lockfile is written once, after the sync. hybrid lock's
	// resolution fetches the pinned commits into the object store and
	// reads the templates inside the sources there, so their plugins and
	// packer versions are pinned too. If init stops on the way, the pins
	// made so far are written, so that the next run checks out the same
	// commits.
	created, missing := lf.Missing, lf
	writeNew := func() bool {
		if err := writeLockfile(c.s, ws, missing, lf); err != nil {
			v.errorf("cannot write %s: %v", lock.DefaultFilename, err)
			return false
		}
		return true
	}
	// addPins pins what an existing lockfile lacks and writes it, keeping
	// the workspace read at the pins.
	addPins := func() bool {
		if !lf.Lacks(ws.LockRequirements()) {
			return true
		}
		next, pinned, diags := relock(ctx, ws, a.Inputs, lf, relockOptions{AddOnly: true, Note: func(s string) { fmt.Fprintln(out, s) }})
		v.diagnostics(pinned.Parser.Files(), diags)
		if pinned != ws {
			ws.Close()
			ws = pinned
		}
		if diags.HasErrors() {
			return false
		}
		if err := writeLockfile(c.s, ws, lf, next); err != nil {
			v.errorf("cannot write %s: %v", lock.DefaultFilename, err)
			return false
		}
		lf = next
		did++
		return true
	}
	if created {
		next, pinned, diags := relock(ctx, ws, a.Inputs, lf, relockOptions{Note: func(s string) { fmt.Fprintln(out, s) }})
		v.diagnostics(pinned.Parser.Files(), diags)
		if pinned != ws {
			ws.Close()
			ws = pinned
		}
		if diags.HasErrors() {
			return 1
		}
		lf = next
		did++
	} else {
		fmt.Fprintf(out, "%s already present; init adds the pins it lacks and moves none.\n", lock.DefaultFilename)
		if !addPins() {
			return 1
		}
	}

	if len(cfg.Sources) > 0 {
		res := syncSources(ctx, v, ws, lf, syncOptions{LockTimeout: a.LockTimeout, Operation: "init"})
		did += res.changed
		if res.failed {
			if created {
				writeNew()
			}
			return 1
		}
		if !created {
			// Every source is fetched now: read the templates inside them,
			// and pin the plugins they require that the lockfile lacks.
			ws.Close()
			if ws, ok = load(); !ok || !addPins() {
				return 1
			}
		}
	}
	if created {
		if !writeNew() {
			return 1
		}
	} else {
		diags := lf.Check(ws.LockRequirements())
		v.diagnostics(ws.Parser.Files(), diags)
		if diags.HasErrors() {
			v.errorf("%s does not match hybrid.hcl; run hybrid lock to update it, then hybrid init again", lock.DefaultFilename)
			return 1
		}
	}

	if !checkPlugins(v, ws, lf) {
		return 1
	}
	if lf.Packer != nil {
		if _, found, err := installedPacker(ctx); err != nil || lf.CheckPackerVersion(found) != nil {
			if err == nil {
				err = lf.CheckPackerVersion(found)
			}
			v.diagnostics(nil, hcl.Diagnostics{{
				Severity: hcl.DiagWarning,
				Summary:  "Packer does not match the lockfile",
				Detail:   fmt.Sprintf("%s. Builds need packer %s.", trimDot(err.Error()), lf.Packer.Version),
			}})
		}
	}

	if did == 0 {
		fmt.Fprintln(out, "Everything is in place: the workspace is initialized.")
		return 0
	}
	fmt.Fprintf(out, "\n%s Run \"hybrid plan\" to see what is out of date.\n", v.paint("32;1", "hybrid has initialized the workspace."))
	return 0
}

// ensureDir creates dir (and its parents) unless it exists, reporting
// whether it did.
func ensureDir(dir string) (bool, error) {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return false, fmt.Errorf("%s exists and is not a directory; move it away", dir)
		}
		return false, nil
	}
	if !os.IsNotExist(err) {
		return false, err
	}
	return true, os.MkdirAll(dir, 0o755)
}
