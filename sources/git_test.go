package sources

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBatchSSHCommand(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		envCommand, envSSH, core string
		want                     string
		set                      bool
	}{
		"nothing configured":       {want: "ssh -o BatchMode=yes", set: true},
		"user GIT_SSH_COMMAND":     {envCommand: "ssh -i ~/.ssh/deploy", want: "ssh -i ~/.ssh/deploy -o BatchMode=yes", set: true},
		"user command by path":     {envCommand: "/usr/bin/ssh -F cfg", want: "/usr/bin/ssh -F cfg -o BatchMode=yes", set: true},
		"quoted ssh path":          {envCommand: `"C:/Program Files/ssh.exe" -v`, want: `"C:/Program Files/ssh.exe" -v -o BatchMode=yes`, set: true},
		"already in batch mode":    {envCommand: "ssh -o BatchMode=yes"},
		"plink left alone":         {envCommand: "plink -batch"},
		"wrapper left alone":       {envCommand: "/opt/bin/my-ssh-wrapper"},
		"GIT_SSH program":          {envSSH: "/usr/bin/ssh", want: "'/usr/bin/ssh' -o BatchMode=yes", set: true},
		"GIT_SSH with quote":       {envSSH: "/o'k/ssh", want: `'/o'\''k/ssh' -o BatchMode=yes`, set: true},
		"GIT_SSH other program":    {envSSH: "/usr/bin/plink"},
		"core.sshCommand kept":     {core: "ssh -i key", want: "ssh -i key -o BatchMode=yes", set: true},
		"core.sshCommand wrapper":  {core: "wrap ssh"},
		"env wins over core":       {envCommand: "plink", core: "ssh"},
		"GIT_SSH_COMMAND wins too": {envCommand: "ssh", envSSH: "/usr/bin/plink", want: "ssh -o BatchMode=yes", set: true},
	}
	for name, tc := range tests {
		got, set := batchSSHCommand(tc.envCommand, tc.envSSH, tc.core)
		if got != tc.want || set != tc.set {
			t.Errorf("%s: batchSSHCommand = %q, %v; want %q, %v", name, got, set, tc.want, tc.set)
		}
	}
}

func TestEnviron(t *testing.T) {
	t.Parallel()
	g := &Git{Env: []string{
		"PATH=/bin", "GIT_DIR=/elsewhere/.git", "GIT_WORK_TREE=/elsewhere",
		"GIT_INDEX_FILE=/x", "GIT_CONFIG_COUNT=1", "GIT_TERMINAL_PROMPT=1",
	}}
	ssh := "ssh -o BatchMode=yes"
	want := []string{
		"PATH=/bin", "GIT_CONFIG_COUNT=1", "GIT_TERMINAL_PROMPT=1",
		"GIT_TERMINAL_PROMPT=0", "GCM_INTERACTIVE=never", "GIT_OPTIONAL_LOCKS=0",
		"GIT_SSH_COMMAND=ssh -o BatchMode=yes",
	}
	if diff := cmp.Diff(want, g.environ(&ssh)); diff != "" {
		t.Errorf("wrong environment (-want +got):\n%s", diff)
	}
}

