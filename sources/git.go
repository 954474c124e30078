package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Git runs the git CLI for hybrid. The zero value runs "git" from PATH with
// the process environment; NewGit resolves the binary once.
//
// Every command runs with hybrid's safety settings on top of Env: no prompts
// (GIT_TERMINAL_PROMPT=0, GCM_INTERACTIVE=never, ssh BatchMode, stdin at EOF,
// no controlling terminal), the ext:: and fd:: transports disabled
// (protocol.<name>.allow=never), no optional locks (so reading a checkout
// never rewrites its index), and repository-selecting variables such as
// GIT_DIR and GIT_WORK_TREE removed, so an inherited GIT_DIR (hybrid run from
// a git hook) cannot point a command at another repository.
//
// SSH: when the user has set GIT_SSH_COMMAND, GIT_SSH or core.sshCommand to
// OpenSSH ("ssh ..."), hybrid keeps it and appends "-o BatchMode=yes"; when it
// names another program (plink, a wrapper script), hybrid leaves it as it is
// and relies on git having no terminal to prompt on; when none is set, hybrid
// uses "ssh -o BatchMode=yes". The user's ~/.ssh/config and agent still apply.
type Git struct {
	// Bin is the git executable; empty means "git" looked up on PATH.
	Bin string
	// Env is the environment git starts from; nil means os.Environ().
	Env []string
	// Stderr, when set, also receives git's standard error as it is written.
	// It is always captured too, for error messages.
	Stderr io.Writer
}

// NewGit returns a Git using the git found on PATH, or an error saying how to
// install it.
func NewGit() (*Git, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("git not found on PATH: install git 2.24 or newer: %w", err)
	}
	return &Git{Bin: bin}, nil
}

// Version returns the version git reports, such as "2.39.5".
func (g *Git) Version(ctx context.Context) (string, error) {
	out, err := g.run(ctx, "", g.environ(nil), "version")
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(out))
	if len(f) < 3 || f[0] != "git" || f[1] != "version" {
		return "", fmt.Errorf("git version printed %q, not \"git version X\"; check that %s is git", strings.TrimSpace(string(out)), g.bin())
	}
	return f[2], nil
}

func (g *Git) bin() string {
	if g.Bin == "" {
		return "git"
	}
	return g.Bin
}

// globalArgs come before every git subcommand. They have the highest
// precedence of all configuration, so no config file can turn ext:: back on.
var globalArgs = []string{
	"-c", "protocol.ext.allow=never",
	"-c", "protocol.fd.allow=never",
	"-c", "advice.detachedHead=false",
	// A gc or maintenance run that a fetch starts stays in git's process
	// group, supervised with it, instead of detaching into the background
	// where it would outlive hybrid.
	"-c", "gc.autoDetach=false",
	"-c", "maintenance.autoDetach=false",
}

// repoSelectingEnv are the variables that make git use a repository other
// than the one found from its working directory (git rev-parse
// --local-env-vars, minus the configuration ones, which the user may rely on
// for credentials).
var repoSelectingEnv = map[string]bool{
	"GIT_DIR": true, "GIT_WORK_TREE": true, "GIT_COMMON_DIR": true,
	"GIT_INDEX_FILE": true, "GIT_OBJECT_DIRECTORY": true,
	"GIT_ALTERNATE_OBJECT_DIRECTORIES": true, "GIT_IMPLICIT_WORK_TREE": true,
	"GIT_GRAFT_FILE": true, "GIT_SHALLOW_FILE": true, "GIT_NAMESPACE": true,
	"GIT_NO_REPLACE_OBJECTS": true, "GIT_REPLACE_REF_BASE": true,
	"GIT_PREFIX": true, "GIT_INTERNAL_SUPER_PREFIX": true,
}

// environ returns the environment for git commands: Env (or the process
// environment) without repository-selecting variables, plus hybrid's
// no-prompt settings, plus sshCommand when it is set.
func (g *Git) environ(ssh *string) []string {
	base := g.Env
	if base == nil {
		base = os.Environ()
	}
	env := make([]string, 0, len(base)+5)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if repoSelectingEnv[k] {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GIT_TERMINAL_PROMPT=0",
		"GCM_INTERACTIVE=never",
		"GIT_OPTIONAL_LOCKS=0",
	)
	if ssh != nil {
		env = append(env, "GIT_SSH_COMMAND="+*ssh)
	}
	return env
}

