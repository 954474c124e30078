package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hybridcore/hybrid/docs/schema"
)

// The commands the plan_* and apply_* scenarios use, beside script_test.go's.
func init() {
	scriptCmds["planjson"] = cmdPlanJSON
	scriptCmds["json"] = cmdJSON
	scriptCmds["snapshot"] = cmdSnapshot
	scriptCmds["samesnapshot"] = cmdSameSnapshot
	scriptCmds["lines"] = cmdLines
	scriptCmds["waitfor"] = cmdWaitFor
	scriptCmds["waitidle"] = cmdWaitIdle
	scriptCmds["idle"] = cmdIdle
	scriptCmds["interruptnextpacker"] = cmdInterruptNextPacker
}

// scriptWait bounds every waiting command, so a hung apply fails the script
// instead of the whole test binary.
const scriptWait = 90 * time.Second

// cmdPlanJSON checks that FILE holds a plan document of the documented shape
// (hybrid plan -json, hybrid plan -out): valid against the published
// schema, docs/schema/plan.schema.json, and consistent in what a schema
// cannot check (sorted changes, a summary that counts them). Then it checks
// each KEY=VALUE: a summary count (sync, build, rebuild, render, forget) or
// an address's action. planjson FILE [KEY=VALUE...]
func cmdPlanJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: planjson FILE [sync|build|rebuild|render|forget=N] [ADDRESS=ACTION]...")
	}
	if err := schema.ValidateDocument(schema.Plan, strings.NewReader(ts.ReadFile(args[0]))); err != nil {
		ts.Fatalf("%s does not follow %s:\n%v", args[0], schema.Plan, err)
	}
	doc, problems := checkPlanJSON([]byte(ts.ReadFile(args[0])))
	if len(problems) > 0 {
		ts.Fatalf("%s is not a plan document of the documented shape:\n  %s", args[0], strings.Join(problems, "\n  "))
	}
	for _, kv := range args[1:] {
		key, want, ok := strings.Cut(kv, "=")
		if !ok {
			ts.Fatalf("planjson: %q is not KEY=VALUE", kv)
		}
		if n, isCount := doc.summary[key]; isCount {
			if strconv.Itoa(n) != want {
				ts.Fatalf("summary.%s is %d, want %s", key, n, want)
			}
			continue
		}
		got, found := doc.actions[key]
		if !found {
			got = "(absent)"
		}
		if got != want {
			ts.Fatalf("%s has action %s, want %s", key, got, want)
		}
	}
}

// planDoc is what the checks after the shape validation need.
type planDoc struct {
	summary map[string]int
	actions map[string]string
}

