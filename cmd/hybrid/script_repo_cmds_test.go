package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// The command the repo_* scenarios use to stand up an upstream template
// repository, beside script_test.go's.
func init() {
	scriptCmds["gitrepo"] = cmdGitRepo
}

// cmdGitRepo copies the fixture repository testdata/repos/NAME into DIR,
// makes it a git repository on branch main with one commit, and creates
// the bare repository DIR.git beside it as its origin, pushed to and
// tracked, so a scenario changes upstream with
//
//	exec git -C DIR commit -q -am 'message'
//	exec git -C DIR push -q
//
// and a workspace names it as a source with url = "../DIR.git" (from a
// workspace beside it). File modes are kept: scripts stay executable.
// gitrepo NAME DIR
func cmdGitRepo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gitrepo NAME DIR")
	}
	src := filepath.Join(ts.Getenv("REPO"), "cmd", "hybrid", "testdata", "repos", args[0])
	if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
		ts.Fatalf("gitrepo: no fixture repository %s", src)
	}
	dir := ts.MkAbs(args[1])
	bare := dir + ".git"
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, fi.Mode().Perm())
	})
	ts.Check(err)

	git := func(args ...string) {
		cmd := exec.Command(ts.Getenv("GIT"), args...)
		cmd.Env = gitEnv(ts)
		if out, err := cmd.CombinedOutput(); err != nil {
			ts.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q", "-b", "main", dir)
	git("-C", dir, "add", "-A")
	git("-C", dir, "commit", "-q", "-m", "Initial commit")
	git("init", "-q", "--bare", bare)
	git("-C", dir, "remote", "add", "origin", bare)
	git("-C", dir, "push", "-q", "-u", "origin", "main")
}

// gitEnv is the environment git runs in for a script: its home, path and
// identity, and no system configuration.
func gitEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"HOME", "PATH", "GIT_CONFIG_NOSYSTEM",
		"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}
