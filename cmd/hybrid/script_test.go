package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hybridcore/hybrid/internal/pgtest"
)

// TestMain lets testscript run hybrid in-process as the "hybrid" command,
// and removes the hybrid binary the supervision tests built, if any.
func TestMain(m *testing.M) {
	code := testscript.RunMain(m, map[string]func() int{
		"hybrid": func() int { return realMain(os.Args[1:], defaultStreams()) },
	})
	removeBuiltHybrid()
	pgtest.Stop()
	os.Exit(code)
}

// TestScripts runs the end-to-end scenarios in testdata/script: each is a
// terminal session against real files, real git and the real packer.
func TestScripts(t *testing.T) {
	packerBin := requirePacker(t)
	gitBin := requireGit(t)
	repoRoot, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HYBRID_PACKER", packerBin)
			env.Setenv("GIT", gitBin)
			env.Setenv("CHECKPOINT_DISABLE", "1")
			env.Setenv("REPO", repoRoot)
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("GIT_AUTHOR_NAME", "hybrid test")
			env.Setenv("GIT_AUTHOR_EMAIL", "test@hybrid.invalid")
			env.Setenv("GIT_COMMITTER_NAME", "hybrid test")
			env.Setenv("GIT_COMMITTER_EMAIL", "test@hybrid.invalid")
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds:      scriptCmds,
		Condition: scriptCondition,
	})
}

// scriptCondition answers the conditions scripts may test besides
// testscript's own: [pg] is true when a PostgreSQL server can be started
// (and is an error when CI=true and it cannot).
func scriptCondition(cond string) (bool, error) {
	if cond != "pg" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if _, err := pgtest.Shared(); err != nil {
		if os.Getenv("CI") == "true" {
			return false, fmt.Errorf("PostgreSQL is required: %v", err)
		}
		return false, nil
	}
	return true, nil
}

// cmdPGDB creates an empty database on the test PostgreSQL server and sets
// VAR to its connection string: pgdb VAR. Scripts check [pg] first.
func cmdPGDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pgdb VAR")
	}
	srv, err := pgtest.Shared()
	ts.Check(err)
	url, err := srv.CreateDatabase()
	ts.Check(err)
	ts.Setenv(args[0], url)
}

// scriptCmds are the custom commands scripts may use. Test files add their
// own in init functions.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"copyexample": cmdCopyExample,
	"grepall":     cmdGrepAll,
	"pgdb":        cmdPGDB,
	"status":      cmdStatus,
}

// cmdCopyExample copies a bundled example workspace into the script's work
// directory: copyexample NAME DIR.
func cmdCopyExample(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: copyexample NAME DIR")
	}
	src := filepath.Join(ts.Getenv("REPO"), "examples", args[0])
	dst := ts.MkAbs(args[1])
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		top := strings.Split(rel, string(filepath.Separator))[0]
		switch top {
		case "configs", "output", "state", "logs", "sources":
			return filepath.SkipDir // outputs of an earlier run by hand
		}
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, fi.Mode().Perm())
	})
	ts.Check(err)
}

// cmdGrepAll fails when any file under DIR contains TEXT (with !) or when
// none does: [!] grepall TEXT DIR.
func cmdGrepAll(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: [!] grepall TEXT DIR")
	}
	var hits []string
	err := filepath.Walk(ts.MkAbs(args[1]), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(args[0])) {
			hits = append(hits, p)
		}
		return nil
	})
	ts.Check(err)
	if neg && len(hits) > 0 {
		ts.Fatalf("%q found in %s", args[0], strings.Join(hits, ", "))
	}
	if !neg && len(hits) == 0 {
		ts.Fatalf("%q found in no file under %s", args[0], args[1])
	}
}

// cmdStatus runs a command and checks its exact exit code:
// status CODE COMMAND [ARGS...]. Its output is kept for stdout/stderr checks.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

// requirePacker finds the packer binary the tests run: HYBRID_PACKER, the
// pinned build in .tools/bin, or PATH. Without it the test fails in CI and
// is skipped elsewhere.
func requirePacker(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("HYBRID_PACKER")}
	if root, err := filepath.Abs("../.."); err == nil {
		candidates = append(candidates, filepath.Join(root, ".tools", "bin", "packer"))
	}
	if p, err := exec.LookPath("packer"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	missing(t, "packer (build it with scripts/packer)")
	return ""
}

func requireGit(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		missing(t, "git")
	}
	return p
}

func missing(t *testing.T, what string) {
	t.Helper()
	msg := fmt.Sprintf("%s is required for the end-to-end tests", what)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