// networkEnv returns the environment for commands that may reach a remote:
// environ plus the ssh command chosen by batchSSHCommand. core.sshCommand is
// read with git config in dir, so conditional includes for that directory
// apply.
func (g *Git) networkEnv(ctx context.Context, dir string) ([]string, error) {
	base := g.environ(nil)
	get := func(key string) string {
		v := ""
		for _, kv := range base {
			if k, val, ok := strings.Cut(kv, "="); ok && k == key {
				v = val
			}
		}
		return v
	}
	core := ""
	if get("GIT_SSH_COMMAND") == "" && get("GIT_SSH") == "" {
		out, err := g.run(ctx, dir, base, "config", "--get", "core.sshCommand")
		switch {
		case err == nil:
			core = strings.TrimSpace(string(out))
		case exitCode(err) == 1: // not set
		default:
			return nil, err
		}
	}
	if ssh, ok := batchSSHCommand(get("GIT_SSH_COMMAND"), get("GIT_SSH"), core); ok {
		return g.environ(&ssh), nil
	}
	return base, nil
}

// batchSSHCommand decides the GIT_SSH_COMMAND hybrid sets, from the user's
// GIT_SSH_COMMAND, GIT_SSH and core.sshCommand (in git's order of
// precedence). It returns false when the user's setting must stay untouched.
func batchSSHCommand(envCommand, envSSH, coreCommand string) (string, bool) {
	const batch = " -o BatchMode=yes"
	withBatch := func(cmd string) (string, bool) {
		if !isOpenSSH(cmd) || strings.Contains(cmd, "BatchMode") {
			return "", false
		}
		return cmd + batch, true
	}
	switch {
	case envCommand != "":
		return withBatch(envCommand)
	case envSSH != "":
		// GIT_SSH is a program, not a shell command: quote it.
		if filepath.Base(strings.TrimSuffix(strings.ToLower(envSSH), ".exe")) != "ssh" {
			return "", false
		}
		return shellQuote(envSSH) + batch, true
	case coreCommand != "":
		return withBatch(coreCommand)
	}
	return "ssh" + batch, true
}

// isOpenSSH reports whether the shell command cmd runs a program named ssh.
func isOpenSSH(cmd string) bool {
	cmd = strings.TrimSpace(cmd)
	prog := cmd
	if q := cmd[:min(1, len(cmd))]; q == `"` || q == "'" {
		if end := strings.Index(cmd[1:], q); end >= 0 {
			prog = cmd[1 : 1+end]
		}
	} else if f := strings.Fields(cmd); len(f) > 0 {
		prog = f[0]
	}
	prog = strings.ToLower(prog)
	prog = strings.TrimSuffix(filepath.Base(prog), ".exe")
	return prog == "ssh"
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// waitDelay bounds how long a cancelled git may take to exit after SIGTERM
// before its process group is killed.
const waitDelay = 10 * time.Second

// run runs git args in dir (the current directory when empty) with env and
// returns its standard output. Standard input is the null device. A failure
// is a *commandError carrying git's standard error.
func (g *Git) run(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	return g.runInput(ctx, dir, env, nil, args...)
}

// runInput is run with stdin as git's standard input (the null device when
// nil).
//
// git runs supervised: it leads a process group of its own (detach), dies
// with hybrid on Linux (dieWithParent), its whole group is killed when ctx
// ends and SIGTERM was not enough (superviseGroup), and while it runs the
// lock of the source being synced, if ctx carries one, records its group so
// that the next hybrid can end it if this one is killed.
func (g *Git) runInput(ctx context.Context, dir string, env []string, stdin io.Reader, args ...string) ([]byte, error) {
	argv := append(append([]string{}, globalArgs...), args...)
	logCommand(g.bin(), dir, argv)
	start := time.Now()
	cmd := exec.CommandContext(ctx, g.bin(), argv...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if g.Stderr != nil {
		cmd.Stderr = io.MultiWriter(&stderr, g.Stderr)
	}
	// A little longer than superviseGroup waits, so the group is killed
	// while git, its leader, is still there to be waited for.
	cmd.WaitDelay = waitDelay + time.Second
	detach(cmd)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("git %s: %w", args[0], ctx.Err())
		}
		return nil, fmt.Errorf("cannot run %s: install git 2.24 or newer, or put it on PATH: %w", g.bin(), err)
	}
	sup := supervisorFrom(ctx)
	if sup != nil {
		sup.started(cmd.Process.Pid)
	}
	stop := superviseGroup(ctx, cmd)
	err := cmd.Wait()
	stop()
	if sup != nil {
		sup.ended()
	}
	logDone(args, start, err)
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], ctx.Err())
	}
	return stdout.Bytes(), &commandError{args: args, stderr: stderr.String(), err: err}
}

// commandError is a git command that ran and failed.
type commandError struct {
	args   []string
	stderr string
	err    error
}

func (e *commandError) Error() string {
	msg := strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(e.stderr), "\n", "; ")), " ")
	const max = 600
	if len(msg) > max {
		msg = msg[:max] + "..."
	}
	if msg == "" {
		msg = e.err.Error()
	}
	if strings.Contains(e.stderr, "end-of-options") {
		msg += " (hybrid needs git 2.24 or newer)"
	}
	return fmt.Sprintf("git %s: %s", e.args[0], msg)
}

func (e *commandError) Unwrap() error { return e.err }

// exitCode returns the exit status of a failed git command, or -1.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
