package packer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Status is how a build ended.
type Status string

// Build statuses.
const (
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// errorTail is how many error lines a failed Result keeps.
const errorTail = 20

// maxLine bounds one line of packer output held in memory; a longer line is
// handled in pieces of this size.
const maxLine = 1 << 20

// waitDelay bounds how long Build waits for packer's output pipes to close
// after packer exited (a leftover child may hold them open).
const waitDelay = 5 * time.Second

// errNotStarted is a build cancelled before packer was started.
var errNotStarted = errors.New("cancelled before packer started")

// BuildOptions are the caller's hooks into a running build.
type BuildOptions struct {
	// Log receives packer's output as packer would have printed it on a
	// terminal: its messages as text (escapes undone, multi-line messages
	// on their lines), what it wrote to stderr, and nothing of the
	// machine-readable records that are not messages (artifact details,
	// error counts). Sensitive values are redacted. It is the per-build
	// log a person reads.
	Log io.Writer
	// MachineLog receives packer's full output, stdout and stderr line by
	// line, exactly as packer wrote it in -machine-readable form
	// (sensitive values redacted): the record a program reads.
	MachineLog io.Writer
	// OnEvent receives each line as a typed Event while packer runs, in
	// order, from one goroutine at a time. A slow OnEvent slows packer down.
	OnEvent func(Event)
	// ManifestDirs are the directories to look in for the manifest files
	// the build writes, relative to the Invocation's WorkDir or absolute.
	// Empty means the WorkDir.
	ManifestDirs []string

	// ManifestDepth, when positive, also searches the subdirectories of
	// ManifestDirs down to that many levels (hidden ones left out), listed
	// afresh after the build so a directory the build created is searched
	// too. ManifestSkip names directories never to enter.
	ManifestDepth int
	ManifestSkip  []string
	// Hard, when it is done, kills packer and its plugins at once (SIGKILL
	// to its process group). Nil means never: after the build's context
	// ends, packer gets SIGINT and as long as it needs to clean up.
	Hard context.Context
	// Track, when set, is called as soon as packer has started, with its
	// process ID, which is also the ID of the process group that holds
	// everything packer starts, so the caller can record it (hybrid
	// records it in the state lock info). The untrack function it returns
	// is called once packer has been reaped. An error stops packer at
	// once, with SIGKILL to its group, and Build returns it.
	Track func(pid int) (untrack func(), err error)
}

// Result is what one packer build did.
type Result struct {
	Status Status
	// ExitCode is packer's exit status; 128+N when signal N killed it; -1
	// when it never ran.
	ExitCode int
	// Artifacts are the artifacts packer printed on its machine-readable
	// output, in order.
	Artifacts []Artifact
	// PackerRunUUID is the packer run that wrote ManifestBuilds.
	PackerRunUUID string
	// ManifestPath is the manifest file the build wrote, "" if none; the
	// first of Manifests.
	ManifestPath string
	// ManifestDigest is the hex SHA-256 of ManifestPath's content as the
	// build left it.
	ManifestDigest string
	// Manifests are all the manifest files the build wrote to, by path.
	// There are several when the output name holds a timestamp and the
	// builds of one run finished in different seconds.
	Manifests []ManifestRef
	// ManifestBuilds are the manifests' entries from this build.
	ManifestBuilds []ManifestBuild
	// Started and Finished bound packer's run.
	Started, Finished time.Time
	Duration          time.Duration
	// LogPath is where the caller stored the log; Build leaves it empty.
	LogPath string
	// Error is, for a build that did not succeed, the first error packer
	// reported, whole: the message of its machine-readable "error" record
	// for the build, or the first "Error:" block of its output (an HCL
	// diagnostic, with its location and detail), whichever came first;
	// when it reported neither, its first line of error output. Messages
	// packer wraps over several lines keep their lines.
	Error string
	// LastErrorLines are the last error lines (ui errors and stderr) of a
	// build that did not succeed, for context.
	LastErrorLines []string
}

// StartError is a build whose packer could not be started: the binary is
// missing, not executable or not a program for this machine ("exec format
// error"), or its working directory cannot be entered. Err is the
// operating system's error.
type StartError struct{ Err error }

// Error names the failure and where to look.
func (e *StartError) Error() string {
	return fmt.Sprintf("cannot start packer: %v; check the packer binary (HYBRID_PACKER) and the working directory", e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// Build runs `packer build -machine-readable` for inv, streaming its output
// to opts.Log and opts.OnEvent, and returns what it built.
//
// Packer runs in inv.WorkDir, in its own process group, with stdin closed.
// When ctx ends, packer's process group gets SIGINT so it stops and cleans
// up; when opts.Hard ends, it gets SIGKILL. Build always waits for packer to
// exit. After a stopped packer exits, whatever it left running in its process
// group is killed (on Linux, where that can be done without racing PID reuse).
// On Linux packer also dies with this process (a parent-death signal): a
// hybrid killed with SIGKILL does not leave it building. What packer started
// stays in its process group, which the caller records (opts.Track) so the
// next hybrid can end it.
//
// A build that failed or was cancelled is a Result with that Status and a
// nil error. The error is non-nil when packer could not be started (a
// *StartError; the Result is then nil), when opts.Track failed or when
// writing a log failed (the Result is then valid).
func Build(ctx context.Context, inv Invocation, opts BuildOptions) (*Result, error) {
	if err := inv.check(); err != nil {
		return nil, err
	}
	res := &Result{ExitCode: -1}
	if ctx.Err() != nil {
		res.Status = StatusCancelled
		res.Started = time.Now()
		res.Finished = res.Started
		return res, nil
	}

	if inv.WorkDir != "" {
		// exec reports a directory it cannot enter as the binary's own
		// error ("fork/exec /usr/bin/packer: no such file or directory"),
		// which sends people looking for the wrong file.
		if fi, err := os.Stat(inv.WorkDir); err != nil {
			return nil, &StartError{Err: fmt.Errorf("working directory: %w", err)}
		} else if !fi.IsDir() {
			return nil, &StartError{Err: fmt.Errorf("working directory %s is not a directory", inv.WorkDir)}
		}
	}
	roots := manifestDirs(inv.WorkDir, opts.ManifestDirs)
	before := snapshotManifests(expandDirs(roots, opts.ManifestDepth, opts.ManifestSkip))

	r := &buildRun{log: opts.Log, machineLog: opts.MachineLog, onEvent: opts.OnEvent, redact: inv.redactor()}
	stdout := &lineWriter{emit: r.stdoutLine}
	stderr := &lineWriter{emit: r.stderrLine}

	cmd := exec.Command(inv.bin(), inv.Args("build")...)
	inv.logCommand("build")
	cmd.Dir = inv.WorkDir
	cmd.Env = inv.environ()
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.WaitDelay = waitDelay
	newProcessGroup(cmd)
	dieWithParent(cmd)

	// Signals go to packer's process group only until packer has been
	// reaped, so they can never reach a process that reused its ID.
	var mu sync.Mutex
	exited, stopping := false, false
	send := func(signal func(*os.Process) error) {
		mu.Lock()
		defer mu.Unlock()
		stopping = true
		if !exited {
			_ = signal(cmd.Process)
		}
	}
	res.Started = time.Now()
	started := make(chan error, 1)
	waited := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that started
		// packer exits, not this process: this goroutine keeps that
		// thread to itself until packer is reaped, so that no goroutine
		// that locks the thread and exits can end it meanwhile.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if ctx.Err() != nil {
			// Cancelled since Build began: nothing is started.
			started <- errNotStarted
			return
		}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		peeked := awaitExit(cmd.Process.Pid)
		mu.Lock()
		if peeked && stopping {
			// Packer has stopped but is not reaped yet: kill what it left
			// behind in its group, such as a provisioner's script whose
			// wrapper shell packer killed.
			_ = killGroup(cmd.Process)
		}
		exited = peeked
		mu.Unlock()
		err := cmd.Wait()
		mu.Lock()
		exited = true
		mu.Unlock()
		waited <- err
	}()
	if err := <-started; err == errNotStarted {
		res.Status = StatusCancelled
		res.Finished = time.Now()
		return res, nil
	} else if err != nil {
		return nil, &StartError{Err: err}
	}
	var trackErr error
	untrack := func() {}
	if opts.Track != nil {
		u, err := opts.Track(cmd.Process.Pid)
		switch {
		case err != nil:
			trackErr = err
			send(killGroup)
		case u != nil:
			untrack = u
		}
	}

	var hardDone <-chan struct{}
	if opts.Hard != nil {
		hardDone = opts.Hard.Done()
	}
	ctxDone := ctx.Done()
	stopped := trackErr != nil
	var waitErr error
wait:
	for {
		select {
		case waitErr = <-waited:
			break wait
		case <-ctxDone:
			stopped = true
			ctxDone = nil
			send(interruptGroup)
		case <-hardDone:
			stopped = true
			hardDone = nil
			send(killGroup)
		}
	}
	untrack()
	stdout.flush()
	stderr.flush()
	res.Finished = time.Now()
	res.Duration = res.Finished.Sub(res.Started)
	slog.Debug("packer build exited", "only", strings.Join(inv.Only, ","), "exit_code", exitCodeOrNone(cmd.ProcessState), "duration", res.Duration.Round(time.Millisecond))

	if cmd.ProcessState == nil {
		return nil, fmt.Errorf("wait for packer build: %w", waitErr)
	}
	res.ExitCode = exitCode(cmd.ProcessState)
	res.Artifacts = r.artifacts.artifacts()
	switch {
	// Packer 1.9.4 exits 0, having built nothing, when the interrupt lands
	// while it starts its worker: only a run that reported artifacts
	// finished before the signal.
	case stopped && (res.ExitCode != 0 || len(res.Artifacts) == 0):
		res.Status = StatusCancelled
	case res.ExitCode == 0:
		res.Status = StatusSucceeded
	default:
		res.Status = StatusFailed
	}
	if m, ok := findManifest(before, expandDirs(roots, opts.ManifestDepth, opts.ManifestSkip), inv.Only, res.Artifacts); ok {
		res.Manifests = m.files
		res.ManifestPath = m.files[0].Path
		res.ManifestDigest = m.files[0].Digest
		res.PackerRunUUID = m.runUUID
		res.ManifestBuilds = m.builds
	}
	if res.Status != StatusSucceeded {
		res.LastErrorLines = r.errorLines()
		res.Error = r.firstError()
	}
	if trackErr != nil {
		return res, fmt.Errorf("packer build stopped at once: %w", trackErr)
	}
	if r.logErr != nil {
		return res, fmt.Errorf("write packer build log: %w; check free disk space and the log directory", r.logErr)
	}
	return res, nil
}

// exitCodeOrNone is the exit code of a process that ran, -1 otherwise.
func exitCodeOrNone(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	return exitCode(ps)
}

// manifestDirs resolves the directories to search for manifests.
func manifestDirs(workDir string, dirs []string) []string {
	if workDir == "" {
		workDir = "."
	}
	if len(dirs) == 0 {
		return []string{workDir}
	}
	out := make([]string, len(dirs))
	for i, d := range dirs {
		if filepath.IsAbs(d) {
			out[i] = d
		} else {
			out[i] = filepath.Join(workDir, d)
		}
	}
	return out
}

// buildRun handles the lines of one running build. Its methods are called
// from the stdout and stderr copying goroutines, so they take mu.
type buildRun struct {
	mu         sync.Mutex
	log        io.Writer
	machineLog io.Writer
	logErr     error
	onEvent    func(Event)
	redact     func(string) string
	artifacts  artifactCollector
	tail       []string // ring of the last errorTail error lines
	tailNext   int

	// first holds the lines of the first error (see Result.Error) once
	// one started; firstOpen is set while it is an "Error:" block on
	// stderr that may go on. firstLine is the first line of error
	// output, the fallback.
	first     []string
	firstOpen bool
	firstLine string
}

func (r *buildRun) stdoutLine(line string) {
	line = r.redact(line)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeMachine(line)
	e, ok := ParseLine(line)
	if !ok {
		e = Event{Time: time.Now().UTC(), Type: TypeRaw, Data: []string{line}}
		r.writeHuman(line)
		r.addError(line)
	} else {
		for i, d := range e.Data {
			// A secret made of packer's escapes shows only once unescaped.
			e.Data[i] = r.redact(d)
		}
		r.artifacts.add(e)
		if ui, ok := e.UI(); ok {
			r.writeHuman(ui.Text)
			if ui.Level == LevelError {
				if strings.HasPrefix(ui.Text, "Error: ") {
					r.noteError(ui.Text)
				}
				for _, l := range strings.Split(ui.Text, "\n") {
					r.addError(l)
				}
			}
		}
		if e.Type == "error" && e.Target != "" && len(e.Data) > 0 {
			// The build's own error: what made it fail.
			r.noteError(e.Data[0])
		}
	}
	if r.onEvent != nil {
		r.onEvent(e)
	}
}

func (r *buildRun) stderrLine(line string) {
	line = r.redact(strings.TrimSuffix(line, "\r"))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeMachine(line)
	r.writeHuman(line)
	switch {
	case diagStart.MatchString(line):
		r.firstOpen = false
		if strings.HasPrefix(line, "Error: ") && r.first == nil {
			r.first, r.firstOpen = []string{line}, true
		}
	case r.firstOpen:
		r.first = append(r.first, line)
	}
	r.addError(line)
	if r.onEvent != nil {
		r.onEvent(Event{Time: time.Now().UTC(), Type: TypeStderr, Data: []string{line}})
	}
}

// noteError keeps text as the first error, unless one came before it.
func (r *buildRun) noteError(text string) {
	if r.first == nil {
		r.first = strings.Split(text, "\n")
	}
	r.firstOpen = false
}

// firstError is Result.Error: the first error's text, without the
// "Error: " that starts an HCL diagnostic and the blank lines that end it.
func (r *buildRun) firstError() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.first == nil {
		return r.firstLine
	}
	text := strings.TrimSpace(strings.Join(r.first, "\n"))
	return strings.TrimPrefix(text, "Error: ")
}

