package packer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// buildFixture is a work directory with var files for the build template.
type buildFixture struct {
	bin, work string
}

func newBuildFixture(t *testing.T, varFiles map[string]string) buildFixture {
	t.Helper()
	f := buildFixture{bin: packerBin(t), work: t.TempDir()}
	for name, content := range varFiles {
		writeFile(t, filepath.Join(f.work, name), content, 0o644)
	}
	return f
}

func (f buildFixture) invocation(t *testing.T, only []string, varFiles ...string) Invocation {
	return Invocation{
		Bin:      f.bin,
		WorkDir:  f.work,
		Template: templateDir(t, "build"),
		Only:     only,
		VarFiles: varFiles,
		Vars:     map[string]string{"secret": "correct, horse battery"},
	}
}

// recorder keeps the events of a build.
type recorder struct {
	mu     sync.Mutex
	events []Event
	on     func(Event)
}

func (r *recorder) onEvent(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.on != nil {
		r.on(e)
	}
}

func (r *recorder) uiTexts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if ui, ok := e.UI(); ok {
			out = append(out, ui.Text)
		}
	}
	return out
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sortArtifacts(as []Artifact) {
	slices.SortFunc(as, func(a, b Artifact) int {
		return strings.Compare(fmt.Sprintf("%s/%d", a.Target, a.Index), fmt.Sprintf("%s/%d", b.Target, b.Index))
	})
}

