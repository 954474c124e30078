package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/fsutil"
	"github.com/hybridcore/hybrid/packer"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// MachineLogSuffix ends the name of a build's machine-readable log: packer's
// -machine-readable stream as it wrote it, kept as <time>.machine.log beside
// the log people read, <time>.log, which the state records.
const MachineLogSuffix = ".machine.log"

// build runs packer for one build node and records the result.
func (a *applier) build(ctx context.Context, c *plan.Change, nr *NodeResult) error {
	b := a.builds[c.Address]
	if b == nil {
		return fmt.Errorf("%s is not in the workspace", c.Address)
	}
	cfg := a.opts.Workspace.Config
	img := b.Image
	if err := a.checkCheckouts(ctx, b); err != nil {
		return err
	}
	// The var file packer reads: on a fresh checkout of the workspace the
	// render is recorded (so not planned) but its file is not there yet.
	if err := a.ensureRender(b); err != nil {
		return err
	}

	// Two logs: what packer would have printed on a terminal, for people
	// (the one the state records), and its machine-readable stream.
	logBase := filepath.ToSlash(filepath.Join(cfg.Settings.Dirs.Logs, b.Env, img.Name,
		a.opts.Now().UTC().Format("20060102T150405.000Z")))
	logRel, machineRel := logBase+".log", logBase+MachineLogSuffix
	// Through os.Root: no link planted under logs/ sends a log elsewhere.
	root := a.opts.Workspace.Files.Workspace()
	if root == nil {
		return fmt.Errorf("cannot open the workspace to write %s", logRel)
	}
	logFile, err := root.Create(logRel, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	machineFile, err := root.Create(machineRel, 0o600)
	if err != nil {
		return err
	}
	defer machineFile.Close()
	nr.LogPath = logRel

	vars := map[string]string{}
	for name, v := range b.Render.Sensitive {
		vars[name] = config.EnvValue(v)
	}
	var env []string
	if _, ok := b.Template.Variables[plan.UpstreamVariable]; ok && len(img.DependsOn) > 0 {
		var upstream string
		a.opts.State.View(func(s *state.State) { upstream = upstreamValue(s, b.Env, img.DependsOn) })
		env = append(env, "PKR_VAR_"+plan.UpstreamVariable+"="+upstream)
	}
	if a.opts.Children != nil {
		// Everything packer starts carries the lock's ID, so a hybrid
		// that takes the lock over after this one died finds it all.
		if kv := a.opts.Children.ChildEnv(); kv != "" {
			env = append(env, kv)
		}
	}
	inv := packer.Invocation{
		Bin:     a.opts.PackerBin,
		WorkDir: filepath.Join(cfg.Dir, filepath.FromSlash(img.WorkingDir)),
		// Absolute, so path.root is too: file("${path.root}/...")
		// resolves as the template means it from any working directory.
		Template: filepath.Join(cfg.Dir, filepath.FromSlash(img.Template)),
		Only:     []string{b.Only},
		VarFiles: []string{fsutil.Rel(img.WorkingDir, b.Render.Path)},
		Vars:     vars,
		Env:      env,
		Secrets:  b.SecretStrings(),
	}
	header := fmt.Sprintf("# hybrid: %s\n# packer %s (in %s)\n", c.Address, strings.Join(inv.Args("build"), " "), img.WorkingDir)
	io.WriteString(logFile, header)
	io.WriteString(machineFile, header)

	// A heartbeat, so a pipeline log shows every running build and how
	// long it has run, also when the build is quiet (waiting for an
	// instance to boot, or for SSH).
	done := make(chan struct{})
	// The heartbeat is over before the node is: no StillRunning after
	// NodeFinished.
	var heartbeat sync.WaitGroup
	defer heartbeat.Wait()
	defer close(done)
	if a.opts.Sink != nil {
		a.heartbeat(c.Address, a.opts.Now(), done, &heartbeat)
	}
	onEvent := func(ev packer.Event) {
		line, ok := eventLine(ev)
		if !ok {
			return
		}
		if a.opts.Sink != nil {
			a.opts.Sink.Output(c.Address, line)
		}
	}
	// Past its timeout the build is interrupted, and StopGrace later
	// killed; the apply's own stops reach it through ctx and a.hard.
	bctx, hard := ctx, a.hard
	if timeout := a.timeoutOf(b); timeout > 0 {
		var cancel, stopHard context.CancelFunc
		bctx, cancel = context.WithTimeoutCause(ctx, timeout, &timeoutError{after: timeout})
		defer cancel()
		hard, stopHard = a.killAfterGrace(bctx)
		defer stopHard()
	}
	var trackErr error
	track := func(pid int) (func(), error) {
		if a.opts.Children == nil {
			return nil, nil
		}
		if err := a.opts.Children.AddChild(state.Child{PID: pid, PGID: pid, What: "packer build for " + c.Address}); err != nil {
			trackErr = err
			return nil, err
		}
		return func() { a.opts.Children.RemoveChild(pid) }, nil
	}
	res, err := packer.Build(bctx, inv, packer.BuildOptions{
		Log: logFile, MachineLog: machineFile, OnEvent: onEvent, Hard: hard, Track: track,
		ManifestDepth: 3, ManifestSkip: managedDirs(cfg),
	})
	var startErr *packer.StartError
	switch {
	case errors.As(err, &startErr):
		// Recorded as a failed build like any other, with the operating
		// system's error: the state says why nothing was built.
		now := a.opts.Now()
		res = &packer.Result{Status: packer.StatusFailed, ExitCode: -1, Started: now, Finished: now, Error: startErr.Err.Error()}
		fmt.Fprintf(logFile, "hybrid: packer could not start: %s\n", startErr.Err)
	case res == nil:
		return fmt.Errorf("cannot run packer: %w", err)
	}
	if trackErr != nil {
		// Not recorded where the next hybrid would look, packer was
		// stopped at once: the state directory cannot be written.
		return &notRecordedError{did: "not built: packer was stopped as it started, as its process could not be recorded in the state lock info", err: &state.WriteError{Err: trackErr}}
	}
	nr.ExitCode = res.ExitCode
	rec := &state.Build{
		Env: b.Env, Image: img.Name, Inputs: c.Inputs,
		ManifestDigest: res.ManifestDigest, PackerRunUUID: res.PackerRunUUID,
		Started: res.Started.UTC(), Finished: res.Finished.UTC(), Duration: res.Duration,
		LogPath: logRel, ExitCode: res.ExitCode,
	}
	for _, art := range uniqueArtifacts(res.Artifacts) {
		rec.Artifacts = append(rec.Artifacts, art)
	}
	nr.Artifacts = rec.Artifacts
	var buildErr error
	switch res.Status {
	case packer.StatusSucceeded:
		rec.Status = state.StatusSucceeded
		rec.Fingerprint = c.After
	case packer.StatusCancelled:
		rec.Status = state.StatusFailed
		var te *timeoutError
		if errors.As(context.Cause(bctx), &te) {
			rec.Error = te.Error()
			nr.Outcome = TimedOut
			buildErr = te
			break
		}
		rec.Error = "interrupted"
		nr.Outcome = Cancelled
		buildErr = context.Canceled
	default:
		rec.Status = state.StatusFailed
		be := &BuildError{ExitCode: res.ExitCode, Message: workspaceRelative(cfg.Dir, res.Error), LogPath: logRel}
		if be.Message == "" {
			be.Message = "packer printed no error"
		}
		if be.ExitCode < 0 {
			be.Message = "packer could not start: " + be.Message
		}
		rec.Error = be.Message
		buildErr = be
	}
	// One commit: the build's record, the trees it read when it
	// succeeded (the Manager drops those no build refers to any more),
	// and the packer in use when it is not the one recorded.
	change := &state.Change{Builds: map[string]*state.Build{c.Address: rec}}
	var packerRec *state.Packer
	if a.opts.PackerVersion != "" {
		packerRec = &state.Packer{Version: a.opts.PackerVersion, Path: a.opts.PackerBin}
	}
	a.opts.State.View(func(s *state.State) {
		if old := s.Builds[c.Address]; rec.Status != state.StatusSucceeded && old != nil && (old.Status == state.StatusSucceeded || old.Status == state.StatusSkipped) {
			// Keep what the last good build produced (a skipped build
			// kept it too); the failed attempt only clears the
			// fingerprint so the next plan retries it.
			keep := *old
			keep.Status, keep.Error, keep.Fingerprint, keep.LogPath, keep.ExitCode = rec.Status, rec.Error, "", rec.LogPath, rec.ExitCode
			keep.RootCauses = nil
			rec = &keep
			change.Builds[c.Address] = rec
		}
		if packerRec != nil && (s.Packer == nil || *s.Packer != *packerRec) {
			change.Packer = packerRec
		}
	})
	if rec.Status == state.StatusSucceeded {
		change.Trees = c.Trees
	}
	if err := a.opts.State.Commit(change); err != nil {
		return &notRecordedError{did: buildDid(res.Status, rec, buildErr), err: err}
	}
	return buildErr
}

// buildDid says what a build did whose result could not be recorded.
func buildDid(status packer.Status, rec *state.Build, buildErr error) string {
	switch {
	case status == packer.StatusSucceeded && len(rec.Artifacts) > 0:
		return "built (artifact " + rec.Artifacts[0].ID + ")"
	case status == packer.StatusSucceeded:
		return "built"
	case status == packer.StatusCancelled && errors.Is(buildErr, context.Canceled):
		return "interrupted"
	case status == packer.StatusCancelled:
		return buildErr.Error()
	}
	return fmt.Sprintf("failed (packer exit status %d)", rec.ExitCode)
}

// timeoutOf is how long build b may run: its image's build_timeout, else
// the hybrid block's; 0 means no limit.
func (a *applier) timeoutOf(b *plan.Build) time.Duration {
	return b.Image.BuildTimeout
}

// killAfterGrace returns the hard context of a build run with ctx: done
// when a.hard is, or StopGrace after ctx ended by the build's timeout (an
// interrupt from a person waits for a second one instead). Call the
// returned function when the build is over.
func (a *applier) killAfterGrace(ctx context.Context) (context.Context, context.CancelFunc) {
	hard, cancel := context.WithCancel(a.hard)
	go func() {
		select {
		case <-ctx.Done():
		case <-hard.Done():
			return
		}
		var te *timeoutError
		if !errors.As(context.Cause(ctx), &te) {
			return
		}
		t := time.NewTimer(a.opts.StopGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-hard.Done():
		}
	}()
	return hard, cancel
}

// uniqueArtifacts drops the copies post-processors pass through: packer
// lists the builder's artifact again after a manifest post-processor.
func uniqueArtifacts(arts []packer.Artifact) []state.Artifact {
	var out []state.Artifact
	seen := map[string]bool{}
	for _, a := range arts {
		key := a.BuilderID + "\x00" + a.ID + "\x00" + strings.Join(a.Files, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, state.Artifact{BuilderID: a.BuilderID, ID: a.ID, String: a.String, Files: append([]string{}, a.Files...)})
	}
	return out
}

// eventLine turns a packer event into the line people see, or false for
// events that only machines read.
func eventLine(ev packer.Event) (string, bool) {
	if ui, ok := ev.UI(); ok {
		text := strings.TrimRight(ui.Text, "\n")
		if text == "" {
			return "", false
		}
		return text, true
	}
	switch ev.Type {
	case packer.TypeStderr, packer.TypeRaw:
		if len(ev.Data) > 0 && strings.TrimSpace(ev.Data[0]) != "" {
			return ev.Data[0], true
		}
	}
	return "", false
}

// BuildError is a packer build that failed: packer ran and exited with an
// error, or could not be started at all.
type BuildError struct {
	// ExitCode is packer's exit status; -1 when it could not start.
	ExitCode int
	// Message is packer's first error, whole (packer.Result.Error), with
	// workspace paths made relative; for a packer that could not start,
	// "packer could not start: " and the operating system's error. The
	// state records it as the build's error.
	Message string
	// LogPath is the build's log, workspace-relative.
	LogPath string
}

// Error is one line: the exit status, the first line of Message and the
// log to read for the rest.
func (e *BuildError) Error() string {
	first, _, _ := strings.Cut(e.Message, "\n")
	if e.ExitCode < 0 {
		return fmt.Sprintf("%s (log: %s)", first, e.LogPath)
	}
	return fmt.Sprintf("packer exited with status %d: %s (log: %s)", e.ExitCode, first, e.LogPath)
}

// workspaceRelative writes the paths packer prints inside the workspace
// (templates are passed to it by absolute path) relative to the workspace,
// so a recorded error reads the same on every machine.
func workspaceRelative(dir, text string) string {
	return strings.ReplaceAll(text, dir+string(filepath.Separator), "")
}

// managedDirs are the directories hybrid manages, never searched for
// manifests.
func managedDirs(cfg *config.Config) []string {
	d := cfg.Settings.Dirs
	var out []string
	for _, p := range []string{d.Sources, d.Configs, d.State, d.Logs} {
		out = append(out, filepath.Join(cfg.Dir, filepath.FromSlash(p)))
	}
	return out
}

// heartbeat reports addr as still running, with the time since start, every
// Options.Heartbeat until done is closed; wg counts the reporter, so a
// caller can wait for it to end before reporting the node finished.
func (a *applier) heartbeat(addr string, start time.Time, done <-chan struct{}, wg *sync.WaitGroup) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(a.opts.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				a.opts.Sink.StillRunning(addr, a.opts.Now().Sub(start).Round(time.Second))
			}
		}
	}()
}
