package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hybridcore/hybrid/lock"
)

// The commands the lock_*, init_* and sources_* scenarios use, beside
// script_test.go's.
func init() {
	scriptCmds["gitrev"] = cmdGitRev
	scriptCmds["expandfile"] = cmdExpandFile
	scriptCmds["pinned"] = cmdPinned
	scriptCmds["installplugin"] = cmdInstallPlugin
}

// cmdGitRev sets VAR to the full commit that REV names in the git
// repository DIR, so later lines can use $VAR: gitrev VAR DIR REV.
func cmdGitRev(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: gitrev VAR DIR REV")
	}
	cmd := exec.Command(ts.Getenv("GIT"), "-C", ts.MkAbs(args[1]), "rev-parse", "--verify", "--end-of-options", args[2]+"^{commit}")
	cmd.Env = []string{"HOME=" + ts.Getenv("HOME"), "PATH=" + ts.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1"}
	out, err := cmd.Output()
	if err != nil {
		ts.Fatalf("git rev-parse %s in %s: %v", args[2], args[1], err)
	}
	ts.Setenv(args[0], strings.TrimSpace(string(out)))
}

// cmdExpandFile copies SRC to DST, replacing $VAR and ${VAR} with the
// script's environment: a file that needs a commit known only at run time.
// expandfile SRC DST
func cmdExpandFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expandfile SRC DST")
	}
	out := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o644))
}

// cmdPinned checks the commit a lockfile pins for a source, as the lock
// package reads it: [!] pinned LOCKFILE NAME COMMIT.
func cmdPinned(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: [!] pinned LOCKFILE NAME COMMIT")
	}
	f, diags := lock.Read(ts.MkAbs(args[0]))
	if diags.HasErrors() {
		ts.Fatalf("%s: %s", args[0], diags.Error())
	}
	got := ""
	if s := f.Sources[args[1]]; s != nil {
		got = s.Commit
	}
	switch {
	case neg && got == args[2]:
		ts.Fatalf("%s pins source %s to %s", args[0], args[1], got)
	case !neg && got != args[2]:
		ts.Fatalf("%s pins source %s to %q, want %s", args[0], args[1], got, args[2])
	}
}

// cmdInstallPlugin puts a plugin binary for this platform where packer
// looks for installed plugins, with the _SHA256SUM file packer checks, as
// "packer plugins install" leaves them; CONTENT is the binary's bytes.
// Nothing runs it: hybrid only hashes installed plugins.
// installplugin DIR SOURCE VERSION CONTENT
func cmdInstallPlugin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: installplugin DIR SOURCE VERSION CONTENT")
	}
	dir := filepath.Join(ts.MkAbs(args[0]), filepath.FromSlash(args[1]))
	name := "packer-plugin-" + path.Base(args[1]) + "_v" + args[2] + "_" + lock.PluginProtocol + "_" + runtime.GOOS + "_" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	ts.Check(os.MkdirAll(dir, 0o755))
	bin := filepath.Join(dir, name)
	ts.Check(os.WriteFile(bin, []byte(args[3]), 0o755))
	sum := sha256.Sum256([]byte(args[3]))
	ts.Check(os.WriteFile(bin+"_SHA256SUM", []byte(hex.EncodeToString(sum[:])), 0o644))
}
