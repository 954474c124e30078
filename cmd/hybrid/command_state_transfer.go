package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// statePullCommand prints the whole state as JSON, whatever the backend.
type statePullCommand struct{ s streams }

func (c *statePullCommand) Synopsis() string { return "Print the state as JSON" }

func (c *statePullCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid state pull [options]

  Prints the workspace's state to stdout as one JSON document, in the
  format of the local state file (state/packer-hybrid.json), whichever
  backend keeps it: a copy to inspect, keep or push elsewhere. Prints
  nothing when nothing has been recorded yet. The state holds no secret
  values, only their keyed digests.

Options:
  -no-color            Do not colour the output.
`)
}

func parseStatePullArgs(args []string) (*stateReadArgs, hcl.Diagnostics) {
	return parseStateReadArgs("state pull", args)
}

func (c *statePullCommand) Run(args []string) int {
	a, diags := parseStatePullArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	st, _, ok := readWorkspaceState(v)
	if !ok {
		return 1
	}
	if st == nil {
		return 0
	}
	b, err := state.Encode(st)
	if err != nil {
		v.diagnostics(nil, errDiag("Cannot encode the state", err, ""))
		return 1
	}
	c.s.Out.Write(b)
	return 0
}

// statePushCommand replaces the workspace's state with one read from a
// file, under the state lock.
type statePushCommand struct{ s streams }

type statePushArgs struct {
	Force       bool
	LockTimeout time.Duration
	NoColor     bool
	File        string
}

func (c *statePushCommand) Synopsis() string { return "Replace the state with a state file" }

func (c *statePushCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid state push [options] FILE

  Replaces the workspace's state with the state in FILE (a file "hybrid
  state pull" printed, or a local state file; "-" reads stdin), under the
  state lock. The state's serial becomes one more than both.

  Push refuses a state of another lineage (another workspace's state) and
  a state older than the one stored (a lower serial: someone applied since
  it was pulled), because either would make hybrid forget what was built.
  -force pushes it anyway.

Options:
  -force               Push a state of another lineage, or an older one.
  -lock-timeout=DUR    Wait up to DUR for the state lock (default: fail at once).
  -no-color            Do not colour the output.
`)
}

func parseStatePushArgs(args []string) (*statePushArgs, hcl.Diagnostics) {
	a := &statePushArgs{}
	fs := newFlagSet("state push")
	fs.BoolVar(&a.Force, "force", false, "")
	lockTimeoutFlag(fs, &a.LockTimeout)
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("state push", err)
	}
	switch fs.NArg() {
	case 1:
		a.File = fs.Arg(0)
	case 0:
		return nil, flagError("state push", fmt.Errorf("missing FILE: the state file to push (or - for stdin)"))
	default:
		return nil, flagError("state push", fmt.Errorf("unexpected argument %q: push takes one FILE", fs.Arg(1)))
	}
	return a, nil
}

func (c *statePushCommand) Run(args []string) int {
	a, diags := parseStatePushArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	var data []byte
	var err error
	if a.File == "-" {
		data, err = io.ReadAll(c.s.In)
	} else {
		data, err = os.ReadFile(a.File)
	}
	if err != nil {
		v.diagnostics(nil, errDiag("Cannot read the state to push", err, ""))
		return 1
	}
	st, err := state.Decode(data)
	if err != nil {
		v.diagnostics(nil, errDiag("Cannot read the state to push", fmt.Errorf("%s: %w", a.File, err),
			"Push a file that hybrid state pull printed, or a state/packer-hybrid.json"))
		return 1
	}
	ctx, _, stop := signalContext(context.Background(), nil)
	defer stop()
	store, files, diags := workspaceState(ctx)
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return 1
	}
	serial, diags := writeState(ctx, store, st, a.Force, "state push",
		"Pull the stored state and compare; if the file is meant to replace it, push again with -force", a.LockTimeout)
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return 1
	}
	fmt.Fprintf(c.s.Out, "%s %s now holds lineage %s at serial %d.\n",
		v.paint("32;1", "The state has been pushed."), store.name, st.Lineage, serial)
	return 0
}

// writeState replaces the state in store with st under the state lock, and
// returns the serial it was stored at.
// A refusal of another lineage or an older serial says to use forceHint.
func writeState(ctx context.Context, store *stateStore, st *state.State, force bool, operation, forceHint string, timeout time.Duration) (uint64, hcl.Diagnostics) {
	if d := store.prepare(); d.HasErrors() {
		return 0, d
	}
	unlock, err := lockState(ctx, store.backend, operation, timeout)
	if err != nil {
		return 0, lockDiags(err)
	}
	defer unlock()
	if err := store.backend.Write(ctx, st, force); err != nil {
		var ce *state.WriteConflictError
		if errors.As(err, &ce) {
			return 0, errDiag("State conflict", err, forceHint)
		}
		return 0, errDiag("Cannot write the state", err, "")
	}
	return st.Serial, nil
}

