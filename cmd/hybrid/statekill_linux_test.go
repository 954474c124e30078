package main

// The state kill tests kill hybrid apply with SIGKILL at random moments of
// a run of eight builds, on the local backend and on a real PostgreSQL,
// and check what the state kept: it always reads, every build the killed
// apply reported done is in it, and the next apply builds exactly the
// builds it does not hold.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/internal/pgtest"
	"github.com/hybridcore/hybrid/state"
)

// stateKillTrialsEnv sets how many trials each backend's state kill test
// runs: 6 by default, 2 with -short; the bar for the state is 200 each.
const stateKillTrialsEnv = "HYBRID_STATE_KILL_TRIALS"

// stateKillBuilds is the number of builds of the state kill workspace; at
// parallelism 2 an apply runs them in four waves, so kills land before,
// between and during builds and state writes.
const stateKillBuilds = 8

func TestStateKeptWhenApplyKilledLocal(t *testing.T) {
	testStateKeptWhenApplyKilled(t, "")
}

func TestStateKeptWhenApplyKilledPG(t *testing.T) {
	_, conn := pgtest.Start(t)
	testStateKeptWhenApplyKilled(t, conn)
}

// stateKillWS is the supervision workspace with eight builds instead of
// three.
func stateKillWS(t *testing.T, pgConn string) *superviseWS {
	w := newSuperviseWS(t, "0.2")
	var hcl, tmpl strings.Builder
	hcl.WriteString(`hybrid {
  packer_version = ">= 1.9.0"
  parallelism    = 2
}

variable "trial" {
  type    = string
  default = "0"
}

environment "dev" {}
`)
	tmpl.WriteString(`packer {
  required_version = ">= 1.9.0"
}

variable "enable_ansible" {
  type    = bool
  default = false
}

variable "enable_puppet" {
  type    = bool
  default = false
}

variable "trial" {
  type    = string
  default = "0"
}
`)
	var sources []string
	for i := 1; i <= stateKillBuilds; i++ {
		fmt.Fprintf(&hcl, "\nimage \"linux-%d\" {\n  template = \"templates/linux\"\n  build    = \"null.linux-%d\"\n  values   = { trial = var.trial }\n}\n", i, i)
		fmt.Fprintf(&tmpl, "\nsource \"null\" \"linux-%d\" {\n  communicator = \"none\"\n}\n", i)
		sources = append(sources, fmt.Sprintf("%q", "source.null.linux-"+strconv.Itoa(i)))
	}
	fmt.Fprintf(&tmpl, `
build {
  sources = [%s]

  provisioner "shell-local" {
    inline = ["sleep \"$HYBRID_TEST_SLEEP\""]
  }
}
`, strings.Join(sources, ", "))
	if err := os.WriteFile(filepath.Join(w.dir, "hybrid.hcl"), []byte(hcl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "templates", "linux", "runs.pkr.hcl"), []byte(tmpl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if pgConn != "" {
		w.extraEnv = append(w.extraEnv, "HYBRID_PG_CONN_STR="+pgConn)
	}
	return w
}

func testStateKeptWhenApplyKilled(t *testing.T, pgConn string) {
	trials := 6
	if testing.Short() {
		trials = 2
	}
	if s := os.Getenv(stateKillTrialsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a number of trials", stateKillTrialsEnv, s)
		}
		trials = n
	}
	w := stateKillWS(t, pgConn)
	if out, code := w.run("lock", "lock"); code != 0 {
		t.Fatalf("hybrid lock exited %d:\n%s", code, out)
	}
	// Two whole applies, the second timed (the first also starts the
	// caches): the kills land anywhere within one.
	if out, code := w.run("0-first", "apply", "-auto-approve", "-var", "trial=first"); code != 0 {
		t.Fatalf("first apply exited %d:\n%s", code, out)
	}
	began := time.Now()
	if out, code := w.run("0-full", "apply", "-auto-approve", "-var", "trial=0"); code != 0 {
		t.Fatalf("second apply exited %d:\n%s", code, out)
	}
	full := time.Since(began)

	doneRE := regexp.MustCompile(`(?m)^(build\.dev\.linux-[0-9]+): done after `)
	builtRE := regexp.MustCompile(`(?m)^Apply complete! ([0-9]+) built`)
	var (
		killedMidRun, reportedDone, keptUnreported, rebuilt int
		lost, extra                                         []string
		histogram                                           [stateKillBuilds + 1]int // builds kept per trial
	)
	for i := 1; i <= trials; i++ {
		trial := "trial=" + strconv.Itoa(i)
		cmd := w.command(fmt.Sprintf("%d-killed", i), "apply", "-auto-approve", "-var", trial)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := rand.N(full + full/10)
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killedMidRun++
		} else if err != nil {
			t.Fatalf("trial %d: apply failed before the kill: %v\n%s", i, err, out.String())
		}
		done := map[string]bool{}
		for _, m := range doneRE.FindAllStringSubmatch(out.String(), -1) {
			done[m[1]] = true
		}
		reportedDone += len(done)

		// The state reads, whatever the moment of the kill.
		before := w.pull(fmt.Sprintf("trial %d (killed after %s)", i, delay))

		// The next apply finishes the trial; its records are the trial's
		// fingerprints.
		nextOut, code := w.run(fmt.Sprintf("%d-next", i), "apply", "-auto-approve", "-var", trial)
		if code != 0 {
			t.Fatalf("trial %d (killed after %s): the next apply exited %d:\n%s\n-- the killed apply's output --\n%s", i, delay, code, nextOut, out.String())
		}
		after := w.pull(fmt.Sprintf("trial %d, after the next apply", i))
		kept := 0
		for addr, b := range after.Builds {
			prev := before.Builds[addr]
			finished := prev != nil && prev.Fingerprint == b.Fingerprint
			if finished {
				kept++
				if !done[addr] {
					keptUnreported++
				}
			} else if done[addr] {
				lost = append(lost, fmt.Sprintf("trial %d: %s reported done but not in the state", i, addr))
			}
		}
		histogram[kept]++
		wantBuilt := stateKillBuilds - kept
		got := 0
		if m := builtRE.FindStringSubmatch(nextOut); m != nil {
			got, _ = strconv.Atoi(m[1])
		} else if !strings.Contains(nextOut, "No changes.") {
			t.Fatalf("trial %d: the next apply did not complete:\n%s", i, nextOut)
		}
		rebuilt += got
		if got != wantBuilt {
			extra = append(extra, fmt.Sprintf("trial %d: the next apply built %d, want the %d the state did not hold", i, got, wantBuilt))
		}
	}
	if out, code := w.run("final", "plan", "-detailed-exitcode", "-var", "trial="+strconv.Itoa(trials)); code != 0 {
		t.Errorf("plan after the last trial exited %d, want 0 (no changes):\n%s", code, out)
	}
	if len(lost) > 0 {
		t.Errorf("finished builds lost: %s", strings.Join(lost, "; "))
	}
	if len(extra) > 0 {
		t.Errorf("next applies did not build exactly what was unfinished: %s", strings.Join(extra, "; "))
	}
	backend := "local"
	if pgConn != "" {
		backend = "pg"
	}
	var hist []string
	for k, n := range histogram {
		if n > 0 {
			hist = append(hist, fmt.Sprintf("%d kept: %d", k, n))
		}
	}
	sort.Strings(hist)
	t.Logf("%s backend, %d SIGKILL trials (a full apply of %d null builds at parallelism 2 takes %s; kills at uniform random moments within 110%% of it): "+
		"%d killed mid-run; the state read after every kill; %d builds reported done, all kept (%d more kept that were recorded but not yet reported); "+
		"finished builds lost: %d; next applies built %d, each exactly what the state lacked (%d mismatches); builds kept per trial: %s",
		backend, trials, stateKillBuilds, full.Round(time.Millisecond), killedMidRun, reportedDone, keptUnreported, len(lost), rebuilt, len(extra), strings.Join(hist, ", "))
}

// pull reads the workspace's state through hybrid state pull, failing the
// test when it does not read.
func (w *superviseWS) pull(when string) *state.State {
	w.t.Helper()
	cmd := w.command("pull", "state", "pull")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		w.t.Fatalf("%s: hybrid state pull: %v\n%s", when, err, stderr.String())
	}
	if stdout.Len() == 0 {
		return state.New()
	}
	st, err := state.Decode(stdout.Bytes())
	if err != nil {
		w.t.Fatalf("%s: the pulled state does not decode: %v", when, err)
	}
	return st
}