// checkPlanJSON validates a plan document field by field, with the types a
// consumer written against the documentation relies on, and lists every
// problem it finds.
func checkPlanJSON(b []byte) (*planDoc, []string) {
	var top map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, []string{"not a JSON object: " + err.Error()}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	doc := &planDoc{summary: map[string]int{}, actions: map[string]string{}}

	if v, _ := top["format_version"].(string); v != "1.0" {
		bad("format_version is %#v, want \"1.0\"", top["format_version"])
	}
	if v, ok := top["state_lineage"].(string); !ok {
		bad("state_lineage is %#v, want a string", top["state_lineage"])
	} else if v != "" && !uuidRE.MatchString(v) {
		bad("state_lineage %q is not a UUID", v)
	}
	if !isCount(top["state_serial"]) {
		bad("state_serial is %#v, want a non-negative integer", top["state_serial"])
	}
	if v, ok := top["lock_digest"].(string); !ok || (v != "" && !isDigest(v)) {
		bad("lock_digest is %#v, want \"sha256:<hex>\"", top["lock_digest"])
	}
	if m, ok := top["source_commits"].(map[string]any); !ok {
		bad("source_commits is %#v, want an object", top["source_commits"])
	} else {
		for name, c := range m {
			if s, ok := c.(string); !ok || !commitRE.MatchString(s) {
				bad("source_commits.%s is %#v, want a commit ID", name, c)
			}
		}
	}
	if _, ok := top["packer_version"].(string); !ok {
		bad("packer_version is %#v, want a string", top["packer_version"])
	}

	counted := map[string]int{}
	runsUnknown := 0 // builds that run with no last_duration_seconds
	changes, ok := top["changes"].([]any)
	if !ok {
		bad("changes is %#v, want an array", top["changes"])
	}
	prev := ""
	for i, raw := range changes {
		c, ok := raw.(map[string]any)
		if !ok {
			bad("changes[%d] is %#v, want an object", i, raw)
			continue
		}
		addr, _ := c["address"].(string)
		at := fmt.Sprintf("changes[%d] (%s)", i, addr)
		if !addrRE.MatchString(addr) {
			bad("%s: address %#v is not source.NAME, render.ENV.IMAGE or build.ENV.IMAGE", at, c["address"])
		}
		if addr <= prev {
			bad("%s: changes are not sorted by address (after %s)", at, prev)
		}
		prev = addr
		typ, _ := c["type"].(string)
		if typ != strings.Split(addr, ".")[0] {
			bad("%s: type %#v does not match the address", at, c["type"])
		}
		action, _ := c["action"].(string)
		switch action {
		case "no-op", "create", "update", "delete":
		default:
			bad("%s: action %#v is not no-op, create, update or delete", at, c["action"])
		}
		doc.actions[addr] = action

		reasons, ok := c["reasons"].([]any)
		if !ok {
			bad("%s: reasons is %#v, want an array (empty for a no-op)", at, c["reasons"])
		}
		if action != "no-op" && len(reasons) == 0 {
			bad("%s: a %s without reasons", at, action)
		}
		if action == "no-op" && len(reasons) > 0 {
			bad("%s: a no-op with reasons", at)
		}
		for j, rr := range reasons {
			r, ok := rr.(map[string]any)
			if !ok {
				bad("%s: reasons[%d] is %#v, want an object", at, j, rr)
				continue
			}
			if k, _ := r["kind"].(string); !reasonKinds[k] {
				bad("%s: reasons[%d].kind is %#v, not one of the documented kinds", at, j, r["kind"])
			}
			if m, _ := r["message"].(string); m == "" {
				bad("%s: reasons[%d].message is %#v, want a sentence", at, j, r["message"])
			}
			for _, f := range []string{"input", "before", "after"} {
				if v, present := r[f]; present {
					if _, ok := v.(string); !ok {
						bad("%s: reasons[%d].%s is %#v, want a string", at, j, f, v)
					}
				}
			}
		}

		before, hasBefore := c["before_fingerprint"]
		after, hasAfter := c["after_fingerprint"]
		if hasBefore && !isDigest(before) {
			bad("%s: before_fingerprint is %#v, want \"sha256:<hex>\"", at, before)
		}
		if hasAfter && !isDigest(after) {
			bad("%s: after_fingerprint is %#v, want \"sha256:<hex>\"", at, after)
		}
		switch action {
		case "create":
			if hasBefore || !hasAfter {
				bad("%s: a create has after_fingerprint and no before_fingerprint", at)
			}
		case "update":
			// A retry of a failed build has no fingerprint in state.
			if !hasAfter {
				bad("%s: an update has an after_fingerprint", at)
			}
		case "no-op":
			if !hasBefore || !hasAfter || before != after {
				bad("%s: a no-op has two equal fingerprints", at)
			}
		case "delete":
			if hasAfter {
				bad("%s: a delete has no after_fingerprint", at)
			}
		}
		deps, ok := c["depends_on"].([]any)
		if !ok {
			bad("%s: depends_on is %#v, want an array (empty when it depends on nothing)", at, c["depends_on"])
		}
		for _, dep := range deps {
			if s, ok := dep.(string); !ok || !addrRE.MatchString(s) {
				bad("%s: depends_on holds %#v, want an address", at, dep)
			}
		}
		if d, present := c["last_duration_seconds"]; present && (!isCount(d) || typ != "build") {
			bad("%s: last_duration_seconds is %#v, want whole seconds on a build", at, d)
		}
		if _, present := c["last_duration_seconds"]; !present && typ == "build" && (action == "create" || action == "update") {
			runsUnknown++
		}
		switch {
		case action == "no-op":
		case action == "delete":
			counted["forget"]++
		case typ == "source":
			counted["sync"]++
		case typ == "render":
			counted["render"]++
		case action == "create":
			counted["build"]++
		default:
			counted["rebuild"]++
		}
	}

	summary, ok := top["summary"].(map[string]any)
	if !ok {
		bad("summary is %#v, want an object", top["summary"])
	}
	for _, k := range []string{"sync", "build", "rebuild", "render", "forget"} {
		v, present := summary[k]
		if !present || !isCount(v) {
			bad("summary.%s is %#v, want a non-negative integer", k, v)
			continue
		}
		n, _ := strconv.Atoi(string(v.(json.Number)))
		doc.summary[k] = n
		if n != counted[k] {
			bad("summary.%s is %d, but the changes hold %d", k, n, counted[k])
		}
	}

	est, ok := top["estimate"].(map[string]any)
	if !ok {
		bad("estimate is %#v, want an object", top["estimate"])
	}
	for _, k := range []string{"build_seconds", "wall_seconds", "parallelism", "unknown"} {
		if v, present := est[k]; ok && (!present || !isCount(v)) {
			bad("estimate.%s is %#v, want a non-negative integer", k, v)
		}
	}
	if n, _ := est["unknown"].(json.Number); ok && string(n) != strconv.Itoa(runsUnknown) {
		bad("estimate.unknown is %s, but %d builds that run have no last_duration_seconds", n, runsUnknown)
	}
	return doc, problems
}

