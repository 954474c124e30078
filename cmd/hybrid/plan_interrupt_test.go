package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/internal/wsgen"
)

// TestPlanStopsOnSIGTERM: a plan of a big workspace, cancelled by SIGTERM
// while it reads templates, hashes and evaluates, exits within a second
// with a non-zero status and leaves the state unlocked. Each trial starts
// cold (no caches), so there is plenty to interrupt.
func TestPlanStopsOnSIGTERM(t *testing.T) {
	requireGit(t)
	bin := hybridBinary(t)
	dir := filepath.Join(t.TempDir(), "ws")
	spec := wsgen.Default()
	spec.Images, spec.Envs, spec.Files, spec.TotalBytes = 100, 5, 2500, 30<<20
	if err := wsgen.Generate(dir, spec); err != nil {
		t.Fatal(err)
	}
	const trials = 5
	var worst time.Duration
	for i := 0; i < trials; i++ {
		os.RemoveAll(filepath.Join(dir, "state"))
		os.MkdirAll(filepath.Join(dir, "state"), 0o755)
		cmd := exec.Command(bin, "plan", "-no-color")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "HYBRID_DIGEST_KEY=interrupt-test-key-0123456789abcdef")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(300+100*i) * time.Millisecond)
		sent := time.Now()
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		took := time.Since(sent)
		if took > worst {
			worst = took
		}
		code := cmd.ProcessState.ExitCode()
		if err == nil || code == 0 {
			t.Errorf("trial %d: plan exited 0 after SIGTERM (took %v); output:\n%s", i, took, out.String())
		}
		if took > time.Second {
			t.Errorf("trial %d: plan took %v to stop after SIGTERM, want under 1s", i, took)
		}
		if _, err := os.Stat(filepath.Join(dir, "state", "packer-hybrid.json.lock.info")); err == nil {
			t.Errorf("trial %d: the state lock info was left behind", i)
		}
	}
	t.Logf("plan interrupted by SIGTERM: %d trials, slowest exit %v after the signal", trials, worst)
}
