package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	scriptCmds["releasezip"] = cmdReleaseZip
	scriptCmds["platform"] = cmdPlatform
	scriptCmds["hidepacker"] = cmdHidePacker
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

// cmdReleaseZip writes a plugin release as its GitHub releases page
// publishes it: packer-plugin-NAME_vVERSION_x5.0_PLATFORM.zip in DIR, holding
// the binary (CONTENT), and its line in the release's
// packer-plugin-NAME_vVERSION_SHA256SUMS beside it.
// releasezip DIR SOURCE VERSION PLATFORM CONTENT
func cmdReleaseZip(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: releasezip DIR SOURCE VERSION PLATFORM CONTENT")
	}
	dir, typ, ver, platform := ts.MkAbs(args[0]), path.Base(args[1]), args[2], args[3]
	name := "packer-plugin-" + typ + "_v" + ver + "_" + lock.PluginProtocol + "_" + platform
	entry := name
	if strings.HasPrefix(platform, "windows_") {
		entry += ".exe"
	}
	ts.Check(os.MkdirAll(dir, 0o755))
	f, err := os.Create(filepath.Join(dir, name+".zip"))
	ts.Check(err)
	zw := zip.NewWriter(f)
	w, err := zw.Create(entry)
	ts.Check(err)
	_, err = w.Write([]byte(args[4]))
	ts.Check(err)
	ts.Check(zw.Close())
	ts.Check(f.Close())
	data, err := os.ReadFile(filepath.Join(dir, name+".zip"))
	ts.Check(err)
	sum := sha256.Sum256(data)
	sums, err := os.OpenFile(filepath.Join(dir, "packer-plugin-"+typ+"_v"+ver+"_SHA256SUMS"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	ts.Check(err)
	_, err = fmt.Fprintf(sums, "%s  %s.zip\n", hex.EncodeToString(sum[:]), name)
	ts.Check(err)
	ts.Check(sums.Close())
}

// cmdPlatform sets VAR to the platform the tests run on, OS_ARCH, as
// plugin binaries name it: platform VAR.
func cmdPlatform(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: platform VAR")
	}
	ts.Setenv(args[0], lock.CurrentPlatform())
}

// cmdHidePacker makes packer impossible to find for the rest of the
// script, as on a machine without it: HYBRID_PACKER is unset and every
// directory holding a packer executable leaves PATH. It fails when such a
// directory also holds git, which the script still needs.
func cmdHidePacker(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: hidepacker")
	}
	var keep []string
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if fi, err := os.Stat(filepath.Join(dir, "packer")); err == nil && !fi.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, "git")); err == nil {
				ts.Fatalf("%s holds both packer and git: cannot hide one", dir)
			}
			continue
		}
		keep = append(keep, dir)
	}
	ts.Setenv("PATH", strings.Join(keep, string(os.PathListSeparator)))
	ts.Setenv("HYBRID_PACKER", "")
}
