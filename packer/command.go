package packer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
)

// CommandError is a packer command that ran and exited non-zero.
type CommandError struct {
	// Command is the packer subcommand ("validate", "fmt").
	Command string
	// ExitCode is packer's exit status.
	ExitCode int
	// Detail is the first error line of packer's output, if any.
	Detail string
}

// Error says which command failed, why, and where to look.
func (e *CommandError) Error() string {
	msg := fmt.Sprintf("packer %s failed with exit status %d", e.Command, e.ExitCode)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg + "; see packer's output for details"
}

// output is what a short packer command printed.
type output struct {
	stdout, combined []byte
	exitCode         int
}

// runShort runs a packer command that does not build anything, in its own
// process group, and kills the group if ctx ends. It returns an error only
// when packer could not be run; a non-zero exit is in output.exitCode.
func runShort(ctx context.Context, bin, dir string, env, args []string) (output, error) {
	var buf outputBuffers
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = streamWriter{&buf, true}
	cmd.Stderr = streamWriter{&buf, false}
	newProcessGroup(cmd)
	dieWithParent(cmd)
	cmd.Cancel = func() error { return killGroup(cmd.Process) }
	cmd.WaitDelay = 2 * time.Second
	err := runLocked(cmd)
	out := output{stdout: buf.stdout.Bytes(), combined: buf.combined.Bytes()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return out, fmt.Errorf("packer %s: %w", args[0], ctx.Err())
	case errors.As(err, &exitErr):
		out.exitCode = exitCode(exitErr.ProcessState)
	default:
		return out, fmt.Errorf("run packer %s: %w; check the packer binary (HYBRID_PACKER)", args[0], err)
	}
	return out, nil
}

// outputBuffers collects a command's stdout alone and, in arrival order,
// everything it printed; exec writes stdout and stderr from two goroutines.
type outputBuffers struct {
	mu               sync.Mutex
	stdout, combined bytes.Buffer
}

type streamWriter struct {
	b      *outputBuffers
	stdout bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	if w.stdout {
		w.b.stdout.Write(p)
	}
	return w.b.combined.Write(p)
}

// baseEnv is the environment of commands that take no variables.
func baseEnv() []string { return append(os.Environ(), "CHECKPOINT_DISABLE=1") }

var versionLine = regexp.MustCompile(`^Packer v([0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.+-]*)?)\s*$`)

// Version runs `packer version` and returns the version, "1.9.4". The
// update check is disabled so it never calls home.
func Version(ctx context.Context, bin string) (string, error) {
	logRun(bin, "", []string{"version"}, nil)
	out, err := runShort(ctx, bin, "", baseEnv(), []string{"version"})
	if err != nil {
		return "", err
	}
	if out.exitCode != 0 {
		return "", &CommandError{Command: "version", ExitCode: out.exitCode, Detail: firstLine(string(out.combined))}
	}
	return parseVersion(string(out.combined))
}

// parseVersion finds the "Packer vX.Y.Z" line in `packer version` output,
// which may be followed by a note that a newer version exists.
func parseVersion(out string) (string, error) {
	for _, line := range strings.Split(out, "\n") {
		if m := versionLine.FindStringSubmatch(strings.TrimRight(line, "\r")); m != nil {
			return m[1], nil
		}
	}
	return "", fmt.Errorf("unexpected `packer version` output %q; check that the binary is packer", firstLine(out))
}

// FmtOptions selects what Fmt does with the templates it is given.
type FmtOptions struct {
	// Check changes nothing and reports whether any file needs formatting,
	// as "packer fmt -check" does.
	Check bool
	// Diff prints the changes as unified diffs, as "packer fmt -diff" does.
	Diff bool
}

// FmtResult is what one "packer fmt" run reported.
type FmtResult struct {
	// Output is what packer printed on stdout: the name of every file it
	// formatted (with Check: would format), each followed by its diff with
	// Diff. Names are dir joined with the file name.
	Output []byte
	// Unformatted reports that, with Check, some file needs formatting
	// (packer exited with status 3).
	Unformatted bool
}

// Fmt runs "packer fmt" on the templates and var files directly in dir
// (*.pkr.hcl and *.pkrvars.hcl), rewriting them unless opts.Check. It
// returns a *CommandError when packer fails, for example on a file that
// does not parse; packer's own message is then in the error's Detail.
func Fmt(ctx context.Context, bin, dir string, opts FmtOptions) (*FmtResult, error) {
	args := []string{"fmt"}
	if opts.Check {
		args = append(args, "-check")
	}
	if opts.Diff {
		args = append(args, "-diff")
	}
	args = append(args, safePath(dir))
	logRun(bin, "", args, nil)
	out, err := runShort(ctx, bin, "", baseEnv(), args)
	if err != nil {
		return nil, err
	}
	switch {
	case out.exitCode == 0:
		return &FmtResult{Output: out.stdout}, nil
	case out.exitCode == 3 && opts.Check:
		return &FmtResult{Output: out.stdout, Unformatted: true}, nil
	}
	return nil, &CommandError{Command: "fmt", ExitCode: out.exitCode, Detail: errorDetail(string(out.combined))}
}

// FmtCheck runs "packer fmt -check" on the templates directly in dir and
// returns the files that need formatting, as packer names them (dir joined
// with the file name). It returns none when all are formatted.
func FmtCheck(ctx context.Context, bin, dir string) ([]string, error) {
	res, err := Fmt(ctx, bin, dir, FmtOptions{Check: true})
	if err != nil || !res.Unformatted {
		return nil, err
	}
	var files []string
	for _, line := range strings.Split(string(res.Output), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			files = append(files, line)
		}
	}
	return files, nil
}

// Validate runs `packer validate` for inv, with the same builds, var files
// and environment a build gets. It returns packer's output (sensitive values
// redacted) and a *CommandError when the template is not valid.
func Validate(ctx context.Context, inv Invocation) (string, error) {
	if err := inv.check(); err != nil {
		return "", err
	}
	inv.logCommand("validate")
	out, err := runShort(ctx, inv.bin(), inv.WorkDir, inv.environ(), inv.Args("validate"))
	text := inv.redactor()(string(out.combined))
	if err != nil {
		return text, err
	}
	if out.exitCode != 0 {
		return text, &CommandError{Command: "validate", ExitCode: out.exitCode, Detail: errorDetail(text)}
	}
	return text, nil
}

// errorDetail picks the most telling line of packer's error output: the
// first "Error: ..." line, else the first non-empty one.
func errorDetail(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "Error:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "Error:"))
		}
	}
	return firstLine(out)
}

func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// runLocked runs cmd on a thread this goroutine keeps to itself until cmd
// has exited: the parent-death signal (dieWithParent) fires when the thread
// that started cmd exits.
func runLocked(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return cmd.Run()
}