// reasonKinds is the documented vocabulary of reasons[].kind (README, "Plan
// JSON").
var reasonKinds = map[string]bool{
	"new": true, "previous_failed": true, "file_changed": true, "input_changed": true,
	"variable_changed": true, "sensitive_changed": true, "source_commit": true,
	"packer_version": true, "plugin_version": true, "upstream": true, "render_drift": true,
	"source_drift": true, "source_dirty": true, "missing_artifact": true, "removed_from_config": true,
	"needed_by": true,
}

func isCount(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return err == nil && i >= 0
}

func isDigest(v any) bool {
	s, _ := v.(string)
	return digestRE.MatchString(s)
}

// The forms of the plan document's identifiers.
var (
	addrRE   = regexp.MustCompile(`^(source\.[a-z][a-z0-9_-]*|(render|build)\.[a-z][a-z0-9_-]*\.[a-z][a-z0-9_-]*)$`)
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	uuidRE   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	commitRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
)

// cmdJSON checks one value in a JSON file: PATH is keys and array indexes
// joined by "/" (keys may hold dots, as addresses do); a string is matched
// as is, anything else as its JSON text. Without REGEXP it checks that the
// path exists; with ! that it does not exist or does not match.
// [!] json FILE PATH [REGEXP]
func cmdJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: [!] json FILE PATH [REGEXP]")
	}
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &v); err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	for _, key := range strings.Split(args[1], "/") {
		switch x := v.(type) {
		case map[string]any:
			v = x[key]
			if v == nil {
				if _, present := x[key]; !present {
					if neg {
						return
					}
					ts.Fatalf("%s: no %q in %s", args[0], key, args[1])
				}
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				if neg {
					return
				}
				ts.Fatalf("%s: no element %q in %s (length %d)", args[0], key, args[1], len(x))
			}
			v = x[i]
		default:
			if neg {
				return
			}
			ts.Fatalf("%s: %s goes through a %T", args[0], args[1], v)
		}
	}
	text, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		text = string(b)
	}
	ts.Logf("%s: %s = %s", args[0], args[1], text)
	if len(args) == 2 {
		if neg {
			ts.Fatalf("%s: %s exists", args[0], args[1])
		}
		return
	}
	re, err := regexp.Compile(args[2])
	ts.Check(err)
	if re.MatchString(text) == neg {
		ts.Fatalf("%s: %s is %s, which %s %q", args[0], args[1], text, map[bool]string{true: "matches", false: "does not match"}[neg], args[2])
	}
}

// statCacheRel is the one file plan may write: its stat cache.
const statCacheRel = "state/packer-hybrid.statcache"