func TestNetworkEnvHonoursCoreSSHCommand(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	ctx := context.Background()
	dir := t.TempDir()
	env, err := g.networkEnv(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := lastValue(env, "GIT_SSH_COMMAND"); got != "ssh -o BatchMode=yes" {
		t.Errorf("GIT_SSH_COMMAND = %q with nothing configured", got)
	}
	writeFile(t, filepath.Join(envHome(g.Env), ".gitconfig"), "[core]\n\tsshCommand = ssh -i ~/.ssh/deploy_key\n")
	if env, err = g.networkEnv(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if got := lastValue(env, "GIT_SSH_COMMAND"); got != "ssh -i ~/.ssh/deploy_key -o BatchMode=yes" {
		t.Errorf("GIT_SSH_COMMAND = %q with core.sshCommand set", got)
	}
}

func lastValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// TestDangerousTransportsStayDisabled checks the second line of defence: even
// with ValidateURL bypassed and the user's config allowing ext::, git run by
// hybrid refuses the ext and fd transports.
func TestDangerousTransportsStayDisabled(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	writeFile(t, filepath.Join(envHome(g.Env), ".gitconfig"), "[protocol \"ext\"]\n\tallow = always\n[protocol]\n\tallow = always\n")
	tmp := t.TempDir()
	ctx := context.Background()

	// Without hybrid's settings, this configuration runs the command: the
	// test would notice a regression.
	control := filepath.Join(tmp, "control")
	cmd := exec.Command(g.Bin, "ls-remote", "ext::sh -c touch% "+control)
	cmd.Env = g.Env
	_ = cmd.Run()
	if _, err := os.Stat(control); err != nil {
		t.Fatalf("fixture: plain git with protocol.ext.allow=always did not run the ext command")
	}

	marker := filepath.Join(tmp, "marker")
	env, err := g.networkEnv(ctx, tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"ext::sh -c touch% " + marker, "fd::0"} {
		_, err := g.run(ctx, tmp, env, "ls-remote", "--end-of-options", url)
		if err == nil || !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("git ls-remote %q: %v, want the transport refused", url, err)
		}
	}
	mustNotExist(t, marker)
}

func TestGitDoesNotPrompt(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	var stderr bytes.Buffer
	g.Stderr = &stderr
	// A remote that asks for a password: git must fail at once rather than
	// wait for someone to type it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := g.Resolve(ctx, srv.URL+"/repo.git", "main")
	if err == nil {
		t.Fatal("Resolve against a server asking for a password succeeded")
	}
	if ctx.Err() != nil {
		t.Fatalf("git waited for a password: %v", err)
	}
	for _, w := range []string{"cannot list the refs", "terminal prompts disabled"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if !strings.Contains(stderr.String(), "terminal prompts disabled") {
		t.Errorf("git's standard error was not copied to Git.Stderr: %q", stderr.String())
	}
}

func TestCancelStopsGit(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a server that never answers
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := g.Resolve(ctx, srv.URL+"/repo.git", "main")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Resolve: %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(waitDelay / 2):
		t.Fatal("git kept running after its context ended")
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	g := newTestGit(t)
	v, err := g.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d+\.\d+`).MatchString(v) {
		t.Errorf("Version = %q, want a version number", v)
	}
}

func TestNewGit(t *testing.T) {
	gitPath(t)
	g, err := NewGit()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(g.Bin) && !strings.Contains(g.Bin, string(filepath.Separator)) {
		t.Errorf("Bin = %q, want a path", g.Bin)
	}

	t.Setenv("PATH", t.TempDir())
	if _, err := NewGit(); err == nil || !strings.Contains(err.Error(), "install git") {
		t.Errorf("NewGit without git on PATH: %v, want an error saying to install it", err)
	}
	missing := &Git{Bin: filepath.Join(t.TempDir(), "git")}
	if _, err := missing.Version(context.Background()); err == nil || !strings.Contains(err.Error(), "install git") {
		t.Errorf("Version with a missing binary: %v, want an error saying to install git", err)
	}
}

func TestCommandErrorMessage(t *testing.T) {
	t.Parallel()
	e := &commandError{args: []string{"fetch", "origin"}, stderr: "fatal: one\n  two\n", err: exec.ErrNotFound}
	if got, want := e.Error(), "git fetch: fatal: one; two"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &commandError{args: []string{"fetch"}, stderr: "error: unknown option `end-of-options'\n", err: exec.ErrNotFound}
	if !strings.Contains(e.Error(), "git 2.24 or newer") {
		t.Errorf("Error() = %q, want it to name the git version needed", e.Error())
	}
}
