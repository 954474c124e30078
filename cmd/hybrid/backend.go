package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/pg"
)

// stateStore is the workspace's state backend as the commands use it: the
// backend, and how to name it in messages.
type stateStore struct {
	backend state.Backend
	// local is the backend when it is the local one, nil for pg.
	local *state.Local
	// name is the state file's path relative to the working directory,
	// or "the pg state (schema S at HOST)" with no password.
	name string
}

// openBackends are the pg backends this process opened, closed by
// closeBackends when the command ends.
var (
	openBackendsMu sync.Mutex
	openBackends   []*pg.Backend
)

// closeBackends releases the connections of every pg backend opened.
func closeBackends() {
	openBackendsMu.Lock()
	defer openBackendsMu.Unlock()
	for _, b := range openBackends {
		b.Close()
	}
	openBackends = nil
}

// openStateStore opens the backend the configuration's hybrid block (or
// HYBRID_PG_CONN_STR) selects.
func openStateStore(ctx context.Context, cfg *config.Config) (*stateStore, hcl.Diagnostics) {
	if cfg.Settings.Backend.Type != config.BackendPG {
		if d := checkStateDir(cfg); d.HasErrors() {
			return nil, d
		}
		path := statePathFor(cfg)
		l := state.NewLocal(path)
		return &stateStore{backend: l, local: l, name: displayPath(path)}, nil
	}
	bc := cfg.Settings.Backend
	name := fmt.Sprintf("the pg state (schema %s at %s)", bc.SchemaName, bc.Redacted())
	if bc.ConnStr == "" {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No connection string for the pg backend",
			Detail:   fmt.Sprintf("Set %s, or conn_str in the backend block (a password is better kept in the environment).", config.PGConnEnv),
			Subject:  bc.DeclRange.Ptr(),
		}}
	}
	b, err := pg.Open(ctx, bc.ConnStr, bc.SchemaName)
	if err != nil {
		return nil, errDiag("Cannot open the pg state backend", err,
			fmt.Sprintf("Check that the server is reachable and %s (or conn_str) is right", config.PGConnEnv))
	}
	openBackendsMu.Lock()
	openBackends = append(openBackends, b)
	openBackendsMu.Unlock()
	return &stateStore{backend: b, name: name}, nil
}

// exists reports whether a state has been written. For the local backend
// that is the state file; a pg schema is created when it is opened, so it
// always exists.
func (s *stateStore) exists() bool {
	if s.local == nil {
		return true
	}
	_, err := os.Stat(s.local.Path())
	return !errors.Is(err, fs.ErrNotExist)
}

// prepare makes what the backend needs before it is locked: the local
// state directory.
func (s *stateStore) prepare() hcl.Diagnostics {
	if s.local == nil {
		return nil
	}
	if err := os.MkdirAll(dirOf(s.local.Path()), 0o755); err != nil {
		return errDiag("Cannot create the state directory", err, "")
	}
	return nil
}

// lockInfoHint says where a lock's ID is found, for messages.
func (s *stateStore) lockInfoHint() string {
	if s.local != nil {
		return displayPath(s.local.LockInfoPath())
	}
	return "the \"State locked\" error of the next command"
}

// children returns the backend's child tracking, nil when it has none.
func (s *stateStore) children() state.ChildTracker {
	c, _ := s.backend.(state.ChildTracker)
	return c
}