// cmdSnapshot records every file and directory under DIR (kind, mode, size,
// modification time and content digest) in FILE, leaving out the stat cache,
// the modification time of its directory and FILE itself.
// snapshot DIR FILE
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: snapshot DIR FILE")
	}
	snap := takeSnapshot(ts, ts.MkAbs(args[0]), ts.MkAbs(args[1]))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(strings.Join(snap, "\n")+"\n"), 0o644))
}

// cmdSameSnapshot fails when DIR differs in any way from the snapshot in
// FILE, and lists the differences. samesnapshot DIR FILE
func cmdSameSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: samesnapshot DIR FILE")
	}
	before := strings.Split(strings.TrimSuffix(ts.ReadFile(args[1]), "\n"), "\n")
	after := takeSnapshot(ts, ts.MkAbs(args[0]), ts.MkAbs(args[1]))
	was := map[string]string{}
	for _, l := range before {
		p, rest, _ := strings.Cut(l, "\t")
		was[p] = rest
	}
	var diffs []string
	for _, l := range after {
		p, rest, _ := strings.Cut(l, "\t")
		old, ok := was[p]
		delete(was, p)
		switch {
		case !ok:
			diffs = append(diffs, "new:     "+p+"  "+rest)
		case old != rest:
			diffs = append(diffs, "changed: "+p+"  "+old+" -> "+rest)
		}
	}
	for p := range was {
		diffs = append(diffs, "gone:    "+p)
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		ts.Fatalf("%s changed since snapshot %s:\n  %s", args[0], args[1], strings.Join(diffs, "\n  "))
	}
}

func takeSnapshot(ts *testscript.TestScript, dir, self string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if p == self || rel == statCacheRel {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%s\t%s %d", rel, fi.Mode(), fi.ModTime().UnixNano())
		if rel == path.Dir(statCacheRel) {
			// Replacing the stat cache renames a file in its directory.
			entry = fmt.Sprintf("%s\t%s", rel, fi.Mode())
		}
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			entry += fmt.Sprintf(" %d %s", len(b), hex.EncodeToString(sum[:8]))
		}
		out = append(out, entry)
		return nil
	})
	ts.Check(err)
	return out
}

// countLines is the number of lines in the files; a missing file has none.
func countLines(ts *testscript.TestScript, files []string) int {
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(ts.MkAbs(f))
		if os.IsNotExist(err) {
			continue
		}
		ts.Check(err)
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			n++
		}
	}
	return n
}

// cmdLines checks how many lines the files hold together: exactly N, or
// between MIN and MAX. lines N|MIN..MAX FILE...
func cmdLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: lines N|MIN..MAX FILE...")
	}
	lo, hi := parseRange(ts, args[0])
	n := countLines(ts, args[1:])
	if n < lo || n > hi {
		ts.Fatalf("%s hold %d lines, want %s", strings.Join(args[1:], " + "), n, args[0])
	}
	ts.Logf("%s hold %d lines", strings.Join(args[1:], " + "), n)
}

func parseRange(ts *testscript.TestScript, s string) (int, int) {
	a, b, isRange := strings.Cut(s, "..")
	lo, err := strconv.Atoi(a)
	ts.Check(err)
	if !isRange {
		return lo, lo
	}
	hi, err := strconv.Atoi(b)
	ts.Check(err)
	return lo, hi
}

