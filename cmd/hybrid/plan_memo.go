package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/internal/version"
	"github.com/hybridcore/hybrid/plan"
)

// memoEnv turns the plan memo off when set to "off": every plan is made
// from scratch.
const memoEnv = "HYBRID_PLAN_MEMO"

// planMemo is what hybrid plan needs to reuse the last plan of the
// workspace (plan.Memo) or to keep this one for the next: the digest of
// everything a plan is made from except the state, taken before the plan
// starts.
//
// The digest is an HMAC, under the workspace's digest key, of: hybrid's
// version and executable (path, size, mtime, inode); the workspace's
// absolute path; the whole process environment (HYBRID_VAR_ values,
// PACKER_* and PATH included); the options that change a plan (-var,
// -var-file with its file's bytes, -target, -env, -refresh, -lock); the
// plan.Stamp of every entry of the workspace but hybrid's own files in the
// state directory and git object stores; and the stat of git and its settings (gitFiles). The
// state is compared separately, under its lock,
// by the digest of its bytes. A plan is kept only when it had no
// diagnostic, was made against the local state in the default state
// directory, and no entry of the workspace changed within the racy window
// of the stamp.
type planMemo struct {
	path   string
	dir    string
	inputs []byte
	// unsettled says why this plan cannot be kept ("" when it can).
	unsettled string
	// pending holds warnings a lookup that was not used produced (a
	// stale lock taken over), for the plan made instead.
	pending hcl.Diagnostics
}

// openPlanMemo stamps the workspace in the current directory for req; nil
// when the memo is off, or cannot be used because there is no digest key
// yet (the first plan makes it) or the workspace cannot be stamped.
func openPlanMemo(req planRequest) *planMemo {
	if os.Getenv(memoEnv) == "off" {
		return nil
	}
	start := time.Now()
	dir, err := os.Getwd()
	if err != nil {
		return nil
	}
	stateDir := filepath.Join(dir, config.DefaultDirectories.State)
	if fi, err := os.Lstat(stateDir); err != nil || !fi.IsDir() {
		// No state directory yet, or a link the plan will refuse.
		return nil
	}
	key, err := plan.LoadDigestKey(stateDir, false)
	if err != nil {
		return nil
	}
	// hybrid's own files in the state directory are not inputs: the
	// state is compared by its bytes, the caches cannot change a plan.
	stamp, err := plan.StampWorkspace(dir, plan.Owned{Dir: config.DefaultDirectories.State,
		Prefixes: []string{strings.TrimSuffix(stateFilename, "json"), atomicfile.TempPrefix}})
	if err != nil {
		slog.Debug("plan memo: cannot stamp the workspace", "error", err)
		return nil
	}
	mac := hmac.New(sha256.New, key)
	field := func(s string) { fmt.Fprintf(mac, "%d:%s;", len(s), s) }
	field("hybrid-plan-memo 1")
	field(version.Version)
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	// A rebuilt or upgraded hybrid may plan differently.
	self := plan.StampFiles(exe)
	mac.Write(self.Digest[:])
	field(dir)
	environ := slices.Sorted(slices.Values(os.Environ()))
	field(fmt.Sprint(len(environ)))
	for _, kv := range environ {
		field(kv)
	}
	field(fmt.Sprint(len(req.Inputs.Environ)))
	for _, kv := range req.Inputs.Environ {
		field(kv)
	}
	for _, a := range req.Inputs.Args {
		field(fmt.Sprint(a.File))
		field(a.Value)
		if a.File {
			// A var file may live outside the workspace: its bytes, or
			// why they cannot be read, are inputs.
			b, err := os.ReadFile(a.Value)
			if err != nil {
				field("error " + err.Error())
			} else {
				field(plan.Digest(b))
			}
		}
	}
	field(fmt.Sprintf("targets %q envs %q refresh %t lock %t", req.Targets, req.Envs, !req.NoRefresh, !req.NoLock))
	mac.Write(stamp.Digest[:])
	// What git status reports of the checkouts also depends on git and
	// its settings outside the workspace.
	git := plan.StampFiles(gitFiles()...)
	mac.Write(git.Digest[:])
	unsettled := stamp.Unsettled
	if unsettled == "" {
		unsettled = git.Unsettled
	}
	slog.Debug("phase", "phase", "stamp the workspace", "duration", time.Since(start).Round(time.Microsecond), "entries", stamp.Entries)
	return &planMemo{
		path:      filepath.Join(stateDir, plan.MemoFilename),
		dir:       dir,
		inputs:    mac.Sum(nil),
		unsettled: unsettled,
	}
}

