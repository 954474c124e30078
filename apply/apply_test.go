package apply_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/packer"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// packerBin returns the packer binary the tests run: HYBRID_PACKER, else the
// pinned build in the repository's .tools/bin. Without one the test fails
// under CI=true and is skipped otherwise.
func packerBin(tb testing.TB) string {
	tb.Helper()
	bin := os.Getenv("HYBRID_PACKER")
	if bin == "" {
		bin = filepath.Join("..", ".tools", "bin", "packer")
	}
	abs, err := filepath.Abs(bin)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(abs); err == nil && fi.Mode()&0o111 == 0 {
			err = os.ErrPermission
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("packer is needed at %s: %v. Build it with scripts/packer or set HYBRID_PACKER.", bin, err)
		}
		tb.Skipf("packer not found at %s (%v); build it with scripts/packer or set HYBRID_PACKER", bin, err)
	}
	return abs
}

// copyFixture copies testdata/<name> into a fresh temporary directory and
// returns that directory.
func copyFixture(tb testing.TB, name string) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", name))); err != nil {
		tb.Fatalf("copy fixture %s: %v", name, err)
	}
	return dir
}

// planned is what hybrid apply holds between planning and applying: the
// workspace, its lockfile, the locked state backend and the state the plan
// was made against.
type planned struct {
	ws      *plan.Workspace
	lock    *lock.File
	backend *state.Local
	lockID  string
	state   *state.State
	plan    *plan.Plan
}

// unlock releases the state lock.
func (p *planned) unlock(tb testing.TB) {
	tb.Helper()
	if err := p.backend.Unlock(p.lockID); err != nil {
		tb.Errorf("unlock state: %v", err)
	}
}

// makePlan does what hybrid apply does before it runs anything: load the
// workspace in dir, read the lockfile, lock and read the state, and plan
// with the stat cache. The state stays locked; call unlock.
func makePlan(ctx context.Context, tb testing.TB, dir string) *planned {
	tb.Helper()
	ws, diags := plan.LoadWorkspace(dir, config.Inputs{})
	if diags.HasErrors() {
		tb.Fatalf("load workspace %s: %s", dir, diags.Error())
	}
	lockPath := filepath.Join(ws.Config.Dir, lock.DefaultFilename)
	lf, diags := lock.ReadWith(ws.Parser, lockPath)
	if diags.HasErrors() {
		tb.Fatalf("read lockfile: %s", diags.Error())
	}
	lockBytes, err := os.ReadFile(lockPath)
	if err != nil {
		tb.Fatal(err)
	}
	stateDir := filepath.Join(ws.Config.Dir, filepath.FromSlash(ws.Config.Settings.Dirs.State))
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	backend := state.NewLocal(filepath.Join(stateDir, "packer-hybrid.json"))
	id, err := backend.Lock(ctx, state.LockInfo{Operation: "apply"})
	if err != nil {
		tb.Fatalf("lock state: %v", err)
	}
	pd := &planned{ws: ws, lock: lf, backend: backend, lockID: id}
	if pd.state, err = backend.Read(ctx); err != nil {
		pd.unlock(tb)
		tb.Fatalf("read state: %v", err)
	}
	cachePath := filepath.Join(stateDir, plan.StatCacheFilename)
	cache := plan.LoadStatCache(cachePath)
	opts := plan.Options{
		State: pd.state, Lock: lf, LockDigest: plan.Digest(lockBytes),
		Hasher: plan.NewHasher(ws.Config.Dir, cache),
	}
	if lf.Packer != nil {
		opts.PackerVersion = lf.Packer.Version
	}
	p, diags := plan.Make(ctx, ws, opts)
	if diags.HasErrors() {
		pd.unlock(tb)
		tb.Fatalf("plan: %s", diags.Error())
	}
	if err := cache.Save(cachePath); err != nil {
		tb.Errorf("save stat cache: %v", err)
	}
	pd.plan = p
	return pd
}

