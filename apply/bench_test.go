package apply_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/packer"
	"github.com/hybridcore/hybrid/plan"
)

// benchParallelism is the -parallelism of the apply and the -P of xargs.
const benchParallelism = 4

// BenchmarkApplyOverhead compares hybrid apply with the packer commands it
// runs. Each iteration applies testdata/bench (20 null builds that sleep one
// second each; HYBRID_BENCH_BUILDS and HYBRID_BENCH_SLEEP make it another
// number of builds sleeping another time, e.g. 1000 builds sleeping 0 s,
// where packer's start-up is all the work) in a fresh copy with parallelism 4: load the workspace, read
// the lockfile, lock and read the state, plan, check packer's version, then
// apply.Run, which writes the 20 var files, runs the 20 builds and records
// every node in the state. In another fresh copy it runs the same 20
// `packer build` command lines through `xargs -P4`, with the var files
// already written. The two runs alternate in order between iterations.
//
// It reports the mean wall time of each per iteration (apply_s, xargs_s),
// apply's planning part of apply_s (plan_s), and apply_s/xargs_s.
// ns/op is the time of both together.
func BenchmarkApplyOverhead(b *testing.B) {
	bin := packerBin(b)
	xargs, err := exec.LookPath("xargs")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("xargs is needed for the baseline: %v", err)
		}
		b.Skipf("xargs not found: %v", err)
	}
	ctx := context.Background()
	builds, sleep := 20, "1"
	if s := os.Getenv("HYBRID_BENCH_BUILDS"); s != "" {
		if builds, err = strconv.Atoi(s); err != nil || builds < 1 {
			b.Fatalf("HYBRID_BENCH_BUILDS=%q: want a number of builds", s)
		}
	}
	if s := os.Getenv("HYBRID_BENCH_SLEEP"); s != "" {
		sleep = s
	}
	var applyTotal, planTotal, xargsTotal time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		applyDir := benchFixture(b, builds, sleep)
		xargsDir := benchFixture(b, builds, sleep)
		cmds := writeXargsCommands(b, xargsDir, bin, builds)
		b.StartTimer()

		runApply := func() {
			start := time.Now()
			pd := makePlan(ctx, b, applyDir)
			planTotal += time.Since(start)
			res := applyPlanned(ctx, b, pd, bin, benchParallelism, discardSink{})
			applyTotal += time.Since(start)
			pd.unlock(b)
			if !res.OK() || res.Count(plan.TypeBuild, apply.Succeeded) != builds {
				b.Fatalf("apply did not build all %d images: %d built, %d failed", builds, res.Count(plan.TypeBuild, apply.Succeeded), res.Count("", apply.Failed))
			}
		}
		runXargs := func() {
			start := time.Now()
			runXargsCommands(b, xargs, bin, xargsDir, cmds)
			xargsTotal += time.Since(start)
		}
		if i%2 == 0 {
			runApply()
			runXargs()
		} else {
			runXargs()
			runApply()
		}
	}
	n := float64(b.N)
	b.ReportMetric(applyTotal.Seconds()/n, "apply_s")
	b.ReportMetric(planTotal.Seconds()/n, "plan_s")
	b.ReportMetric(xargsTotal.Seconds()/n, "xargs_s")
	b.ReportMetric(applyTotal.Seconds()/xargsTotal.Seconds(), "apply/xargs")
}

// writeXargsCommands writes, in dir, the var file of every build of the
// workspace there and a file of the packer command lines apply runs for
// them, one build per line as xargs -L1 reads them. It returns that file.
func writeXargsCommands(tb testing.TB, dir, bin string, builds int) string {
	tb.Helper()
	ws, diags := plan.LoadWorkspace(dir, config.Inputs{})
	if diags.HasErrors() {
		tb.Fatalf("load workspace %s: %s", dir, diags.Error())
	}
	var lines []string
	for _, bd := range ws.Builds {
		r := bd.Render
		path := filepath.Join(dir, filepath.FromSlash(r.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, r.Bytes, 0o644); err != nil {
			tb.Fatal(err)
		}
		if bd.Image.WorkingDir != "." {
			tb.Fatalf("image %s runs packer in %s; the baseline runs every command in the workspace root", bd.Image.Name, bd.Image.WorkingDir)
		}
		inv := packer.Invocation{Bin: bin, Template: bd.Image.Template, Only: []string{bd.Only}, VarFiles: []string{r.Path}}
		args := inv.Args("build")
		for _, a := range args {
			if a == "" || strings.ContainsAny(a, " \t\n'\"\\") {
				tb.Fatalf("argument %q cannot be passed through xargs as is", a)
			}
		}
		lines = append(lines, strings.Join(args, " "))
	}
	if len(lines) != builds {
		tb.Fatalf("the workspace has %d builds, want %d", len(lines), builds)
	}
	cmds := filepath.Join(tb.TempDir(), "commands.txt")
	if err := os.WriteFile(cmds, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return cmds
}

// benchFixture is a fresh copy of testdata/bench with n null builds that
// sleep for sleep seconds each (the fixture itself has 20 sleeping 1 s).
func benchFixture(tb testing.TB, n int, sleep string) string {
	tb.Helper()
	dir := copyFixture(tb, "bench")
	if n == 20 && sleep == "1" {
		return dir
	}
	var ws, tmpl strings.Builder
	ws.WriteString("hybrid {\n  packer_version = \">= 1.9.0\"\n  parallelism    = 4\n}\n\nenvironment \"bench\" {}\n")
	tmpl.WriteString("packer {\n  required_version = \">= 1.9.0\"\n}\n\nvariable \"enable_ansible\" {\n  type    = bool\n  default = false\n}\n\nvariable \"enable_puppet\" {\n  type    = bool\n  default = false\n}\n")
	var sources []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("linux-sleep-%04d", i)
		fmt.Fprintf(&ws, "\nimage %q {\n  template = \"templates/linux\"\n  build    = \"null.%s\"\n}\n", name, name)
		fmt.Fprintf(&tmpl, "\nsource \"null\" %q {\n  communicator = \"none\"\n}\n", name)
		sources = append(sources, fmt.Sprintf("%q", "source.null."+name))
	}
	fmt.Fprintf(&tmpl, "\nbuild {\n  sources = [%s]\n\n  provisioner \"shell-local\" {\n    inline = [\"sleep %s\"]\n  }\n}\n", strings.Join(sources, ", "), sleep)
	if err := os.WriteFile(filepath.Join(dir, "hybrid.hcl"), []byte(ws.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "templates", "linux", "sleep.pkr.hcl"), []byte(tmpl.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// runXargsCommands runs the command lines in cmds through
// `xargs -P4 -L1 packer` in dir, with the environment apply gives packer,
// and fails if any build fails. Packer's output is discarded.
func runXargsCommands(tb testing.TB, xargs, bin, dir, cmds string) {
	tb.Helper()
	in, err := os.Open(cmds)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command(xargs, "-P", strconv.Itoa(benchParallelism), "-L", "1", "--", bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("xargs packer build: %v\n%s", err, stderr.String())
	}
}

// discardSink takes apply's progress and drops it, so the benchmark pays
// for turning packer's output into lines but not for printing them.
type discardSink struct{}

func (discardSink) NodeStarted(string, plan.Action)    {}
func (discardSink) Output(string, string)              {}
func (discardSink) StillRunning(string, time.Duration) {}
func (discardSink) NodeFinished(apply.NodeResult)      {}
