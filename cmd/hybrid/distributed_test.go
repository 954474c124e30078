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
func writeDistWorkspace(t *testing.T, dir string, spec distSpec) {
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
	fmt.Fprintf(&tmpl, "build {\n  sources = [%s]\n\n  provisioner \"shell-local\" {\n    inline = [\"sleep %d\", \"echo ${source.name} >> \\\"$HYBRID_TEST_MARKS\\\"\"]\n  }\n}\n", strings.Join(names, ", "), spec.Sleep)
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
func distEnv(t *testing.T, connStr, marks string, extra ...string) []string {
	t.Helper()
	env := append(os.Environ(),
		"HYBRID_PG_CONN_STR="+connStr,
		"HYBRID_PACKER="+requirePacker(t),
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
func startWorker(t *testing.T, bin, dir string, env []string, name string, args ...string) *workerProc {
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
func runDist(t *testing.T, bin, dir string, env []string, args ...string) (string, int) {
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
func readMarks(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, l := range strings.Fields(string(b)) {
		n[l]++
	}
	return n
}

// readPGState reads the state in the database.
func readPGState(t *testing.T, connStr string) *state.State {
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
func jobsOf(t *testing.T, connStr string) []queue.Job {
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

// jsonLines decodes a JSON document.
func jsonDecode(t *testing.T, s string, v any) {
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