// applyPlanned checks packer against the lockfile and applies the plan,
// as hybrid apply -auto-approve does.
func applyPlanned(ctx context.Context, tb testing.TB, pd *planned, bin string, parallelism int, sink apply.Sink) *apply.Result {
	tb.Helper()
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	version, err := packer.Version(vctx, bin)
	cancel()
	if err != nil {
		tb.Fatalf("packer version: %v", err)
	}
	if err := pd.lock.CheckPackerVersion(version); err != nil {
		tb.Fatalf("packer %s: %v", bin, err)
	}
	res, err := apply.Run(ctx, apply.Options{
		Workspace: pd.ws, Plan: pd.plan, State: state.NewManagerFor(pd.backend, pd.state),
		Lock: pd.lock, Parallelism: parallelism, PackerBin: bin, PackerVersion: version, Sink: sink,
	})
	if err != nil {
		tb.Fatalf("apply: %v", err)
	}
	return res
}

func TestRunFailureSkipsDependents(t *testing.T) {
	bin := packerBin(t)
	ctx := context.Background()
	dir := copyFixture(t, "failure")

	pd := makePlan(ctx, t, dir)
	res := applyPlanned(ctx, t, pd, bin, 4, nil)
	pd.unlock(t)

	outcomes := map[string]apply.Outcome{}
	var app apply.NodeResult
	for _, nr := range res.Nodes {
		outcomes[nr.Address] = nr.Outcome
		if nr.Address == "build.dev.linux-app" {
			app = nr
		}
	}
	wantOutcomes := map[string]apply.Outcome{
		"render.dev.linux-app":   apply.Succeeded,
		"render.dev.linux-base":  apply.Succeeded,
		"render.dev.linux-other": apply.Succeeded,
		"build.dev.linux-app":    apply.Skipped,
		"build.dev.linux-base":   apply.Failed,
		"build.dev.linux-other":  apply.Succeeded,
	}
	if diff := cmp.Diff(wantOutcomes, outcomes); diff != "" {
		t.Errorf("wrong outcomes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"build.dev.linux-base"}, app.RootCauses); diff != "" {
		t.Errorf("wrong root causes of the skipped build (-want +got):\n%s", diff)
	}
	if res.OK() {
		t.Error("OK() = true for an apply with a failed build")
	}
	if got := res.Count(plan.TypeBuild, apply.Failed); got != 1 {
		t.Errorf("Count(build, failed) = %d, want 1", got)
	}

	// The state on disk, as the next command reads it.
	st, err := state.NewLocal(pd.backend.Path()).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wantFingerprint string
	for _, c := range pd.plan.Changes {
		if c.Address == "build.dev.linux-other" {
			wantFingerprint = c.After
		}
	}
	other := st.Builds["build.dev.linux-other"]
	switch {
	case other == nil:
		t.Fatal("state has no entry for build.dev.linux-other, which succeeded")
	case other.Status != state.StatusSucceeded:
		t.Errorf("build.dev.linux-other: status %q, want %q", other.Status, state.StatusSucceeded)
	case wantFingerprint == "" || other.Fingerprint != wantFingerprint:
		t.Errorf("build.dev.linux-other: fingerprint %q, want the plan's %q", other.Fingerprint, wantFingerprint)
	}
	if other != nil {
		var files []string
		for _, a := range other.Artifacts {
			files = append(files, a.Files...)
		}
		if diff := cmp.Diff([]string{"output/linux-other.txt"}, files); diff != "" {
			t.Errorf("build.dev.linux-other: wrong artifact files (-want +got):\n%s", diff)
		}
		if _, err := os.Stat(filepath.Join(dir, "output", "linux-other.txt")); err != nil {
			t.Errorf("artifact file: %v", err)
		}
		if other.ManifestDigest == "" || other.PackerRunUUID == "" {
			t.Errorf("build.dev.linux-other: manifest digest %q, packer run %q; want both recorded", other.ManifestDigest, other.PackerRunUUID)
		}
	}
	base := st.Builds["build.dev.linux-base"]
	switch {
	case base == nil:
		t.Fatal("state has no entry for build.dev.linux-base, which failed")
	case base.Status != state.StatusFailed:
		t.Errorf("build.dev.linux-base: status %q, want %q", base.Status, state.StatusFailed)
	case base.Fingerprint != "":
		t.Errorf("build.dev.linux-base: fingerprint %q, want none for a failed build", base.Fingerprint)
	case base.ExitCode != 1:
		t.Errorf("build.dev.linux-base: exit code %d, want 1", base.ExitCode)
	case base.Error != "Script exited with non-zero exit status: 1. Allowed exit codes are: [0]":
		t.Errorf("build.dev.linux-base: error %q, want packer's error for the build", base.Error)
	}
	for _, log := range []string{base.LogPath, strings.TrimSuffix(base.LogPath, ".log") + apply.MachineLogSuffix} {
		if b, err := os.ReadFile(filepath.Join(dir, log)); err != nil || !strings.Contains(string(b), "base provisioning failed") {
			t.Errorf("log %s lacks the provisioner's message (%v)", log, err)
		}
	}
	wantSkip := &state.Build{Env: "dev", Image: "linux-app", Status: state.StatusSkipped, ExitCode: -1, RootCauses: []string{"build.dev.linux-base"}}
	if diff := cmp.Diff(wantSkip, st.Builds["build.dev.linux-app"], cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("wrong record of the skipped build (-want +got):\n%s", diff)
	}
	if st.LastRun == nil || st.LastRun.Outcome != "failed" {
		t.Errorf("last run %+v, want outcome failed", st.LastRun)
	}

	// The next plan holds only what did not finish.
	again := makePlan(ctx, t, dir)
	again.unlock(t)
	actions := map[string]plan.Action{}
	for _, c := range again.plan.Changes {
		if c.Action != plan.NoOp {
			actions[c.Address] = c.Action
		}
	}
	wantActions := map[string]plan.Action{
		"build.dev.linux-app":  plan.Create,
		"build.dev.linux-base": plan.Update,
	}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("wrong changes in the second plan (-want +got):\n%s", diff)
	}
}