func (r *buildRun) writeMachine(line string) {
	r.write(r.machineLog, line)
}

// writeHuman writes one message, which may hold several lines, to the
// human log.
func (r *buildRun) writeHuman(text string) {
	r.write(r.log, text)
}

func (r *buildRun) write(w io.Writer, line string) {
	if w == nil || r.logErr != nil {
		return
	}
	_, r.logErr = io.WriteString(w, line+"\n")
}

func (r *buildRun) addError(line string) {
	line = strings.TrimSpace(line)
	if line == "" || packerLogLine.MatchString(line) {
		return // PACKER_LOG's debug log on stderr holds no error of its own
	}
	if r.firstLine == "" {
		r.firstLine = line
	}
	if len(r.tail) < errorTail {
		r.tail = append(r.tail, line)
		return
	}
	r.tail[r.tailNext] = line
	r.tailNext = (r.tailNext + 1) % errorTail
}

// packerLogLine is a line of the debug log packer writes to stderr when
// PACKER_LOG is set: "2026/11/29 19:04:05 [INFO] ...".
var packerLogLine = regexp.MustCompile(`^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `)

// errorLines returns the kept error lines, oldest first.
func (r *buildRun) errorLines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tail) == 0 {
		return nil
	}
	out := make([]string, 0, len(r.tail))
	out = append(out, r.tail[r.tailNext:]...)
	return append(out, r.tail[:r.tailNext]...)
}