func TestBuild(t *testing.T) {
	f := newBuildFixture(t, map[string]string{
		"base.pkrvars.hcl":     "greeting = \"base\"\n",
		"override.pkrvars.hcl": "greeting = \"override\"\n",
	})
	inv := f.invocation(t, []string{"null.linux-a", "file.linux-b"}, "base.pkrvars.hcl", "override.pkrvars.hcl")
	secret := inv.Vars["secret"]
	var log, machine bytes.Buffer
	var rec recorder

	res, err := Build(context.Background(), inv, BuildOptions{Log: &log, MachineLog: &machine, OnEvent: rec.onEvent})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusSucceeded || res.ExitCode != 0 {
		t.Fatalf("Build = %s (exit %d), want succeeded; log:\n%s", res.Status, res.ExitCode, log.String())
	}

	// Artifacts from the machine-readable output.
	null := Artifact{Target: "null.linux-a", BuilderID: "fnoeding.null", ID: "Null", String: "Did not export anything. This is the null builder"}
	file := Artifact{Target: "file.linux-b", BuilderID: "packer.file", ID: "File", String: "Stored file: artifact.txt", Files: []string{"artifact.txt"}}
	at := func(a Artifact, i int) Artifact { a.Index = i; return a }
	sortArtifacts(res.Artifacts)
	if diff := cmp.Diff([]Artifact{at(file, 0), at(file, 1), at(null, 0), at(null, 1)}, res.Artifacts); diff != "" {
		t.Errorf("wrong artifacts (-want +got):\n%s", diff)
	}

	// The manifest, found by its timestamped name (two names when the two
	// builds finished in different seconds).
	if len(res.Manifests) == 0 || res.ManifestPath != res.Manifests[0].Path || res.ManifestDigest != res.Manifests[0].Digest {
		t.Fatalf("ManifestPath %q, ManifestDigest %q, want the first of %+v", res.ManifestPath, res.ManifestDigest, res.Manifests)
	}
	for _, m := range res.Manifests {
		if !regexp.MustCompile(`^manifest-[0-9]+\.json$`).MatchString(filepath.Base(m.Path)) || filepath.Dir(m.Path) != f.work {
			t.Errorf("manifest %q, want manifest-<timestamp>.json in %s", m.Path, f.work)
		}
		if got := sha256Hex(readText(t, m.Path)); m.Digest != got {
			t.Errorf("digest of %s = %s, want %s", m.Path, m.Digest, got)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(res.PackerRunUUID) {
		t.Errorf("PackerRunUUID = %q, want a UUID", res.PackerRunUUID)
	}
	slices.SortFunc(res.ManifestBuilds, func(a, b ManifestBuild) int { return strings.Compare(a.Target(), b.Target()) })
	custom := map[string]string{"image": "test"}
	wantBuilds := []ManifestBuild{
		{Name: "linux-b", BuilderType: "file", Files: []ManifestFile{{Name: "artifact.txt", Size: 1}}, ArtifactID: "File", PackerRunUUID: res.PackerRunUUID, CustomData: custom},
		{Name: "linux-a", BuilderType: "null", ArtifactID: "Null", PackerRunUUID: res.PackerRunUUID, CustomData: custom},
	}
	if diff := cmp.Diff(wantBuilds, res.ManifestBuilds, cmpopts.IgnoreFields(ManifestBuild{}, "BuildTime")); diff != "" {
		t.Errorf("wrong manifest entries (-want +got):\n%s", diff)
	}

	// Var files apply in layer order; the sensitive value reached the build
	// but not the command line or the log.
	if got := readText(t, filepath.Join(f.work, "out.txt")); got != "override\n" {
		t.Errorf("out.txt = %q, want the last var file's greeting", got)
	}
	if got := strings.TrimSpace(readText(t, filepath.Join(f.work, "secret.sha256"))); got != sha256Hex(secret) {
		t.Errorf("the build saw a secret with digest %s, want %s", got, sha256Hex(secret))
	}
	if strings.Contains(strings.Join(inv.Args("build"), " "), secret) {
		t.Errorf("the secret is on the command line")
	}
	for _, s := range []string{secret, escape(secret)} {
		if strings.Contains(log.String(), s) || strings.Contains(machine.String(), s) {
			t.Errorf("a log holds the secret as %q", s)
		}
	}

	// The machine log is packer's raw output; the log is what packer
	// prints on a terminal: messages only, escapes undone; events carry
	// the build names.
	if !strings.Contains(machine.String(), ",file.linux-b,artifact,0,id,File\n") {
		t.Errorf("machine log lacks the raw artifact lines:\n%s", machine.String())
	}
	for _, raw := range []string{",ui,", ",artifact,", "%!(PACKER_COMMA)"} {
		if strings.Contains(log.String(), raw) {
			t.Errorf("log holds machine-readable %q:\n%s", raw, log.String())
		}
	}
	for _, line := range []string{"==> Builds finished. The artifacts of successful builds are:", "--> file.linux-b: Stored file: artifact.txt"} {
		if !slices.Contains(strings.Split(log.String(), "\n"), line) {
			t.Errorf("log lacks the line %q:\n%s", line, log.String())
		}
	}
	sawBuild := false
	for _, e := range rec.events {
		if ui, ok := e.UI(); ok && ui.Build == "null.linux-a" {
			sawBuild = true
		}
	}
	if !sawBuild {
		t.Errorf("no UI event named null.linux-a among %q", rec.uiTexts())
	}

	if res.Started.IsZero() || res.Finished.Before(res.Started) || res.Duration != res.Finished.Sub(res.Started) {
		t.Errorf("times: started %v finished %v duration %v", res.Started, res.Finished, res.Duration)
	}
	if res.LastErrorLines != nil || res.Error != "" {
		t.Errorf("LastErrorLines = %q, Error = %q for a build that succeeded", res.LastErrorLines, res.Error)
	}
}

func TestBuildTiesManifestEntriesToTheRun(t *testing.T) {
	f := newBuildFixture(t, map[string]string{"m.pkrvars.hcl": "manifest_name = \"manifest.json\"\n"})
	ctx := context.Background()

	first, err := Build(ctx, f.invocation(t, []string{"file.linux-b"}, "m.pkrvars.hcl"), BuildOptions{})
	if err != nil || first.Status != StatusSucceeded {
		t.Fatalf("first build: %v %+v", err, first)
	}
	second, err := Build(ctx, f.invocation(t, []string{"null.linux-a"}, "m.pkrvars.hcl"), BuildOptions{})
	if err != nil || second.Status != StatusSucceeded {
		t.Fatalf("second build: %v %+v", err, second)
	}

	want := filepath.Join(f.work, "manifest.json")
	if first.ManifestPath != want || second.ManifestPath != want {
		t.Fatalf("ManifestPath = %q then %q, want %q both times", first.ManifestPath, second.ManifestPath, want)
	}
	if first.PackerRunUUID == "" || first.PackerRunUUID == second.PackerRunUUID {
		t.Errorf("run UUIDs %q and %q, want two different runs", first.PackerRunUUID, second.PackerRunUUID)
	}
	m, err := ParseManifest([]byte(readText(t, want)))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Builds) != 2 || m.LastRunUUID != second.PackerRunUUID {
		t.Errorf("manifest = %+v, want both runs with the second last", m)
	}
	var got []string
	for _, b := range second.ManifestBuilds {
		got = append(got, b.Target()+" "+b.PackerRunUUID)
	}
	if diff := cmp.Diff([]string{"null.linux-a " + second.PackerRunUUID}, got); diff != "" {
		t.Errorf("second build's entries (-want +got):\n%s", diff)
	}
}

func TestBuildRedactsSecretsTheTemplatePrints(t *testing.T) {
	f := newBuildFixture(t, map[string]string{"leak.pkrvars.hcl": "leak = true\n"})
	inv := f.invocation(t, []string{"null.linux-a"}, "leak.pkrvars.hcl")
	secret := inv.Vars["secret"]
	var log bytes.Buffer
	var rec recorder
	res, err := Build(context.Background(), inv, BuildOptions{Log: &log, OnEvent: rec.onEvent})
	if err != nil || res.Status != StatusSucceeded {
		t.Fatalf("Build: %v %+v\n%s", err, res, log.String())
	}
	for _, s := range []string{secret, escape(secret)} {
		if strings.Contains(log.String(), s) {
			t.Errorf("the log holds the secret as %q:\n%s", s, log.String())
		}
	}
	texts := strings.Join(rec.uiTexts(), "\n")
	if strings.Contains(texts, secret) {
		t.Errorf("the events hold the secret:\n%s", texts)
	}
	for _, want := range []string{"the secret is " + Redacted, "stderr has " + Redacted} {
		if !strings.Contains(texts, want) {
			t.Errorf("events lack %q:\n%s", want, texts)
		}
	}
}

func TestBuildFailure(t *testing.T) {
	f := newBuildFixture(t, map[string]string{"fail.pkrvars.hcl": "fail = true\n"})
	var log bytes.Buffer
	res, err := Build(context.Background(), f.invocation(t, []string{"null.linux-a"}, "fail.pkrvars.hcl"), BuildOptions{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusFailed || res.ExitCode != 1 {
		t.Fatalf("Build = %s (exit %d), want failed with exit 1; log:\n%s", res.Status, res.ExitCode, log.String())
	}
	errs := strings.Join(res.LastErrorLines, "\n")
	for _, want := range []string{"==> null.linux-a: bad thing, happened", "Script exited with non-zero exit status: 1"} {
		if !strings.Contains(errs, want) {
			t.Errorf("LastErrorLines lack %q:\n%s", want, errs)
		}
	}
	// The build's error, not the script's stderr before it nor the
	// summary after it.
	if want := "Script exited with non-zero exit status: 1. Allowed exit codes are: [0]"; res.Error != want {
		t.Errorf("Error = %q, want %q", res.Error, want)
	}
	if !strings.Contains(log.String(), "\n==> null.linux-a: bad thing, happened\n") {
		t.Errorf("log lacks the script's error as packer prints it:\n%s", log.String())
	}
	if len(res.Artifacts) != 0 || res.ManifestPath != "" {
		t.Errorf("a failed build reported artifacts %+v, manifest %q", res.Artifacts, res.ManifestPath)
	}
}

func TestBuildInvalidTemplate(t *testing.T) {
	bin := packerBin(t)
	res, err := Build(context.Background(), Invocation{Bin: bin, WorkDir: t.TempDir(), Template: templateDir(t, "invalid")}, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusFailed || res.ExitCode == 0 {
		t.Fatalf("Build = %s (exit %d), want failed", res.Status, res.ExitCode)
	}
	if !strings.Contains(strings.Join(res.LastErrorLines, "\n"), "Duplicate source block") {
		t.Errorf("LastErrorLines = %q, want the template error", res.LastErrorLines)
	}
	if !strings.HasPrefix(res.Error, "Duplicate source block\n\n  on ") || !strings.Contains(res.Error, "invalid.pkr.hcl line ") {
		t.Errorf("Error = %q, want the whole HCL diagnostic with its location", res.Error)
	}
}

// cancelOnSleep returns a recorder that calls cancel once the build's shell
// says it is sleeping.
func cancelOnSleep(cancel func()) *recorder {
	var once sync.Once
	return &recorder{on: func(e Event) {
		if ui, ok := e.UI(); ok && strings.HasSuffix(ui.Text, ": sleeping") {
			once.Do(cancel)
		}
	}}
}

func TestBuildCancel(t *testing.T) {
	f := newBuildFixture(t, map[string]string{"sleep.pkrvars.hcl": "sleep = 30\n"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := cancelOnSleep(cancel)
	res, err := Build(ctx, f.invocation(t, []string{"null.linux-a"}, "sleep.pkrvars.hcl"), BuildOptions{OnEvent: rec.onEvent})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusCancelled {
		t.Fatalf("Build = %s (exit %d), want cancelled; events: %q", res.Status, res.ExitCode, rec.uiTexts())
	}
	// Packer stopped its 30 s provisioner rather than finishing it.
	if res.Duration >= 25*time.Second {
		t.Errorf("a cancelled build took %v", res.Duration)
	}
	if res.ExitCode != 1 {
		t.Errorf("ExitCode = %d, want packer's own 1 after a clean cancel", res.ExitCode)
	}
	// Packer says "Cancelling build after receiving interrupt", unless the
	// provisioner's script died of the SIGINT before packer noticed it and
	// packer reports a failed script instead: both are a cancel.
	if len(res.LastErrorLines) == 0 {
		t.Errorf("no LastErrorLines for a cancelled build")
	}
	assertGone(t, readPID(t, filepath.Join(f.work, "shell.pid")))
}

func TestBuildHardKill(t *testing.T) {
	f := newBuildFixture(t, map[string]string{"sleep.pkrvars.hcl": "sleep = 30\n"})
	hard, kill := context.WithCancel(context.Background())
	defer kill()
	rec := cancelOnSleep(kill)
	res, err := Build(context.Background(), f.invocation(t, []string{"null.linux-a"}, "sleep.pkrvars.hcl"), BuildOptions{OnEvent: rec.onEvent, Hard: hard})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusCancelled || res.ExitCode != 128+9 {
		t.Fatalf("Build = %s (exit %d), want cancelled by SIGKILL (137)", res.Status, res.ExitCode)
	}
	// The kill reached the whole process group, the provisioner's shell too.
	assertGone(t, readPID(t, filepath.Join(f.work, "shell.pid")))
}

func TestBuildCancelledBeforeStart(t *testing.T) {
	f := newBuildFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Build(ctx, f.invocation(t, nil), BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusCancelled || res.ExitCode != -1 {
		t.Errorf("Build = %s (exit %d), want cancelled and never run (-1)", res.Status, res.ExitCode)
	}
	if _, err := os.Stat(filepath.Join(f.work, "out.txt")); !os.IsNotExist(err) {
		t.Errorf("packer ran: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := map[string]struct {
		inv     Invocation
		wantErr string
	}{
		"missing binary": {inv: Invocation{Bin: filepath.Join(t.TempDir(), "nope")}, wantErr: "cannot start packer: fork/exec "},
		"invalid only":   {inv: Invocation{Bin: "packer", Only: []string{"a,b"}}, wantErr: "invalid -only value"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := Build(context.Background(), tt.inv, BuildOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || res != nil {
				t.Errorf("Build = %+v, %v; want no result and an error containing %q", res, err, tt.wantErr)
			}
		})
	}
}

// TestBuildCannotStart checks that a packer that cannot be started is a
// *StartError carrying the operating system's error, whatever the cause.
func TestBuildCannotStart(t *testing.T) {
	dir := t.TempDir()
	notProgram := filepath.Join(dir, "packer")
	writeFile(t, notProgram, "\x7fELF\x02\x01\x01 not a program for any machine", 0o755)
	notExecutable := filepath.Join(dir, "packer-0644")
	writeFile(t, notExecutable, "#!/bin/sh\n", 0o644)
	tests := map[string]struct {
		inv  Invocation
		want string
	}{
		"not a program":     {Invocation{Bin: notProgram, WorkDir: dir}, "fork/exec " + notProgram + ": exec format error"},
		"not executable":    {Invocation{Bin: notExecutable, WorkDir: dir}, "fork/exec " + notExecutable + ": permission denied"},
		"no such directory": {Invocation{Bin: notProgram, WorkDir: filepath.Join(dir, "gone")}, "working directory: stat " + filepath.Join(dir, "gone") + ": no such file or directory"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := Build(context.Background(), tt.inv, BuildOptions{})
			var se *StartError
			if !errors.As(err, &se) || res != nil {
				t.Fatalf("Build = %+v, %v; want no result and a *StartError", res, err)
			}
			if got := se.Err.Error(); got != tt.want {
				t.Errorf("StartError.Err = %q, want %q", got, tt.want)
			}
		})
	}
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(readText(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// assertGone fails unless process pid has exited (a zombie waiting for its
// reaper counts as exited).
func assertGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs: %s", pid, stat)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBuildRunLines(t *testing.T) {
	var log, human bytes.Buffer
	var events []Event
	inv := Invocation{Vars: map[string]string{"pw": "hunter2-hunter2"}}
	r := &buildRun{log: &human, machineLog: &log, onEvent: func(e Event) { events = append(events, e) }, redact: inv.redactor()}
	r.stdoutLine("1,,ui,say,==> null.a: hello")
	r.stdoutLine("panic: hunter2-hunter2")
	r.stderrLine("plugin crashed\r")
	r.stdoutLine(`1,,ui,error,first\nsecond hunter2-hunter2`)
	r.stdoutLine("1,null.a,artifact,0,id,X")
	r.stdoutLine("1,null.a,artifact,0,end")
	for i := range errorTail {
		r.stderrLine(fmt.Sprintf("line %d", i))
	}

	wantLog := "1,,ui,say,==> null.a: hello\npanic: <sensitive>\nplugin crashed\n1,,ui,error,first\\nsecond <sensitive>\n1,null.a,artifact,0,id,X\n1,null.a,artifact,0,end\n"
	if !strings.HasPrefix(log.String(), wantLog) {
		t.Errorf("machine log =\n%s\nwant it to start with\n%s", log.String(), wantLog)
	}
	wantHuman := "==> null.a: hello\npanic: <sensitive>\nplugin crashed\nfirst\nsecond <sensitive>\n"
	if !strings.HasPrefix(human.String(), wantHuman) {
		t.Errorf("log =\n%s\nwant it to start with\n%s", human.String(), wantHuman)
	}
	var types []string
	for _, e := range events[:6] {
		types = append(types, e.Type+":"+strings.Join(e.Data, "|"))
	}
	wantTypes := []string{
		"ui:say|==> null.a: hello",
		"raw:panic: <sensitive>",
		"stderr:plugin crashed",
		"ui:error|first\nsecond <sensitive>",
		"artifact:0|id|X",
		"artifact:0|end",
	}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("wrong events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Artifact{{Target: "null.a", ID: "X"}}, r.artifacts.artifacts()); diff != "" {
		t.Errorf("wrong artifacts (-want +got):\n%s", diff)
	}
	// The ring keeps the last errorTail error lines, oldest first.
	got := r.errorLines()
	if len(got) != errorTail || got[0] != "line 0" || got[errorTail-1] != fmt.Sprintf("line %d", errorTail-1) {
		t.Errorf("errorLines = %q", got)
	}
	r.stderrLine("newest")
	got = r.errorLines()
	if got[0] != "line 1" || got[errorTail-1] != "newest" {
		t.Errorf("errorLines after one more = %q", got)
	}
}