// TestRunPackerCannotStart checks that a packer that cannot be started
// fails its build with the operating system's error, which the node's
// result, the state and the build's log all carry, and skips what depends
// on it.
func TestRunPackerCannotStart(t *testing.T) {
	ctx := context.Background()
	dir := copyFixture(t, "failure")
	bin := filepath.Join(t.TempDir(), "packer")
	if err := os.WriteFile(bin, []byte("\x7fELF\x02\x01\x01 not a program for this machine"), 0o755); err != nil {
		t.Fatal(err)
	}
	pd := makePlan(ctx, t, dir)
	res, err := apply.Run(ctx, apply.Options{
		Workspace: pd.ws, Plan: pd.plan, State: state.NewManagerFor(pd.backend, pd.state),
		Lock: pd.lock, Parallelism: 1, PackerBin: bin,
	})
	pd.unlock(t)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	want := "packer could not start: fork/exec " + bin + ": exec format error"
	var base apply.NodeResult
	for _, nr := range res.Nodes {
		if nr.Address == "build.dev.linux-base" {
			base = nr
		}
	}
	var be *apply.BuildError
	if !errors.As(base.Err, &be) || be.ExitCode != -1 || be.Message != want {
		t.Fatalf("build.dev.linux-base: %s, %v; want a BuildError with exit code -1 and %q", base.Outcome, base.Err, want)
	}
	if got, wantErr := base.Err.Error(), want+" (log: "+base.LogPath+")"; got != wantErr {
		t.Errorf("error = %q, want %q", got, wantErr)
	}
	st, err := state.NewLocal(pd.backend.Path()).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := st.Builds["build.dev.linux-base"]
	if rec == nil || rec.Status != state.StatusFailed || rec.ExitCode != -1 || rec.Error != want || rec.LogPath != base.LogPath {
		t.Errorf("state records %+v, want a failed build with exit code -1, error %q and log %s", rec, want, base.LogPath)
	}
	if b, err := os.ReadFile(filepath.Join(dir, base.LogPath)); err != nil || !strings.Contains(string(b), "exec format error") {
		t.Errorf("log %s lacks the error (%v):\n%s", base.LogPath, err, b)
	}
	if app := st.Builds["build.dev.linux-app"]; app == nil || app.Status != state.StatusSkipped {
		t.Errorf("state records %+v for build.dev.linux-app, want it skipped", app)
	}
}
