package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/apply/queue"
	"github.com/hybridcore/hybrid/internal/pgtest"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/pg"
)

// distSpec describes a generated workspace for the distributed tests.
type distSpec struct {
	// Builds is the number of null builds that sleep Sleep seconds and
	// then append their name to $HYBRID_TEST_MARKS.
	Builds int
	Sleep  int
	// Extra is appended to hybrid.hcl (more images).
	Extra string
	// ExtraTemplates are more template files, by workspace-relative path.
	ExtraTemplates map[string]string
}

// writeDistWorkspace writes the workspace of spec into dir.
func writeDistWorkspace(t testing.TB, dir string, spec distSpec) {
	t.Helper()
	var hcl, tmpl strings.Builder
	hcl.WriteString("hybrid {\n  packer_version = \">= 1.9.0\"\n}\n\nenvironment \"prod\" {}\n\n")
	tmpl.WriteString("packer {\n  required_version = \">= 1.9.0\"\n}\n\nvariable \"enable_ansible\" {\n  type    = bool\n  default = false\n}\n\nvariable \"enable_puppet\" {\n  type    = bool\n  default = false\n}\n\n")
	var names []string
	for i := 1; i <= spec.Builds; i++ {
		name := fmt.Sprintf("linux-sleep-%03d", i)
		names = append(names, `"source.null.`+name+`"`)
		fmt.Fprintf(&hcl, "image %q {\n  template = \"templates/linux\"\n  build    = \"null.%s\"\n}\n\n", name, name)
		fmt.Fprintf(&tmpl, "source \"null\" %q {\n  communicator = \"none\"\n}\n\n", name)
	}
	fmt.Fprintf(&tmpl, "build {\n  sources = [%s]\n\n  provisioner \"shell-local\" {\n    inline = [\"echo start:${source.name}:$(date +%%s%%N) >> \\\"$HYBRID_TEST_MARKS\\\"\", \"sleep %d\", \"echo ${source.name} >> \\\"$HYBRID_TEST_MARKS\\\"\"]\n  }\n}\n", strings.Join(names, ", "), spec.Sleep)
	hcl.WriteString(spec.Extra)
	files := map[string]string{
		"hybrid.hcl":                       hcl.String(),
		"hybrid.lock.hcl":                  "packer {\n  version     = \"1.9.4\"\n  constraints = \">= 1.9.0\"\n}\n",
		"templates/linux/sleep.pkr.hcl":    tmpl.String(),
		"templates/ansible/playbook.yml":   "- hosts: all\n  tasks: []\n",
		"templates/puppet/manifests/.keep": "",
	}
	for k, v := range spec.ExtraTemplates {
		files[k] = v
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// distEnv is the environment of the hybrid processes of a distributed
// test: the database, packer, a digest key every machine shares, and the
// file the builds mark.
func distEnv(t testing.TB, connStr, marks string, extra ...string) []string {
	t.Helper()
	return distEnvWith(connStr, requirePacker(t), marks, extra...)
}

func distEnvWith(connStr, packerBin, marks string, extra ...string) []string {
	env := append(os.Environ(),
		"HYBRID_PG_CONN_STR="+connStr,
		"HYBRID_PACKER="+packerBin,
		"CHECKPOINT_DISABLE=1",
		"HYBRID_DIGEST_KEY=0123456789abcdef0123456789abcdef-test-key",
		"HYBRID_TEST_MARKS="+marks,
		"NO_COLOR=1",
	)
	return append(env, extra...)
}

// worker is a hybrid worker process.
type workerProc struct {
	name string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

// startWorker starts hybrid worker in its own copy of the workspace.
func startWorker(t testing.TB, bin, dir string, env []string, name string, args ...string) *workerProc {
	t.Helper()
	var mu sync.Mutex
	buf := &bytes.Buffer{}
	cmd := exec.Command(bin, append([]string{"worker", "-name=" + name}, args...)...)
	cmd.Dir, cmd.Env = dir, env
	w := &lockedWriter{mu: &mu, w: buf}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wp := &workerProc{name: name, cmd: cmd, log: buf, mu: &mu, done: make(chan struct{})}
	go func() { cmd.Wait(); close(wp.done) }()
	t.Cleanup(func() {
		select {
		case <-wp.done:
		default:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-wp.done:
			case <-time.After(20 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-wp.done
			}
		}
		if t.Failed() {
			t.Logf("worker %s log:\n%s", name, wp.output())
		}
	})
	return wp
}

func (w *workerProc) output() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.String()
}

// kill9 kills the worker's whole process group (packer dies with it
// anyway), as a lost machine would.
func (w *workerProc) kill9() {
	syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	<-w.done
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// runDist runs the hybrid binary in dir and returns its output and exit
// code.
func runDist(t testing.TB, bin, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// readMarks counts, per build name, the builds that ran to their end.
func readMarks(t testing.TB, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range strings.Fields(string(b)) {
		if !strings.HasPrefix(l, "start:") {
			n[l]++
		}
	}
	return n
}

// readStarts returns when each build started, as the builds marked it.
func readStarts(t testing.TB, path string) map[string][]time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out := map[string][]time.Time{}
	for _, l := range strings.Fields(string(b)) {
		rest, ok := strings.CutPrefix(l, "start:")
		if !ok {
			continue
		}
		name, ns, _ := strings.Cut(rest, ":")
		var n int64
		fmt.Sscan(ns, &n)
		out[name] = append(out[name], time.Unix(0, n))
	}
	return out
}

// readPGState reads the state in the database.
func readPGState(t testing.TB, connStr string) *state.State {
	t.Helper()
	b, err := pg.Open(context.Background(), connStr, "hybrid")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// jobsOf lists the queue's build jobs.
func jobsOf(t testing.TB, connStr string) []queue.Job {
	t.Helper()
	b, err := pg.Open(context.Background(), connStr, "hybrid")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	q, err := queue.Open(context.Background(), b.Pool(), "hybrid", nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := q.List(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// buildSummary is what two applies of one workspace must agree on.
type buildSummary struct {
	Status      string
	Fingerprint string
	Artifacts   string
}

func summarize(st *state.State) map[string]buildSummary {
	out := map[string]buildSummary{}
	for addr, b := range st.Builds {
		var arts []string
		for _, a := range b.Artifacts {
			arts = append(arts, a.BuilderID+"|"+a.ID+"|"+a.String+"|"+strings.Join(a.Files, ","))
		}
		sort.Strings(arts)
		out[addr] = buildSummary{Status: string(b.Status), Fingerprint: b.Fingerprint, Artifacts: strings.Join(arts, ";")}
	}
	return out
}

// TestDistributedApply: four worker processes and a coordinator apply 100
// null builds of 3 seconds; every build runs and is recorded once, the
// state equals a local apply's, and the next plan has no changes.
func TestDistributedApply(t *testing.T) {
	requirePacker(t)
	_, connStr := pgtest.Start(t)
	bin := hybridBinary(t)
	root := t.TempDir()
	spec := distSpec{Builds: 100, Sleep: 3}
	ws := filepath.Join(root, "coordinator")
	writeDistWorkspace(t, ws, spec)
	marks := filepath.Join(root, "marks")
	env := distEnv(t, connStr, marks)
	// The schema exists once a command opened the state: plan does.
	if out, code := runDist(t, bin, ws, env, "plan"); code != 2 && code != 0 {
		t.Fatalf("plan exited %d:\n%s", code, out)
	}
	auditBuilds(t, connStr)
	for i := 1; i <= 4; i++ {
		dir := filepath.Join(root, fmt.Sprintf("worker%d", i))
		copyTree(t, ws, dir)
		startWorker(t, bin, dir, env, fmt.Sprintf("w%d", i), "-concurrency=2")
	}
	start := time.Now()
	out, code := runDist(t, bin, ws, env, "apply", "-distributed", "-auto-approve")
	t.Logf("distributed apply of 100 builds: %s", time.Since(start).Round(time.Millisecond))
	if code != 0 || !strings.Contains(out, "Apply complete! 100 built, 100 rendered, 0 failed") {
		t.Fatalf("apply -distributed exited %d:\n%s", code, out)
	}
	if !strings.Contains(out, "building on worker w") {
		t.Errorf("the output does not say which worker builds:\n%s", out)
	}
	got := readMarks(t, marks)
	if len(got) != 100 {
		t.Errorf("%d builds ran to their end, want 100", len(got))
	}
	for name, n := range got {
		if n != 1 {
			t.Errorf("%s ran %d times", name, n)
		}
	}
	st := readPGState(t, connStr)
	if len(st.Builds) != 100 {
		t.Fatalf("%d builds recorded, want 100", len(st.Builds))
	}
	for addr, w := range auditedWrites(t, connStr) {
		if len(w) != 1 || w["succeeded"] != 1 {
			t.Errorf("%s was written %v, want once, as succeeded", addr, w)
		}
	}
	for _, j := range jobsOf(t, connStr) {
		if j.State != "completed" || j.Attempt != 1 {
			t.Errorf("job %d (%s) is %s after %d attempts", j.ID, j.Address, j.State, j.Attempt)
		}
	}

	// Planned again: nothing to do.
	out, code = runDist(t, bin, ws, env, "plan", "-detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes.") {
		t.Errorf("plan after the distributed apply exited %d:\n%s", code, out)
	}

	// The same workspace applied locally records the same builds.
	local := filepath.Join(root, "local")
	writeDistWorkspace(t, local, spec)
	localEnv := distEnv(t, "", filepath.Join(root, "marks-local"))
	localEnv = withoutEnv(localEnv, "HYBRID_PG_CONN_STR")
	out, code = runDist(t, bin, local, localEnv, "apply", "-auto-approve", "-parallelism=8")
	if code != 0 {
		t.Fatalf("local apply exited %d:\n%s", code, out)
	}
	lst, err := state.NewLocal(filepath.Join(local, "state", stateFilename)).Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, have := summarize(lst), summarize(st)
	if len(want) != 100 {
		t.Fatalf("local apply recorded %d builds", len(want))
	}
	for addr, w := range want {
		if have[addr] != w {
			t.Errorf("%s: distributed %+v, local %+v", addr, have[addr], w)
		}
	}
}

// withoutEnv drops the variable key from env.
func withoutEnv(env []string, key string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// jsonDecode decodes a JSON document.
func jsonDecode(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}

// TestDistributedQueuesAndFailure: images name their queue and only the
// workers of that queue build them; a failing build skips the build that
// depends on it, as a local apply does, and the apply exits 1.
func TestDistributedQueuesAndFailure(t *testing.T) {
	requirePacker(t)
	_, connStr := pgtest.Start(t)
	bin := hybridBinary(t)
	root := t.TempDir()
	spec := distSpec{Builds: 4, Sleep: 1, Extra: `
environment "special" {
  queue = "special"
}

image "broken" {
  template     = "templates/broken"
  build        = "null.linux-broken"
  environments = [environment.prod]
}

image "derived" {
  template     = "templates/broken"
  build        = "null.linux-derived"
  depends_on   = [image.broken]
  environments = [environment.prod]
}

image "windows" {
  template     = "templates/broken"
  build        = "null.windows-test"
  queue        = "windows"
  environments = [environment.prod]
}
`, ExtraTemplates: map[string]string{"templates/broken/broken.pkr.hcl": `
source "null" "linux-broken" {
  communicator = "none"
}

source "null" "linux-derived" {
  communicator = "none"
}

source "null" "windows-test" {
  communicator = "none"
}

build {
  sources = ["source.null.linux-broken"]
  provisioner "shell-local" {
    inline = ["echo broken >> \"$HYBRID_TEST_MARKS\"", "exit 3"]
  }
}

build {
  sources = ["source.null.linux-derived", "source.null.windows-test"]
  provisioner "shell-local" {
    inline = ["echo ${source.name} >> \"$HYBRID_TEST_MARKS\""]
  }
}
`}}
	ws := filepath.Join(root, "coordinator")
	writeDistWorkspace(t, ws, spec)
	marks := filepath.Join(root, "marks")
	env := distEnv(t, connStr, marks)
	for _, w := range []struct{ name, queue string }{{"wdefault", "default"}, {"wspecial", "special"}, {"wwindows", "windows"}} {
		dir := filepath.Join(root, w.name)
		copyTree(t, ws, dir)
		startWorker(t, bin, dir, env, w.name, "-queue="+w.queue, "-concurrency=2")
	}
	out, code := runDist(t, bin, ws, env, "apply", "-distributed", "-auto-approve")
	if code != 1 {
		t.Fatalf("apply -distributed exited %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"build.prod.broken", "packer exited with status", "build.prod.derived",
		"9 built, 11 rendered, 1 failed, 1 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	m := readMarks(t, marks)
	if m["linux-derived"] != 0 || m["broken"] != 1 {
		t.Errorf("broken ran %d times (want 1, no retries), derived %d (want 0: skipped)", m["broken"], m["linux-derived"])
	}
	workerOf := map[string]string{}
	for _, j := range jobsOf(t, connStr) {
		workerOf[j.Address] = j.Worker
	}
	for addr, want := range map[string]string{
		"build.prod.windows":            "wwindows",
		"build.special.linux-sleep-001": "wspecial", "build.prod.linux-sleep-001": "wdefault",
		"build.prod.broken": "wdefault",
	} {
		if workerOf[addr] != want {
			t.Errorf("%s was built by %q, want %q", addr, workerOf[addr], want)
		}
	}
	if _, ok := workerOf["build.prod.derived"]; ok {
		t.Errorf("the build depending on the failed one was enqueued")
	}
	out, code = runDist(t, bin, ws, env, "queue")
	if code != 0 || !strings.Contains(out, "build.prod.broken") || !strings.Contains(out, "cancelled") {
		t.Errorf("hybrid queue exited %d:\n%s", code, out)
	}
}

// BenchmarkDistributedApply applies the 100-build workload (null builds
// that sleep 3 seconds) with 4 worker processes at concurrency 2, and the
// same workspace with one local apply at parallelism 2, in one run. It
// reports the wall-time ratio (distributed/local) and the scheduling
// overhead per job: from its insertion in the queue to its worker's start.
//
//	go test ./cmd/hybrid -run '^$' -bench DistributedApply -benchtime 1x
func BenchmarkDistributedApply(b *testing.B) {
	for i := 0; i < b.N; i++ {
		benchDistributedOnce(b)
	}
}

func benchDistributedOnce(b *testing.B) {
	b.StopTimer()
	packerBin := requirePacker(b)
	_, connStr := pgtest.Start(b)
	bin := hybridBinary(b)
	root := b.TempDir()
	spec := distSpec{Builds: 100, Sleep: 3}
	ws := filepath.Join(root, "coordinator")
	writeDistWorkspace(b, ws, spec)
	env := distEnvWith(connStr, packerBin, filepath.Join(root, "marks"))
	for i := 1; i <= 4; i++ {
		dir := filepath.Join(root, fmt.Sprintf("worker%d", i))
		copyTree(b, ws, dir)
		startWorker(b, bin, dir, env, fmt.Sprintf("w%d", i), "-concurrency=2")
	}
	local := filepath.Join(root, "local")
	writeDistWorkspace(b, local, spec)
	localEnv := withoutEnv(distEnvWith("", packerBin, filepath.Join(root, "marks-local")), "HYBRID_PG_CONN_STR")

	b.StartTimer()
	start := time.Now()
	out, code := runDist(b, bin, ws, env, "apply", "-distributed", "-auto-approve")
	dist := time.Since(start)
	if code != 0 {
		b.Fatalf("apply -distributed exited %d:\n%s", code, out)
	}
	start = time.Now()
	out, code = runDist(b, bin, local, localEnv, "apply", "-auto-approve", "-parallelism=2")
	loc := time.Since(start)
	b.StopTimer()
	if code != 0 {
		b.Fatalf("local apply exited %d:\n%s", code, out)
	}
	jobs := jobsOf(b, connStr)
	if len(jobs) != 100 {
		b.Fatalf("%d jobs, want 100", len(jobs))
	}
	sched := schedulingOverheads(b, jobs)
	var sum time.Duration
	for _, d := range sched {
		sum += d
	}
	perJob := float64(sum.Microseconds()) / 1000 / float64(len(sched))
	b.ReportMetric(dist.Seconds(), "s-distributed")
	b.ReportMetric(loc.Seconds(), "s-local-p2")
	b.ReportMetric(dist.Seconds()/loc.Seconds(), "ratio")
	b.ReportMetric(perJob, "ms/job-sched")
	b.Logf("distributed %s, local (parallelism 2) %s, ratio %.3f; scheduling overhead %.1f ms per job",
		dist.Round(time.Millisecond), loc.Round(time.Millisecond), dist.Seconds()/loc.Seconds(), perJob)
}

// schedulingOverheads are, for each job, the time from the moment it could
// have started (it was enqueued, and a slot of the worker that took it was
// free) to its start on that worker. A worker of concurrency 2 starts its
// k-th job when the (k-2)-th of its jobs to finish has finished.
func schedulingOverheads(t testing.TB, jobs []queue.Job) []time.Duration {
	t.Helper()
	byWorker := map[string][]*queue.Output{}
	created := map[*queue.Output]time.Time{}
	for _, j := range jobs {
		if j.Output == nil || j.Output.Started.IsZero() {
			t.Fatalf("job %d (%s) has no report of its start", j.ID, j.Address)
		}
		byWorker[j.Worker] = append(byWorker[j.Worker], j.Output)
		created[j.Output] = j.CreatedAt
	}
	var out []time.Duration
	for _, outs := range byWorker {
		sort.Slice(outs, func(a, b int) bool { return outs[a].Started.Before(outs[b].Started) })
		var finishes []time.Time
		for _, o := range outs {
			finishes = append(finishes, o.Finished)
		}
		sort.Slice(finishes, func(a, b int) bool { return finishes[a].Before(finishes[b]) })
		for k, o := range outs {
			ready := created[o]
			if k >= 2 && finishes[k-2].After(ready) {
				ready = finishes[k-2]
			}
			out = append(out, o.Started.Sub(ready))
		}
	}
	return out
}

// auditBuilds makes the database keep a row for every write of a build
// record (a trigger on hybrid's records table), so that a test can tell a
// build recorded twice from one recorded once.
func auditBuilds(t testing.TB, connStr string) {
	t.Helper()
	b, err := pg.Open(context.Background(), connStr, "hybrid")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.Pool().Exec(context.Background(), `
CREATE TABLE hybrid.audit (key text, status text, run text, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION hybrid.audit_fn() RETURNS trigger AS $$
BEGIN
  IF NEW.kind = 'build' THEN
    INSERT INTO hybrid.audit (key, status, run) VALUES (NEW.key, NEW.data->>'status', NEW.data->>'packer_run_uuid');
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER audit AFTER INSERT OR UPDATE ON hybrid.records FOR EACH ROW EXECUTE FUNCTION hybrid.audit_fn();`)
	if err != nil {
		t.Fatal(err)
	}
}

// auditedWrites counts the writes of each build record, by status.
func auditedWrites(t testing.TB, connStr string) map[string]map[string]int {
	t.Helper()
	b, err := pg.Open(context.Background(), connStr, "hybrid")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	rows, err := b.Pool().Query(context.Background(), "SELECT key, status FROM hybrid.audit")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var key, status string
		if err := rows.Scan(&key, &status); err != nil {
			t.Fatal(err)
		}
		if out[key] == nil {
			out[key] = map[string]int{}
		}
		out[key][status]++
	}
	return out
}

// runningOn returns, by worker name, the addresses of the jobs running.
func runningOn(t testing.TB, connStr string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, j := range jobsOf(t, connStr) {
		if j.State == "running" {
			out[j.Worker] = append(out[j.Worker], j.Address)
		}
	}
	return out
}

// envInt reads a positive count from the environment, def when unset.
func envInt(t testing.TB, key string, def int) int {
	t.Helper()
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", key, s)
	}
	return n
}

// TestDistributedWorkerKill kills worker processes with SIGKILL while they
// build (HYBRID_DIST_KILL_TRIALS trials, 20 by default), starting a new
// worker each time: every killed build's job is rescued and completed by
// another worker, every build is recorded exactly once as succeeded (an
// audit trigger counts the writes), and none is lost.
func TestDistributedWorkerKill(t *testing.T) {
	requirePacker(t)
	trials := envInt(t, "HYBRID_DIST_KILL_TRIALS", 20)
	_, connStr := pgtest.Start(t)
	bin := hybridBinary(t)
	root := t.TempDir()
	// Enough builds that the killing can go on until the trials are done.
	spec := distSpec{Builds: 24 + 3*trials, Sleep: 5}
	ws := filepath.Join(root, "coordinator")
	writeDistWorkspace(t, ws, spec)
	marks := filepath.Join(root, "marks")
	env := distEnv(t, connStr, marks, "HYBRID_WORKER_RESCUE_AFTER=4s")
	// The schema exists once a command opened the state: plan does.
	if out, code := runDist(t, bin, ws, env, "plan"); code != 0 {
		t.Fatalf("plan exited %d:\n%s", code, out)
	}
	auditBuilds(t, connStr)
	// Workers started while the apply runs copy the workspace as it was
	// before: the coordinator's is being written to.
	pristine := filepath.Join(root, "pristine")
	copyTree(t, ws, pristine)
	var (
		mu      sync.Mutex
		workers = map[string]*workerProc{}
		n       int
	)
	spawn := func() {
		n++
		name := fmt.Sprintf("w%d", n)
		dir := filepath.Join(root, name)
		copyTree(t, pristine, dir)
		workers[name] = startWorker(t, bin, dir, env, name, "-concurrency=2")
	}
	for range 4 {
		spawn()
	}
	applyDone := make(chan struct{})
	var out string
	var code int
	go func() {
		defer close(applyDone)
		out, code = runDist(t, bin, ws, env, "apply", "-distributed", "-auto-approve")
	}()
	killed := 0
	var victims []string
	func() {
		tick := time.NewTicker(2500 * time.Millisecond)
		defer tick.Stop()
		for killed < trials {
			select {
			case <-applyDone:
				return
			case <-tick.C:
			}
			for name, addrs := range runningOn(t, connStr) {
				mu.Lock()
				w := workers[name]
				mu.Unlock()
				if w == nil || len(addrs) == 0 {
					continue
				}
				w.kill9()
				killed++
				victims = append(victims, fmt.Sprintf("%s (building %s)", name, strings.Join(addrs, ", ")))
				mu.Lock()
				delete(workers, name)
				spawn()
				mu.Unlock()
				break
			}
		}
	}()
	<-applyDone
	t.Logf("%d workers killed mid-build: %s", killed, strings.Join(victims, "; "))
	if killed < trials {
		t.Errorf("only %d of %d kills landed before the apply ended", killed, trials)
	}
	if code != 0 || !strings.Contains(out, fmt.Sprintf("Apply complete! %d built", spec.Builds)) {
		t.Fatalf("apply -distributed exited %d:\n%s", code, out)
	}
	st := readPGState(t, connStr)
	writes := auditedWrites(t, connStr)
	for i := 1; i <= spec.Builds; i++ {
		addr := fmt.Sprintf("build.prod.linux-sleep-%03d", i)
		rec := st.Builds[addr]
		if rec == nil || rec.Status != state.StatusSucceeded || rec.Fingerprint == "" {
			t.Errorf("%s is not recorded as built: %+v", addr, rec)
		}
		if w := writes[addr]; len(w) != 1 || w["succeeded"] != 1 {
			t.Errorf("%s was written %v, want once, as succeeded", addr, w)
		}
	}
	rescued := 0
	for _, j := range jobsOf(t, connStr) {
		if j.State != "completed" {
			t.Errorf("job %d (%s) ended %s", j.ID, j.Address, j.State)
		}
		if j.Attempt > 1 {
			rescued++
		}
	}
	t.Logf("%d jobs were rescued and completed by another worker", rescued)
	if rescued < killed {
		t.Errorf("%d jobs rescued for %d kills mid-build", rescued, killed)
	}
	if out, code := runDist(t, bin, ws, env, "plan", "-detailed-exitcode"); code != 0 {
		t.Errorf("plan after the apply exited %d:\n%s", code, out)
	}
}

// TestDistributedCoordinatorKill kills the coordinator with SIGKILL while
// workers build: its state lock goes with its database session, workers
// interrupt what they run and start nothing new, and a new apply
// -distributed builds only what was not recorded.
func TestDistributedCoordinatorKill(t *testing.T) {
	requirePacker(t)
	_, connStr := pgtest.Start(t)
	bin := hybridBinary(t)
	root := t.TempDir()
	spec := distSpec{Builds: 16, Sleep: 4}
	ws := filepath.Join(root, "coordinator")
	writeDistWorkspace(t, ws, spec)
	marks := filepath.Join(root, "marks")
	env := distEnv(t, connStr, marks, "HYBRID_WORKER_RESCUE_AFTER=4s")
	for i := 1; i <= 2; i++ {
		dir := filepath.Join(root, fmt.Sprintf("worker%d", i))
		copyTree(t, ws, dir)
		startWorker(t, bin, dir, env, fmt.Sprintf("w%d", i), "-concurrency=2")
	}
	cmd := exec.Command(bin, "apply", "-distributed", "-auto-approve")
	cmd.Dir, cmd.Env = ws, env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once a few builds are recorded and others run.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no build recorded in time:\n%s", buf.String())
		}
		time.Sleep(200 * time.Millisecond)
		if n := len(readPGState(t, connStr).Builds); n >= 4 && len(runningOn(t, connStr)) > 0 {
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	killedAt := time.Now()
	// The workers notice within a heartbeat; then nothing runs.
	time.Sleep(8 * time.Second)
	if r := runningOn(t, connStr); len(r) > 0 {
		t.Errorf("jobs still running 8s after the coordinator died: %v", r)
	}
	for name, starts := range readStarts(t, marks) {
		for _, s := range starts {
			if s.After(killedAt.Add(5 * time.Second)) {
				t.Errorf("%s started %s after the coordinator died", name, s.Sub(killedAt))
			}
		}
	}
	st := readPGState(t, connStr)
	done := 0
	for _, b := range st.Builds {
		if b.Status == state.StatusSucceeded {
			done++
		}
	}
	t.Logf("%d of %d builds recorded when the coordinator was killed", done, spec.Builds)
	out, code := runDist(t, bin, ws, env, "apply", "-distributed", "-auto-approve")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("Apply complete! %d built, 0 rendered", spec.Builds-done)) {
		t.Fatalf("second apply -distributed exited %d, want %d built:\n%s", code, spec.Builds-done, out)
	}
	st = readPGState(t, connStr)
	for addr, b := range st.Builds {
		if b.Status != state.StatusSucceeded {
			t.Errorf("%s: %s", addr, b.Status)
		}
	}
	if len(st.Builds) != spec.Builds {
		t.Errorf("%d builds recorded, want %d", len(st.Builds), spec.Builds)
	}
}

// TestDistributedWorkerStop stops a worker with SIGTERM while it builds:
// it takes no new job, its build is interrupted when the grace period
// ends, and the job goes back to the queue, where another worker builds it.
func TestDistributedWorkerStop(t *testing.T) {
	requirePacker(t)
	_, connStr := pgtest.Start(t)
	bin := hybridBinary(t)
	root := t.TempDir()
	spec := distSpec{Builds: 1, Sleep: 20}
	ws := filepath.Join(root, "coordinator")
	writeDistWorkspace(t, ws, spec)
	env := distEnv(t, connStr, filepath.Join(root, "marks"))
	dir1 := filepath.Join(root, "worker1")
	copyTree(t, ws, dir1)
	w1 := startWorker(t, bin, dir1, env, "w1", "-grace=2s")
	applyDone := make(chan struct{})
	var out string
	var code int
	go func() {
		defer close(applyDone)
		out, code = runDist(t, bin, ws, env, "apply", "-distributed", "-auto-approve")
	}()
	deadline := time.Now().Add(time.Minute)
	for len(runningOn(t, connStr)["w1"]) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("w1 did not start the build:\n%s", w1.output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
	w1.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w1.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("w1 did not stop 30s after SIGTERM:\n%s", w1.output())
	}
	if c := w1.cmd.ProcessState.ExitCode(); c != 0 {
		t.Errorf("w1 exited %d:\n%s", c, w1.output())
	}
	dir2 := filepath.Join(root, "worker2")
	copyTree(t, ws, dir2)
	startWorker(t, bin, dir2, env, "w2")
	<-applyDone
	if code != 0 || !strings.Contains(out, "Apply complete! 1 built") {
		t.Fatalf("apply -distributed exited %d:\n%s", code, out)
	}
	jobs := jobsOf(t, connStr)
	if len(jobs) != 1 || jobs[0].Worker != "w2" || jobs[0].Attempt != 2 || jobs[0].State != "completed" {
		t.Errorf("jobs: %+v, want one completed by w2 at its second attempt", jobs)
	}
	if !strings.Contains(w1.output(), "grace period over") {
		t.Errorf("w1 did not say it interrupted its build:\n%s", w1.output())
	}
}

// TestDistributedRetries: a build of an image with retries = 1 that fails
// once is run again and succeeds; the apply succeeds. The worker, started
// with -idle-exit, then ends by itself.
func TestDistributedRetries(t *testing.T) {
	requirePacker(t)
	_, connStr := pgtest.Start(t)
	bin := hybridBinary(t)
	root := t.TempDir()
	spec := distSpec{Builds: 0, Extra: `
image "flaky" {
  template = "templates/flaky"
  build    = "null.linux-flaky"
  retries  = 1
}
`, ExtraTemplates: map[string]string{"templates/flaky/flaky.pkr.hcl": `
source "null" "linux-flaky" {
  communicator = "none"
}

build {
  sources = ["source.null.linux-flaky"]
  provisioner "shell-local" {
    inline = ["if [ -e \"$HYBRID_TEST_MARKS.once\" ]; then exit 0; fi", "touch \"$HYBRID_TEST_MARKS.once\"", "exit 1"]
  }
}
`}}
	ws := filepath.Join(root, "coordinator")
	writeDistWorkspace(t, ws, spec)
	os.Remove(filepath.Join(ws, "templates", "linux", "sleep.pkr.hcl"))
	env := distEnv(t, connStr, filepath.Join(root, "marks"))
	dir := filepath.Join(root, "worker")
	copyTree(t, ws, dir)
	w := startWorker(t, bin, dir, env, "w1", "-idle-exit=3s")
	out, code := runDist(t, bin, ws, env, "apply", "-distributed", "-auto-approve")
	// -idle-exit: the worker ends once the queue stays empty.
	select {
	case <-w.done:
		if c := w.cmd.ProcessState.ExitCode(); c != 0 {
			t.Errorf("the worker exited %d", c)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("the worker started with -idle-exit=3s still runs 30s after the apply")
	}
	if code != 0 || !strings.Contains(out, "Apply complete! 1 built") || !strings.Contains(out, "attempt 2 of job 1 on worker w1 (attempt 1: build failed: packer exited with status 1") {
		t.Fatalf("apply -distributed exited %d:\n%s", code, out)
	}
	jobs := jobsOf(t, connStr)
	if len(jobs) != 1 || jobs[0].Attempt != 2 || jobs[0].State != "completed" {
		t.Errorf("jobs: %+v, want one completed at its second attempt", jobs)
	}
}

// TestDistributedInterrupt interrupts the coordinator (SIGINT) while one
// build runs and others wait in the queue: the waiting jobs are withdrawn,
// the running build is asked to stop and does, and apply exits 1 naming
// them cancelled. The worker stays up.
func TestDistributedInterrupt(t *testing.T) {
	requirePacker(t)
	_, connStr := pgtest.Start(t)
	bin := hybridBinary(t)
	root := t.TempDir()
	spec := distSpec{Builds: 4, Sleep: 30}
	ws := filepath.Join(root, "coordinator")
	writeDistWorkspace(t, ws, spec)
	env := distEnv(t, connStr, filepath.Join(root, "marks"))
	dir := filepath.Join(root, "worker")
	copyTree(t, ws, dir)
	w := startWorker(t, bin, dir, env, "w1")
	cmd := exec.Command(bin, "apply", "-distributed", "-auto-approve")
	cmd.Dir, cmd.Env = ws, env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &lockedWriter{mu: &sync.Mutex{}, w: &buf}, nil
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for len(runningOn(t, connStr)["w1"]) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no build started")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	took := time.Since(start)
	out := buf.String()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("apply -distributed after an interrupt: %v\n%s", err, out)
	}
	if took > 20*time.Second {
		t.Errorf("apply took %s to stop after the interrupt", took)
	}
	if !strings.Contains(out, "cancelled") {
		t.Errorf("output names nothing cancelled:\n%s", out)
	}
	for _, j := range jobsOf(t, connStr) {
		if j.State != "cancelled" {
			t.Errorf("job %d (%s) is %s, want cancelled", j.ID, j.Address, j.State)
		}
	}
	select {
	case <-w.done:
		t.Errorf("the worker exited:\n%s", w.output())
	default:
	}
	if n := len(readMarks(t, filepath.Join(root, "marks"))); n != 0 {
		t.Errorf("%d builds ran to their end", n)
	}
}