// cmdWaitFor waits until FILE exists and holds a match of REGEXP, such as
// the runs.log line a build appends as it starts. waitfor REGEXP FILE
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitfor REGEXP FILE")
	}
	re, err := regexp.Compile("(?m)" + args[0])
	ts.Check(err)
	deadline := time.Now().Add(scriptWait)
	for {
		b, err := os.ReadFile(ts.MkAbs(args[1]))
		if err != nil && !os.IsNotExist(err) {
			ts.Check(err)
		}
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no match for %q in %s after %s", args[0], args[1], scriptWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cmdWaitIdle waits until no live process runs in DIR or below it: after
// hybrid is killed with SIGKILL, the packer build it had started goes on
// alone, and the next step must not race with it. Linux only (/proc).
// waitidle DIR
func cmdWaitIdle(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitidle DIR")
	}
	dir, err := filepath.EvalSymlinks(ts.MkAbs(args[0]))
	ts.Check(err)
	deadline := time.Now().Add(scriptWait)
	for {
		busy := processesIn(dir)
		if len(busy) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("processes still running in %s after %s: %s", args[0], scriptWait, strings.Join(busy, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdIdle fails when a live process runs in DIR or below it (with !, when
// none does): after an interrupted apply has exited, no packer it started
// may be left running. Linux only (/proc). [!] idle DIR
func cmdIdle(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] idle DIR")
	}
	dir, err := filepath.EvalSymlinks(ts.MkAbs(args[0]))
	ts.Check(err)
	busy := processesIn(dir)
	if !neg && len(busy) > 0 {
		ts.Fatalf("processes still running in %s: %s", args[0], strings.Join(busy, ", "))
	}
	if neg && len(busy) == 0 {
		ts.Fatalf("no process runs in %s", args[0])
	}
	ts.Logf("running in %s: %s", args[0], strings.Join(busy, ", "))
}

// cmdInterruptNextPacker waits until hybrid starts a new packer build in DIR,
// then until that packer has started the process that does the work (packer
// runs itself again under a crash handler), and sends hybrid SIGINT at once:
// an interrupt that lands while a build is starting up.
// Linux only (/proc). interruptnextpacker DIR
func cmdInterruptNextPacker(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: interruptnextpacker DIR")
	}
	dir, err := filepath.EvalSymlinks(ts.MkAbs(args[0]))
	ts.Check(err)
	seen := map[int]bool{}
	for _, p := range procsIn(dir) {
		seen[p.pid] = true
	}
	deadline := time.Now().Add(scriptWait)
	var hybrid, packer proc
	for packer.pid == 0 {
		if time.Now().After(deadline) {
			ts.Fatalf("hybrid started no packer build in %s within %s", args[0], scriptWait)
		}
		for _, p := range procsIn(dir) {
			if seen[p.pid] {
				continue
			}
			seen[p.pid] = true
			if p.comm != "packer" || !slices.Contains(p.args, "build") {
				continue
			}
			if parent, ok := procInfo(p.ppid); ok && parent.comm == "hybrid" {
				hybrid, packer = parent, p
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	for {
		if time.Now().After(deadline) {
			ts.Fatalf("packer (pid %d) started no process within %s", packer.pid, scriptWait)
		}
		child := false
		for _, p := range procsIn(dir) {
			child = child || p.ppid == packer.pid
		}
		if child {
			break
		}
		if _, ok := procInfo(packer.pid); !ok {
			ts.Fatalf("packer (pid %d) ended before it started its worker process", packer.pid)
		}
		time.Sleep(time.Millisecond)
	}
	p, err := os.FindProcess(hybrid.pid)
	ts.Check(err)
	ts.Check(p.Signal(os.Interrupt))
	ts.Logf("sent SIGINT to hybrid (pid %d) as its packer (pid %d) started up", hybrid.pid, packer.pid)
}

// proc is what /proc says of one live process.
type proc struct {
	pid, ppid int
	comm, cwd string
	args      []string
}

// procInfo reads /proc/PID; false for a process that is gone or a zombie.
func procInfo(pid int) (proc, bool) {
	p := proc{pid: pid}
	base := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(base, "stat"))
	if err != nil {
		return p, false
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses.
	s := string(stat)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return p, false
	}
	p.comm = s[open+1 : end]
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 || fields[0] == "Z" || fields[0] == "X" {
		return p, false
	}
	p.ppid, _ = strconv.Atoi(fields[1])
	p.cwd, _ = os.Readlink(filepath.Join(base, "cwd"))
	if b, err := os.ReadFile(filepath.Join(base, "cmdline")); err == nil {
		p.args = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	}
	return p, true
}

// procsIn lists the live processes other than this one whose working
// directory is dir or inside it.
func procsIn(dir string) []proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		p, ok := procInfo(pid)
		if !ok || (p.cwd != dir && !strings.HasPrefix(p.cwd, dir+"/")) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// processesIn lists the live processes (not zombies) whose working directory
// is dir or inside it, as "PID command".
func processesIn(dir string) []string {
	var out []string
	for _, p := range procsIn(dir) {
		out = append(out, fmt.Sprintf("%d %s", p.pid, p.comm))
	}
	return out
}

// TestCheckPlanJSON keeps planjson honest: the README's example passes, and
// each kind of departure from it is reported.
func TestCheckPlanJSON(t *testing.T) {
	const fp1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const fp2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	valid := `{
  "kind": "hybrid-plan", "format_version": "1.0",
  "state_lineage": "25d0845a-0000-4000-8000-000000000000", "state_serial": 17,
  "lock_digest": "` + fp1 + `", "source_commits": {"examples": "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b"},
  "packer_version": "1.9.4",
  "changes": [
    {"address": "build.prod.linux-ubuntu", "type": "build", "action": "update",
     "reasons": [{"kind": "file_changed", "input": "file templates/linux/linux.pkr.hcl",
                  "before": "96a9d903f02b", "after": "aae2a3f3ce09", "message": "file templates/linux/linux.pkr.hcl changed"}],
     "before_fingerprint": "` + fp1 + `", "after_fingerprint": "` + fp2 + `",
     "depends_on": ["render.prod.linux-ubuntu"], "last_duration_seconds": 754},
    {"address": "render.prod.linux-ubuntu", "type": "render", "action": "no-op", "reasons": [],
     "before_fingerprint": "` + fp1 + `", "after_fingerprint": "` + fp1 + `", "depends_on": []}
  ],
  "summary": {"sync": 0, "build": 0, "rebuild": 1, "render": 0, "forget": 0},
  "estimate": {"build_seconds": 754, "wall_seconds": 754, "parallelism": 4, "unknown": 0}
}`
	tests := map[string]struct {
		old, new string // a replacement in valid
		want     string // a problem reported; "" for none
	}{
		"valid":               {},
		"null reasons":        {`"reasons": []`, `"reasons": null`, "reasons is <nil>, want an array"},
		"null depends_on":     {`"depends_on": []`, `"depends_on": null`, "depends_on is <nil>, want an array"},
		"unknown kind":        {`"kind": "file_changed"`, `"kind": "file_edited"`, "not one of the documented kinds"},
		"unknown action":      {`"action": "update"`, `"action": "replace"`, `action "replace" is not no-op`},
		"summary off":         {`"rebuild": 1`, `"rebuild": 2`, "summary.rebuild is 2, but the changes hold 1"},
		"summary missing":     {`"forget": 0`, `"forgot": 0`, "summary.forget is <nil>"},
		"no-op that moves":    {`"after_fingerprint": "` + fp1 + `", "depends_on": []`, `"after_fingerprint": "` + fp2 + `", "depends_on": []`, "a no-op has two equal fingerprints"},
		"bad address":         {`"address": "build.prod.linux-ubuntu"`, `"address": "build.prod"`, "is not source.NAME"},
		"unsorted":            {`"address": "render.prod.linux-ubuntu"`, `"address": "build.dev.linux-ubuntu"`, "not sorted by address"},
		"old format":          {`"format_version": "1.0"`, `"format_version": "0.9"`, "format_version is"},
		"serial as string":    {`"state_serial": 17`, `"state_serial": "17"`, "state_serial is"},
		"reason no message":   {`, "message": "file templates/linux/linux.pkr.hcl changed"`, ``, "message is <nil>"},
		"fractional duration": {`"last_duration_seconds": 754`, `"last_duration_seconds": 754.5`, "last_duration_seconds is"},
		"no estimate":         {`"estimate"`, `"estimation"`, "estimate is <nil>, want an object"},
		"estimate incomplete": {`"parallelism": 4, `, ``, "estimate.parallelism is <nil>"},
		"unknown miscounted":  {`, "last_duration_seconds": 754`, ``, "estimate.unknown is 0, but 1 builds that run have no last_duration_seconds"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			doc := valid
			if tt.old != "" {
				if !strings.Contains(doc, tt.old) {
					t.Fatalf("the example has no %q", tt.old)
				}
				doc = strings.Replace(doc, tt.old, tt.new, 1)
			}
			_, problems := checkPlanJSON([]byte(doc))
			got := strings.Join(problems, "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("problems in a valid plan:\n%s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("problems %q do not mention %q", got, tt.want)
			}
		})
	}
}
