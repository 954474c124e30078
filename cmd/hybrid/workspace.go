package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/version"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/logs"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// stateFilename is the state file inside the workspace's state directory.
const stateFilename = "packer-hybrid.json"

// statePath is the workspace's state file.
func statePath(ws *plan.Workspace) string { return statePathFor(ws.Config) }

// statePathFor is the state file of a configuration's workspace.
func statePathFor(cfg *config.Config) string {
	return filepath.Join(cfg.Dir, filepath.FromSlash(cfg.Settings.Dirs.State), stateFilename)
}

// lockfilePath is the workspace's lockfile.
func lockfilePath(ws *plan.Workspace) string {
	return filepath.Join(ws.Config.Dir, lock.DefaultFilename)
}

// readLockfile returns hybrid.lock.hcl as the workspace read it (through
// the workspace parser, so errors print with snippets), with the digest of
// its bytes.
func readLockfile(ws *plan.Workspace) (*lock.File, string, hcl.Diagnostics) {
	if ws.Lock != nil {
		return ws.Lock, ws.LockDigest, ws.LockDiags
	}
	path := lockfilePath(ws)
	f, diags := lock.ReadWith(ws.Parser, path)
	digest := ""
	if b, err := os.ReadFile(path); err == nil {
		digest = plan.Digest(b)
	}
	return f, digest, diags
}

// lockState takes the state lock for an operation, waiting up to timeout.
// The returned function releases it.
//
// While the lock is held, every process hybrid starts (packer, its plugins
// and provisioners, git) carries the lock ID in its environment
// (state.ChildEnv), so that if this hybrid is killed, the next one to take
// the lock over finds and ends all of them, even one started in the instant
// before it could be recorded in the lock info.
func lockState(ctx context.Context, b state.Backend, operation string, timeout time.Duration) (func() error, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	id, err := b.Lock(ctx, state.LockInfo{Operation: operation, Version: version.Version})
	if err != nil {
		return nil, err
	}
	os.Setenv(state.ChildEnv, id)
	return func() error {
		os.Unsetenv(state.ChildEnv)
		return b.Unlock(id)
	}, nil
}

// lockDiags turns a failure to take the state lock into a diagnostic.
func lockDiags(err error) hcl.Diagnostics {
	var le *state.LockError
	var oe *state.OrphanError
	switch {
	case errors.As(err, &le):
		return errDiag("State locked", err, "")
	case errors.As(err, &oe):
		return errDiag("Processes of a killed hybrid still run", err, "")
	}
	return errDiag("Cannot lock the state", err, "")
}

// takeoverDiags warns, after the state lock was taken, that it was taken
// over from a holder that died, and names the processes that holder left
// running which were ended before anything else was done.
func takeoverDiags(backend state.Backend, next string) hcl.Diagnostics {
	b, ok := backend.(state.ChildTracker)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	if info := b.StaleLock(); info != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Took over a stale state lock",
			Detail: strings.TrimSpace(fmt.Sprintf("The state lock %s was held by %s (hybrid %s, pid %d) since %s, whose process is gone; hybrid took it over. %s",
				orUnknown(info.ID), orUnknown(info.Who), orUnknown(info.Operation), info.PID, info.Created.Format("2006-01-02 15:04:05 MST"), next)),
		})
	}
	if ended := b.EndedChildren(); len(ended) > 0 {
		diags = append(diags, endedDiag(ended, "before doing anything, so that no build runs twice at once"))
	}
	return diags
}

// endedDiag is the warning that names the processes a dead lock holder
// left running, and what became of them.
func endedDiag(ended []state.EndedChild, why string) *hcl.Diagnostic {
	lines := make([]string, len(ended))
	for i, e := range ended {
		lines[i] = "  " + e.String()
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Ended processes left running by a killed hybrid",
		Detail: fmt.Sprintf("The hybrid that held the state lock died while these ran; hybrid ended them %s:\n%s",
			why, strings.Join(lines, "\n")),
	}
}

// signalContext is cancelled on the first SIGINT or SIGTERM; hard is
// cancelled on the second, when a command must stop at once.
func signalContext(parent context.Context, onFirst func()) (ctx, hard context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	hard, hardCancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-ch:
				n++
				if n == 1 {
					if onFirst != nil {
						onFirst()
					}
					cancel()
				} else {
					hardCancel()
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, hard, func() {
		signal.Stop(ch)
		close(done)
		cancel()
		hardCancel()
	}
}

// errDiag turns an error that is not about a configuration line into a
// diagnostic with a next step.
func errDiag(summary string, err error, next string) hcl.Diagnostics {
	detail := err.Error()
	if next != "" {
		detail = fmt.Sprintf("%s. %s", trimDot(detail), next)
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail}}
}

func trimDot(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '.' || s[len(s)-1] == '\n') {
		s = s[:len(s)-1]
	}
	return s
}

// logRedactor hides, in every record of the default logger (the one
// HYBRID_LOG sends to stderr), the sensitive values of the workspace the
// command loaded, once registerSecrets has been called with it.
var logRedactor = logs.NewRedactor()

// registerSecrets adds every sensitive value of ws to r: sensitive
// variables, and the sensitive values of every build's render.
func registerSecrets(r *logs.Redactor, ws *plan.Workspace) {
	if ws == nil || ws.Config == nil {
		return
	}
	for _, v := range ws.Config.Variables {
		if v.Sensitive && v.Value.IsWhollyKnown() {
			r.Add(config.SecretStrings(v.Value)...)
		}
	}
	for _, b := range ws.Builds {
		if b.Render == nil {
			continue
		}
		for _, v := range b.Render.Sensitive {
			r.Add(config.SecretStrings(v)...)
		}
	}
}

// setupLogs starts the log of a command that changes the workspace: records
// go to logs/hybrid.log (rotated), and to stderr when HYBRID_LOG asks for
// them. Every sensitive value of the workspace is redacted. Read-only
// commands (validate, plan, show) write no log file, so they leave the
// workspace as it was.
func setupLogs(ws *plan.Workspace, command string, stderr io.Writer) (*slog.Logger, func()) {
	red := logs.NewRedactor()
	registerSecrets(red, ws)
	registerSecrets(logRedactor, ws)
	dir := filepath.Join(ws.Config.Dir, filepath.FromSlash(ws.Config.Settings.Dirs.Logs))
	jsonLog := os.Getenv("HYBRID_LOG_FORMAT") == "json"
	logger, closeFn, err := logs.Setup(logs.Options{Command: command, Stderr: stderr, Dir: dir, Redactor: red, JSON: jsonLog})
	if err != nil {
		fmt.Fprintf(stderr, "Warning: logging to %s is off: %v\n", dir, err)
		return slog.New(slog.NewTextHandler(io.Discard, nil)), func() {}
	}
	return logger, func() { closeFn() }
}