// lineWriter splits what is written to it into lines (without the newline)
// and hands each to emit. Lines longer than maxLine are emitted in pieces.
type lineWriter struct {
	buf  []byte
	emit func(string)
}

// Write splits p into lines; it never fails.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			for len(w.buf) >= maxLine {
				w.emit(string(w.buf[:maxLine]))
				w.buf = append(w.buf[:0], w.buf[maxLine:]...)
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		for len(w.buf) > maxLine {
			w.emit(string(w.buf[:maxLine]))
			w.buf = append(w.buf[:0], w.buf[maxLine:]...)
		}
		w.emit(string(w.buf))
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// flush emits a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = w.buf[:0]
	}
}

// maxManifestDirs bounds how many directories one search reads.
const maxManifestDirs = 256

// expandDirs returns roots and, breadth first, their subdirectories down to
// depth levels, without hidden directories and those in skip.
func expandDirs(roots []string, depth int, skip []string) []string {
	if depth <= 0 {
		return roots
	}
	skipped := make(map[string]bool, len(skip))
	for _, s := range skip {
		skipped[filepath.Clean(s)] = true
	}
	out := append([]string{}, roots...)
	level := roots
	for d := 0; d < depth && len(out) < maxManifestDirs; d++ {
		var next []string
		for _, dir := range level {
			entries, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range entries {
				p := filepath.Join(dir, e.Name())
				if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || skipped[p] || len(out) >= maxManifestDirs {
					continue
				}
				out = append(out, p)
				next = append(next, p)
			}
		}
		level = next
	}
	return out
}
