package sources

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// gitPath returns the git binary, failing under CI=true and skipping
// elsewhere when git is not installed.
func gitPath(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required under CI=true: %v", err)
		}
		t.Skipf("git not installed: %v", err)
	}
	return bin
}

// isolatedEnv is an environment in which git reads no configuration of the
// machine or the user running the tests: a fresh HOME, no system config, no
// inherited GIT_* variables, and fixed identities and dates.
func isolatedEnv(t testing.TB) []string {
	t.Helper()
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || k == "HOME" || k == "XDG_CONFIG_HOME" || k == "GCM_INTERACTIVE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Hybrid Test",
		"GIT_AUTHOR_EMAIL=test@hybrid.invalid",
		"GIT_COMMITTER_NAME=Hybrid Test",
		"GIT_COMMITTER_EMAIL=test@hybrid.invalid",
		"GIT_AUTHOR_DATE=2024-01-02T03:04:05Z",
		"GIT_COMMITTER_DATE=2024-01-02T03:04:05Z",
	)
}

// envHome returns the HOME of an isolated environment.
func envHome(env []string) string {
	home := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	return home
}

// newTestGit returns a Git on the real git binary with an isolated
// environment.
func newTestGit(t testing.TB) *Git {
	t.Helper()
	return &Git{Bin: gitPath(t), Env: isolatedEnv(t)}
}

// gitT runs git for a test fixture and returns its trimmed output.
func gitT(t testing.TB, env []string, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// remote is a bare repository used as a source's upstream, built through a
// working clone that pushes to it.
//
//	main:     Main[0] -- Main[1] -- Main[2]
//	feature:        \-- Feature
//	tags:     light (lightweight) at Main[0], v1.0 (annotated) at Main[1],
//	          dup: a branch at Main[0] and an annotated tag at Main[2]
type remote struct {
	URL     string
	Main    []string
	Feature string
	// TagObject is the object name of the annotated tag v1.0 itself.
	TagObject string
	work      string
	env       []string
}

// shared is one remote for the tests that only read it, built once: a remote
// takes some twenty git processes to make.
var shared struct {
	once sync.Once
	dir  string
	r    *remote
}

// TestMain removes the shared remote after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedRemote returns the shared remote. Tests must not push to it, rename
// it or change it in any way; those that do build their own with newRemote.
func sharedRemote(t testing.TB) *remote {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "hybrid-sources-test-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
		env := isolatedEnv(t)
		shared.r = buildRemote(t, env, dir)
	})
	if shared.r == nil {
		t.Fatal("the shared remote could not be built; see the first test that failed")
	}
	return shared.r
}

// newRemote builds a remote in a temporary directory of its own.
func newRemote(t testing.TB, env []string) *remote {
	t.Helper()
	return buildRemote(t, env, t.TempDir())
}

func buildRemote(t testing.TB, env []string, base string) *remote {
	t.Helper()
	r := &remote{URL: filepath.Join(base, "upstream.git"), work: filepath.Join(base, "work"), env: env}
	gitT(t, env, base, "init", "--quiet", "--bare", "--initial-branch=main", r.URL)
	gitT(t, env, base, "init", "--quiet", "--initial-branch=main", r.work)
	gitT(t, env, r.work, "remote", "add", "origin", r.URL)
	for i := 1; i <= 3; i++ {
		r.Main = append(r.Main, r.commitLocal(t, "main", "f.txt", strings.Repeat("line\n", i)))
	}
	gitT(t, env, r.work, "switch", "--quiet", "-c", "feature", r.Main[0])
	r.Feature = r.commitLocal(t, "feature", "feature.txt", "feature\n")
	gitT(t, env, r.work, "switch", "--quiet", "main")
	gitT(t, env, r.work, "tag", "light", r.Main[0])
	gitT(t, env, r.work, "tag", "-a", "-m", "release 1.0", "v1.0", r.Main[1])
	gitT(t, env, r.work, "branch", "dup", r.Main[0])
	gitT(t, env, r.work, "tag", "-a", "-m", "dup", "dup", r.Main[2])
	r.TagObject = gitT(t, env, r.work, "rev-parse", "refs/tags/v1.0")
	gitT(t, env, r.work, "push", "--quiet", "origin", "--all")
	gitT(t, env, r.work, "push", "--quiet", "origin", "--tags")
	return r
}

// commitLocal commits content to file on the checked-out branch of the
// working clone and returns the commit.
func (r *remote) commitLocal(t testing.TB, branch, file, content string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(r.work, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	gitT(t, r.env, r.work, "add", file)
	gitT(t, r.env, r.work, "commit", "--quiet", "-m", branch+": "+file+" "+strings.TrimSpace(content))
	return gitT(t, r.env, r.work, "rev-parse", "HEAD")
}

// push commits a new version of f.txt on main and pushes it.
func (r *remote) push(t testing.TB, content string) string {
	t.Helper()
	c := r.commitLocal(t, "main", "f.txt", content)
	gitT(t, r.env, r.work, "push", "--quiet", "origin", "main")
	return c
}

// snapshot maps every path under dir, except .git, to its mode and content,
// so a test can check a checkout was left untouched byte for byte.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	snap := make(map[string]string)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		content := ""
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			content = string(b)
		}
		snap[rel] = info.Mode().String() + " " + content
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// mustNotExist fails the test if path exists.
func mustNotExist(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Lstat(path); err == nil {
		t.Errorf("%s exists; it must not", path)
	} else if !os.IsNotExist(err) {
		t.Errorf("stat %s: %v", path, err)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