// gitFiles are the files outside the workspace that change what git
// reports of a checkout: the git binary on PATH and git's system, global
// and XDG settings, excludes and attributes (a core.excludesFile elsewhere
// is not among them).
func gitFiles() []string {
	var files []string
	if bin, err := exec.LookPath("git"); err == nil {
		files = append(files, bin)
	}
	files = append(files, "/etc/gitconfig")
	home, _ := os.UserHomeDir()
	if g := os.Getenv("GIT_CONFIG_GLOBAL"); g != "" {
		files = append(files, g)
	} else if home != "" {
		files = append(files, filepath.Join(home, ".gitconfig"))
	}
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" && home != "" {
		xdg = filepath.Join(home, ".config")
	}
	if xdg != "" {
		for _, f := range []string{"config", "ignore", "attributes"} {
			files = append(files, filepath.Join(xdg, "git", f))
		}
	}
	return files
}

// memoHit is a plan reused from the memo.
type memoHit struct {
	plan  *plan.Plan
	needs []pluginNeed
	// diags are the warnings of taking the state lock.
	diags hcl.Diagnostics
}

// lookup returns the memo's plan when it was made from these very inputs
// against the state as it is now, read under the state lock as a plan
// reads it; nil otherwise, and the caller makes the plan.
func (m *planMemo) lookup(ctx context.Context, req planRequest) *memoHit {
	if m == nil {
		return nil
	}
	start := time.Now()
	rec := plan.ReadMemo(m.path)
	if rec == nil || !hmac.Equal(rec.Inputs, m.inputs) {
		slog.Debug("plan memo", "reused", false, "why", "the workspace, environment or options moved since the last plan")
		return nil
	}
	// Unchanged inputs mean an unchanged hybrid.hcl: the state is the
	// local one in the default directory, where the memo was kept.
	cfg := &config.Config{Dir: m.dir, Settings: config.Settings{Dirs: config.DefaultDirectories}}
	store, d := openStateStore(ctx, cfg)
	if d.HasErrors() || store.local == nil {
		return nil
	}
	var diags hcl.Diagnostics
	if store.exists() && !req.NoLock {
		if d := store.prepare(); d.HasErrors() {
			return nil
		}
		// A lock that cannot be had is for the plan to report, with
		// its usual message.
		unlock, err := lockState(ctx, store.backend, "plan", req.LockTimeout)
		if err != nil {
			return nil
		}
		defer unlock()
		diags = takeoverDiags(store.backend, "If that run was interrupted, this plan shows what it did not finish.")
	}
	key, err := store.local.Key(ctx)
	if err != nil || !rec.Matches(m.inputs, key) {
		m.pending = diags
		slog.Debug("plan memo", "reused", false, "why", "the state moved since the last plan")
		return nil
	}
	hit, err := decodeHit(rec)
	if err != nil {
		m.pending = diags
		slog.Debug("plan memo", "reused", false, "why", err)
		return nil
	}
	hit.diags = diags
	slog.Debug("phase", "phase", "reuse the last plan", "duration", time.Since(start).Round(time.Microsecond))
	slog.Debug("plan memo", "reused", true, "why", "nothing the last plan was made from moved; "+memoEnv+"=off plans from scratch")
	return hit
}

// decodeHit returns the plan a memo holds, with the plugins its builds
// need.
func decodeHit(rec *plan.Memo) (*memoHit, error) {
	p, err := rec.DecodePlan()
	if err != nil {
		return nil, err
	}
	hit := &memoHit{plan: p}
	if err := json.Unmarshal(rec.Extra, &hit.needs); err != nil {
		return nil, fmt.Errorf("decode the plan memo: %w", err)
	}
	return hit, nil
}

// keep saves p, made by pd without any diagnostic, for the next plan, when
// it may be: see planMemo.
func (m *planMemo) keep(pd *planned, p *plan.Plan, needs []pluginNeed) {
	if m == nil || p == nil || pd == nil || pd.ws == nil || pd.stateKey == "" {
		return
	}
	if m.unsettled != "" {
		slog.Debug("plan memo: not kept", "why", m.unsettled)
		return
	}
	if pd.ws.Config.Settings.Dirs.State != config.DefaultDirectories.State || pd.ws.Config.Settings.Backend.Type == config.BackendPG {
		return
	}
	extra, err := json.Marshal(needs)
	if err != nil {
		return
	}
	rec, err := plan.NewMemo(m.inputs, pd.stateKey, p, extra)
	if err != nil {
		slog.Debug("plan memo: not kept", "error", err)
		return
	}
	// The memo only spares the next plan work: failing to keep it
	// changes nothing.
	if err := rec.Write(m.path); err != nil {
		slog.Debug("plan memo: not kept", "error", err)
	}
}

// pendingDiags returns the warnings of a lookup whose plan was not used.
func (m *planMemo) pendingDiags() hcl.Diagnostics {
	if m == nil {
		return nil
	}
	return m.pending
}