// migrateState copies the state from the backend hybrid.hcl does not
// select to the one it does (hybrid init -migrate-state): from the local
// state file to pg when the hybrid block (or HYBRID_PG_CONN_STR) selects
// pg, or from the pg backend HYBRID_PG_CONN_STR names to the local file
// when the hybrid block says backend "local". The source is read under its
// lock and left as it was. It returns whether anything was copied.
func migrateState(ctx context.Context, cfg *config.Config, a *initArgs, out io.Writer) (bool, hcl.Diagnostics) {
	to, d := openStateStore(ctx, cfg)
	if d.HasErrors() {
		return false, d
	}
	fromCfg := config.Config{Dir: cfg.Dir, Filename: cfg.Filename, Settings: cfg.Settings}
	if cfg.Settings.Backend.Type == config.BackendPG {
		fromCfg.Settings.Backend = config.Backend{Type: config.BackendLocal}
	} else {
		conn := os.Getenv(config.PGConnEnv)
		if conn == "" {
			return false, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "No state to migrate from",
				Detail: fmt.Sprintf("hybrid.hcl keeps the state in %s. -migrate-state copies into it the state of the pg backend %s names; set it (and -migrate-schema if the schema is not %q), or remove the backend \"local\" block to migrate the other way.",
					to.name, config.PGConnEnv, config.DefaultSchemaName),
			}}
		}
		schema := a.MigrateSchema
		if schema == "" {
			schema = config.DefaultSchemaName
		}
		fromCfg.Settings.Backend = config.Backend{Type: config.BackendPG, ConnStr: conn, SchemaName: schema}
	}
	from, d := openStateStore(ctx, &fromCfg)
	if d.HasErrors() {
		return false, d
	}
	if !from.exists() {
		fmt.Fprintf(out, "No state in %s: nothing to migrate.\n", from.name)
		return false, nil
	}
	if d := from.prepare(); d.HasErrors() {
		return false, d
	}
	unlock, err := lockState(ctx, from.backend, "init -migrate-state", a.LockTimeout)
	if err != nil {
		return false, lockDiags(err)
	}
	st, err := from.backend.Read(ctx)
	unlock()
	if err != nil {
		return false, errDiag("Cannot read the state to migrate", err, "")
	}
	if st.Serial == 0 {
		fmt.Fprintf(out, "No state in %s: nothing to migrate.\n", from.name)
		return false, nil
	}
	entries := len(st.Sources) + len(st.Renders) + len(st.Builds)
	serial, d := writeState(ctx, to, st, a.ForceCopy, "init -migrate-state",
		"If the state being migrated is meant to replace it, run hybrid init -migrate-state -force-copy", a.LockTimeout)
	if d.HasErrors() {
		return false, d
	}
	fmt.Fprintf(out, "Copied the state (%s, lineage %s) from %s to %s, now at serial %d. The old state is left as it was; remove it once nothing uses it.\n",
		plural(entries, "record"), st.Lineage, from.name, to.name, serial)
	return true, migrateDigestKey(ctx, cfg, from, to)
}

// migrateDigestKey moves the digest key with the state, so sensitive values
// keep their digests: the local key file into pg, or pg's key into the key
// file. Nothing moves when HYBRID_DIGEST_KEY gives the key. A pg state that
// already holds another key keeps it, with a warning: its sensitive values
// count as changed once.
func migrateDigestKey(ctx context.Context, cfg *config.Config, from, to *stateStore) hcl.Diagnostics {
	if os.Getenv(plan.DigestKeyEnv) != "" {
		return nil
	}
	stateDir := filepath.Join(cfg.Dir, filepath.FromSlash(cfg.Settings.Dirs.State))
	if keeper, ok := to.backend.(state.KeyKeeper); ok {
		key, err := plan.LoadDigestKey(stateDir, false)
		if err != nil {
			return nil // no local key: the first plan makes one in pg
		}
		stored, err := keeper.DigestKey(ctx, string(key))
		if err != nil {
			return errDiag("Cannot copy the digest key", err, "")
		}
		if stored != string(key) {
			return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "The pg state has a digest key already",
				Detail: fmt.Sprintf("%s keeps the key it had, not the one of %s: sensitive values count as changed once, and their builds run again.", to.name, from.name)}}
		}
		return nil
	}
	if keeper, ok := from.backend.(state.KeyKeeper); ok {
		key, err := keeper.DigestKey(ctx, "")
		if err != nil {
			return errDiag("Cannot copy the digest key", err, "")
		}
		if key != "" {
			if err := plan.WriteDigestKey(stateDir, key); err != nil {
				return errDiag("Cannot copy the digest key", err, "")
			}
		}
	}
	return nil
}
