package plan

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/graph"
	"github.com/hybridcore/hybrid/internal/fsutil"
	"github.com/hybridcore/hybrid/internal/suggest"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/templates"
)

// SourceInspector reads a git checkout, so a plan can see drift: a checkout
// on another commit than the lock pins, or with local changes.
type SourceInspector interface {
	Head(ctx context.Context, dir string) (string, error)
	Dirty(ctx context.Context, dir string) ([]string, error)
}

// Options are the recorded world a plan compares the workspace with, and
// what narrows it.
type Options struct {
	State *state.State // nil: nothing was ever applied
	Lock  *lock.File
	// LockDigest identifies the lockfile bytes the plan was made against.
	LockDigest string
	// PackerVersion is the version builds will run with (the lock's pin).
	PackerVersion string
	// Targets are address globs (build.prod.*); the plan holds the nodes
	// they match and everything those need. Empty means everything.
	Targets []string
	// Envs limits renders and builds to these environments.
	Envs []string
	// Hasher digests files; nil hashes everything afresh.
	Hasher *Hasher
	// Git inspects source checkouts; nil skips checkout drift.
	Git SourceInspector
	// NoRefresh leaves out what recorded builds left on disk (their
	// artifact files inside the workspace): plan -refresh=false.
	NoRefresh bool
	// Secrets digests sensitive values with the workspace's key. Nil uses
	// a key made from the state's lineage, which the state file holds:
	// fine for tests, not for plans that leave the machine.
	Secrets *Secrets
}

// node is a graph vertex for one planned address.
type node struct {
	addr   string
	typ    string
	build  *Build  // render and build nodes
	source string  // source nodes
	change *Change // filled in topological order
}

func (n *node) Name() string { return n.addr }

// Make plans the workspace against the options' state and lockfile.
func Make(ctx context.Context, ws *Workspace, opts Options) (*Plan, hcl.Diagnostics) {
	cfg := ws.Config
	st := opts.State
	if st == nil {
		st = state.New()
	}
	if opts.Hasher == nil {
		opts.Hasher = NewHasher(cfg.Dir, nil)
	}
	if opts.Secrets == nil {
		opts.Secrets = NewSecrets([]byte("hybrid-lineage-key\x00"+st.Lineage), nil)
	}
	start := time.Now()
	var diags hcl.Diagnostics
	diags = append(diags, opts.Lock.Check(ws.LockRequirements())...)
	logPhase("check the lockfile", start)
	if diags.HasErrors() {
		return nil, diags
	}

	for _, e := range opts.Envs {
		if _, ok := cfg.Environments[e]; !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown environment",
				Detail: fmt.Sprintf("-env=%s names no environment of hybrid.hcl (declared: %s).%s", e, strings.Join(cfg.EnvironmentNames(), ", "),
					didYouMean("-env=", e, cfg.EnvironmentNames())),
			})
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}

	t := time.Now()
	g, nodes := ws.desiredGraph(opts.Envs)
	logPhase("build the graph", t, "nodes", len(nodes))
	if err := g.Validate(); err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Dependency cycle", Detail: err.Error()})
	}

	// Deletions: state entries the configuration no longer has.
	var gone []string
	for _, addr := range st.Addresses() {
		if _, ok := nodes[addr]; ok {
			continue
		}
		if len(opts.Envs) > 0 && !inEnvs(addr, opts.Envs) {
			continue
		}
		gone = append(gone, addr)
	}

	keep, targeted, d := selectTargets(g, nodes, gone, opts.Targets)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}

	p := &Plan{
		FormatVersion: FormatVersion, Lineage: st.Lineage, Serial: st.Serial,
		LockDigest: opts.LockDigest, SourceCommits: map[string]string{},
		PackerVersion: opts.PackerVersion, Targets: opts.Targets, Envs: opts.Envs,
	}
	for name, s := range opts.Lock.Sources {
		p.SourceCommits[name] = s.Commit
	}
	order, err := g.TopologicalOrder()
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Dependency cycle", Detail: err.Error()})
	}
	pl := &planner{ws: ws, opts: opts, st: st, nodes: nodes, g: g, targeted: targeted}
	t = time.Now()
	pl.prefetchTrees(order, keep)
	logPhase("read source trees", t)
	t = time.Now()
	// Renders and builds first, in dependency order; then sources, whose
	// checkouts only need to move when a build that reads them will run.
	var srcNodes []*node
	for _, v := range order {
		n := v.(*node)
		if !keep[n.addr] {
			continue
		}
		if n.typ == TypeSource {
			srcNodes = append(srcNodes, n)
			continue
		}
		var c *Change
		var d hcl.Diagnostics
		switch n.typ {
		case TypeRender:
			c, d = pl.render(n)
		case TypeBuild:
			c, d = pl.build(n)
		}
		diags = append(diags, d...)
		pl.add(p, n, c)
	}
	logPhase("fingerprint renders and builds", t)
	t = time.Now()
	// Reading the checkouts runs git several times each: at once.
	probes := make([]checkout, len(srcNodes))
	parallel(len(srcNodes), func(i int) { probes[i] = pl.probeCheckout(ctx, srcNodes[i]) })
	for i, n := range srcNodes {
		c, d := pl.source(n, probes[i])
		diags = append(diags, d...)
		pl.add(p, n, c)
	}
	logPhase("check sources", t, "sources", len(srcNodes))
	for _, addr := range gone {
		if keep[addr] {
			c := forget(st, addr)
			logNode(c, pl.recordedInputs(addr))
			p.Changes = append(p.Changes, c)
		}
	}
	if pl.detailsErr != nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read the state",
			Detail: fmt.Sprintf("%v. Run the plan again; if this persists, remove %s beside the state file.", pl.detailsErr, "the .summary file")})
	}
	if diags.HasErrors() {
		return nil, diags
	}
	for _, c := range p.Changes {
		// JSON consumers get arrays, never null.
		if c.Reasons == nil {
			c.Reasons = []Reason{}
		}
		if c.DependsOn == nil {
			c.DependsOn = []string{}
		}
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Address < p.Changes[j].Address })
	p.summarize()
	est, err := EstimateCost(p, cfg.Settings.Parallelism)
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Dependency cycle", Detail: err.Error()})
	}
	p.Estimate = est
	logPhase("plan", start, "changes", p.Summary.Total(), "nodes", len(p.Changes))
	return p, diags
}

// Graph returns the dependency graph of every source, render and build the
// configuration wants, limited to envs when given: what "hybrid graph" draws.
func (ws *Workspace) Graph(envs []string) *graph.Graph {
	g, _ := ws.desiredGraph(envs)
	return g
}

// desiredGraph returns the graph of every source, render and build the
// configuration wants (renders and builds only in envs, when given).
func (ws *Workspace) desiredGraph(envs []string) (*graph.Graph, map[string]*node) {
	g := graph.New()
	nodes := map[string]*node{}
	add := func(n *node) *node {
		if old, ok := nodes[n.addr]; ok {
			return old
		}
		nodes[n.addr] = n
		g.Add(n)
		return n
	}
	srcNodes := map[string]*node{}
	for _, name := range ws.Config.SourceNames() {
		srcNodes[name] = add(&node{addr: state.SourceAddr(name), typ: TypeSource, source: name})
	}
	byAddr := map[string]*node{}
	for _, b := range ws.Builds {
		if len(envs) > 0 && !contains(envs, b.Env) {
			continue
		}
		r := add(&node{addr: b.RenderAddress(), typ: TypeRender, build: b})
		bn := add(&node{addr: b.Address(), typ: TypeBuild, build: b})
		byAddr[bn.addr] = bn
		g.Connect(bn, r)
		for _, l := range b.Render.Layers {
			if l.File == "" {
				continue
			}
			if s := ws.Config.SourceOf(l.File); s != nil {
				g.Connect(r, srcNodes[s.Name])
			}
		}
		for _, s := range b.Sources {
			g.Connect(bn, srcNodes[s])
		}
	}
	for _, bn := range byAddr {
		for _, dep := range bn.build.Image.DependsOn {
			if up, ok := byAddr[state.BuildAddr(bn.build.Env, dep.Name)]; ok {
				g.Connect(bn, up)
			}
		}
	}
	return g, nodes
}

// selectTargets returns the addresses in scope: everything, or the targets
// and all they depend on; and the addresses a target names itself.
func selectTargets(g *graph.Graph, nodes map[string]*node, gone, targets []string) (keep, targeted map[string]bool, diags hcl.Diagnostics) {
	keep, targeted = map[string]bool{}, map[string]bool{}
	if len(targets) == 0 {
		for addr := range nodes {
			keep[addr] = true
		}
		for _, addr := range gone {
			keep[addr] = true
		}
		return keep, targeted, nil
	}
	var roots []graph.Vertex
	for _, t := range targets {
		if _, err := path.Match(t, ""); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid target", Detail: fmt.Sprintf("-target=%s is not a valid address pattern: %v.", t, err)})
			continue
		}
		matched := false
		for addr, n := range nodes {
			if ok, _ := path.Match(t, addr); ok {
				roots = append(roots, n)
				targeted[addr] = true
				matched = true
			}
		}
		for _, addr := range gone {
			if ok, _ := path.Match(t, addr); ok {
				keep[addr] = true
				matched = true
			}
		}
		if !matched {
			hint := ""
			if !strings.ContainsAny(t, "*?[") {
				addrs := append(sortedKeys(nodes), gone...)
				hint = didYouMean("-target=", t, addrs)
				if _, ok := nodes[TypeSource+"."+t]; ok && hint == "" {
					hint = fmt.Sprintf(" Did you mean -target=source.%s?", t)
				} else if hint == "" && !strings.Contains(t, ".") && slices.ContainsFunc(addrs, func(a string) bool { return strings.HasSuffix(a, "."+t) }) {
					// An image name: its builds in every environment.
					hint = fmt.Sprintf(" Did you mean -target='build.*.%s'?", t)
				}
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No node matches the target",
				Detail:   fmt.Sprintf("-target=%s matches no source, render or build.%s Addresses look like source.NAME, render.ENV.IMAGE and build.ENV.IMAGE; run \"hybrid graph\" to list them.", t, hint),
			})
		}
	}
	for _, v := range g.TransitiveDependencies(roots...) {
		keep[v.Name()] = true
	}
	return keep, targeted, diags
}

// didYouMean is " Did you mean OPTIONNAME?" for the name among names nearest
// to given, or "" when none is near.
func didYouMean(option, given string, names []string) string {
	if near := suggest.Closest(given, names); near != "" {
		return fmt.Sprintf(" Did you mean %s%s?", option, near)
	}
	return ""
}

func inEnvs(addr string, envs []string) bool {
	parts := strings.SplitN(addr, ".", 3)
	if parts[0] == TypeSource {
		return false
	}
	return len(parts) == 3 && contains(envs, parts[1])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type planner struct {
	ws    *Workspace
	opts  Options
	st    *state.State
	nodes map[string]*node
	g     *graph.Graph
	// targeted holds the addresses a -target names itself.
	targeted map[string]bool
	// detailsErr is why the state's details could not be decoded.
	detailsErr error
}

// details returns the whole state: st itself, or, when st is a summary
// (state.Local.ReadSummary), the state with its records' details, decoded
// the first time a change needs them to name its reasons. Deciding a
// change needs only the summary.
func (pl *planner) details() *state.State {
	full, err := pl.st.Details()
	if err != nil {
		if pl.detailsErr == nil {
			pl.detailsErr = err
		}
		return pl.st
	}
	return full
}

// add records a node's change with the nodes it runs after.
func (pl *planner) add(p *Plan, n *node, c *Change) {
	if c == nil {
		return
	}
	for _, dep := range pl.g.DependenciesOf(n) {
		c.DependsOn = append(c.DependsOn, dep.Name())
	}
	sort.Strings(c.DependsOn)
	n.change = c
	p.Changes = append(p.Changes, c)
	logNode(c, pl.recordedInputs(c.Address))
}

// checkoutNeeded reports whether a source's checkout must be at its locked
// commit in this apply: a build that reads it will run, or a -target
// names the source itself. Plans read sources from git objects, so a
// checkout matters only to the packer runs that read it.
func (pl *planner) checkoutNeeded(n *node) (bool, string) {
	if pl.targeted[n.addr] {
		return true, "targeted"
	}
	for _, dep := range pl.g.DependentsOf(n) {
		d := dep.(*node)
		if d.typ == TypeBuild && d.change != nil && (d.change.Action == Create || d.change.Action == Update) {
			return true, d.addr
		}
	}
	return false, ""
}

// checkout is what a source's checkout looked like to the plan.
type checkout struct {
	// statErr is why the checkout directory is not there (nil when it is).
	statErr error
	// probed is set when git read the checkout: head is its HEAD commit
	// and dirty its files with changes, or the errors reading them.
	probed   bool
	head     string
	headErr  error
	dirty    []string
	dirtyErr error
}

// probeCheckout reads a source's checkout: whether it is there, and with
// git (when the plan has it), its HEAD and local changes.
func (pl *planner) probeCheckout(ctx context.Context, n *node) checkout {
	src := pl.ws.Config.Sources[n.source]
	dir := filepath.Join(pl.ws.Config.Dir, filepath.FromSlash(src.Path))
	var co checkout
	if _, co.statErr = os.Stat(dir); co.statErr != nil || pl.opts.Git == nil {
		return co
	}
	co.probed = true
	if co.head, co.headErr = pl.opts.Git.Head(ctx, dir); co.headErr == nil {
		co.dirty, co.dirtyErr = pl.opts.Git.Dirty(ctx, dir)
	}
	return co
}

// recordedSourceFingerprint is the fingerprint of the checkout a state
// record describes, computed over the same inputs as a planned source's.
func recordedSourceFingerprint(rec *state.Source) string {
	return Fingerprint(map[string]string{"url": rec.URL, "ref": rec.Ref, "commit": rec.Commit})
}

// source plans a source's checkout. The checkout is moved to the locked
// commit only when a build that reads it will run (or a -target names it);
// otherwise the change is a no-op whose Note says how the checkout differs
// from the lock, since nothing this apply runs reads it.
func (pl *planner) source(n *node, co checkout) (*Change, hcl.Diagnostics) {
	cfg := pl.ws.Config
	src := cfg.Sources[n.source]
	pin := pl.opts.Lock.Sources[n.source]
	c := &Change{Address: n.addr, Type: TypeSource, Source: n.source,
		Inputs: map[string]string{"url": src.URL, "ref": src.Ref, "commit": pin.Commit}}
	c.After = Fingerprint(c.Inputs)
	rec := pl.st.Sources[n.source]
	if rec != nil {
		c.Before = recordedSourceFingerprint(rec)
	}
	var reasons []Reason
	action := NoOp
	switch {
	case co.statErr != nil:
		action = Create
		if rec != nil {
			action = Update
		}
		reasons = append(reasons, Reason{Kind: ReasonNew, Input: n.addr, After: short(pin.Commit),
			Message: fmt.Sprintf("not checked out: check out %s at %s", src.Path, short(pin.Commit))})
	case rec != nil && rec.Commit != pin.Commit:
		action = Update
		reasons = append(reasons, Reason{Kind: ReasonSourceCommit, Input: n.addr, Before: short(rec.Commit), After: short(pin.Commit),
			Message: fmt.Sprintf("lock pins %s -> %s", short(rec.Commit), short(pin.Commit))})
	case rec == nil:
		action = Create
		reasons = append(reasons, Reason{Kind: ReasonNew, Input: n.addr, After: short(pin.Commit),
			Message: fmt.Sprintf("never synced: check out %s at %s", src.Path, short(pin.Commit))})
	}
	var diags hcl.Diagnostics
	if co.probed {
		if co.headErr != nil {
			return c, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read source checkout",
				Detail: fmt.Sprintf("%s: %v. Remove the directory to let hybrid check it out again.", src.Path, co.headErr)}}
		}
		head := co.head
		if head != pin.Commit && (rec == nil || rec.Commit == pin.Commit) {
			if action == NoOp {
				action = Update
			}
			reasons = append(reasons, Reason{Kind: ReasonSourceDrift, Input: src.Path, Before: short(head), After: short(pin.Commit),
				Message: fmt.Sprintf("checkout %s is at %s, not the locked %s", src.Path, orNone(short(head)), short(pin.Commit))})
		}
		if dirty := co.dirty; co.dirtyErr == nil && len(dirty) > 0 {
			if action == NoOp {
				action = Update
			}
			reasons = append(reasons, Reason{Kind: ReasonSourceDirty, Input: src.Path,
				Message: fmt.Sprintf("checkout %s has local changes (%s); apply will refuse to touch it until they are committed, stashed or removed", src.Path, listSome(dirty, 5))})
		}
	}
	if action == NoOp {
		c.Before = c.After
		return c, diags
	}
	needed, by := pl.checkoutNeeded(n)
	if !needed {
		// The checkout stays as it is: so does its fingerprint.
		if c.Before == "" {
			c.Before = c.After
		} else {
			c.After = c.Before
		}
		msgs := make([]string, len(reasons))
		for i, r := range reasons {
			msgs[i] = r.Message
		}
		c.Note = fmt.Sprintf("%s; no build that reads it runs now, so the checkout stays as it is (hybrid sources sync %s moves it)", strings.Join(msgs, "; "), n.source)
		return c, diags
	}
	c.Action, c.Reasons = action, reasons
	if by != "targeted" {
		c.Reasons = append(c.Reasons, Reason{Kind: ReasonNeededBy, Input: by, Message: fmt.Sprintf("%s reads it", by)})
	}
	return c, diags
}

func (pl *planner) render(n *node) (*Change, hcl.Diagnostics) {
	b := n.build
	r := b.Render
	digest := Digest(r.Bytes)
	c := &Change{Address: n.addr, Type: TypeRender, Env: b.Env, Image: b.Image.Name,
		After: digest, Inputs: map[string]string{"var_file": digest}}
	rec := pl.st.Renders[n.addr]
	if rec == nil {
		c.Action = Create
		c.Values = RenderValues(r)
		c.Reasons = []Reason{{Kind: ReasonNew, Input: r.Path, After: short(digest),
			Message: fmt.Sprintf("never rendered: write %s", r.Path)}}
		return c, nil
	}
	c.Before = rec.Digest
	if rec.Digest != digest {
		c.Action = Update
		c.Values = RenderValues(r)
		c.Reasons = append(c.Reasons, variableDiff(pl.details().Renders[n.addr].Values, c.Values)...)
		if len(c.Reasons) == 0 {
			c.Reasons = append(c.Reasons, Reason{Kind: ReasonInput, Input: r.Path, Before: short(rec.Digest), After: short(digest),
				Message: fmt.Sprintf("%s content changes (its layers or sensitive variable list)", r.Path)})
		}
	}
	// The file on disk goes through the stat cache like every input.
	onDisk, err := pl.opts.Hasher.Files(r.Path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read a rendered file", Detail: err.Error()}}
	}
	switch d := onDisk.Files[r.Path]; {
	case d == digestMissing && rec.Digest == digest:
		// A fresh checkout of the workspace (a CI runner) has no configs/:
		// the render is what was recorded, and apply writes the file
		// before any build reads it. Not a change.
	case d == digestMissing || d == digestNotAFile || d == digestOutside:
		c.Action = Update
		c.Reasons = append(c.Reasons, Reason{Kind: ReasonRenderDrift, Input: r.Path, Before: short(rec.Digest),
			Message: fmt.Sprintf("%s is missing", r.Path)})
	case d != rec.Digest:
		c.Action = Update
		c.Reasons = append(c.Reasons, Reason{Kind: ReasonRenderDrift, Input: r.Path, Before: short(rec.Digest), After: short(d),
			Message: fmt.Sprintf("%s was edited outside hybrid", r.Path)})
	}
	if c.Action != NoOp && c.Values == nil {
		c.Values = RenderValues(r)
	}
	return c, nil
}

// RenderValues returns a render's non-sensitive, declared values as HCL
// text: what state records and the variable diff compares.
func RenderValues(r *config.Render) map[string]string {
	out := map[string]string{}
	undeclared := map[string]bool{}
	for _, v := range r.Undeclared {
		undeclared[v] = true
	}
	for name, v := range r.Values {
		if _, secret := r.Sensitive[name]; secret || undeclared[name] || !v.IsWhollyKnown() {
			continue
		}
		out[name] = config.ShowValue(v)
	}
	return out
}

// variableDiff explains a render change variable by variable.
func variableDiff(before, after map[string]string) []Reason {
	var out []Reason
	names := map[string]bool{}
	for n := range before {
		names[n] = true
	}
	for n := range after {
		names[n] = true
	}
	for _, n := range sortedKeys(names) {
		b, hadB := before[n]
		a, hasA := after[n]
		switch {
		case hadB && hasA && a != b:
			out = append(out, Reason{Kind: ReasonVariable, Input: "var " + n, Before: b, After: a, Message: fmt.Sprintf("var %s %s -> %s", n, b, a)})
		case !hadB && hasA:
			out = append(out, Reason{Kind: ReasonVariable, Input: "var " + n, After: a, Message: fmt.Sprintf("var %s added: %s", n, a)})
		case hadB && !hasA:
			out = append(out, Reason{Kind: ReasonVariable, Input: "var " + n, Before: b, Message: fmt.Sprintf("var %s removed (was %s)", n, b)})
		}
	}
	return out
}

// FingerprintFormat versions what a build's fingerprint covers. A build
// recorded under another format is rebuilt once, with one reason saying
// so, rather than with a reason per input whose meaning changed.
const FingerprintFormat = "2"

// Format 2 also digests secrets with Argon2id under the workspace key
// (format 1 used an HMAC keyed by the lineage the state itself holds).

func (pl *planner) build(n *node) (*Change, hcl.Diagnostics) {
	b := n.build
	cfg := pl.ws.Config
	img := b.Image
	c := &Change{Address: n.addr, Type: TypeBuild, Env: b.Env, Image: img.Name,
		Inputs: map[string]string{"format": FingerprintFormat}, Trees: map[string]map[string]string{}}
	var outside []string
	tree := func(name string, t *Tree, err error) error {
		if err != nil {
			return err
		}
		c.Inputs[name] = t.Digest
		c.Trees[t.Digest] = t.Files
		outside = append(outside, t.Outside...)
		return nil
	}
	h := pl.opts.Hasher
	var errs []error
	// The packer files packer loads from the template directory.
	t, err := h.Files(templateFiles(b.Template)...)
	errs = append(errs, tree("template", t, err))
	// What the build's blocks read, once evaluated for this build: each
	// file or directory an input of its own, so builds share the digests
	// of what they read in common and a change names the file.
	for _, in := range b.Eval.Inputs {
		if in.Kind == templates.InputGlob {
			t, err := h.Glob(in.Path)
			errs = append(errs, tree("glob:"+in.Path, t, err))
			continue
		}
		t, err := h.Files(in.Path)
		if err == nil && t.Files[in.Path] == digestNotAFile {
			t, err := h.Dir(in.Path)
			errs = append(errs, tree("read:"+in.Path, t, err))
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Inputs["read:"+in.Path] = t.Files[in.Path]
	}
	if len(b.Eval.Widened) > 0 {
		// Something the build reads is known only when it runs: the
		// whole template directory stands for it.
		t, err := h.Dir(img.Template)
		errs = append(errs, tree("template_dir", t, err))
	}
	for _, in := range img.Inputs {
		t, err := h.Glob(in.Path)
		errs = append(errs, tree("inputs:"+in.Path, t, err))
	}
	if p := b.Stack.Provisioner; p != nil {
		t, err := h.Dir(p.Dir)
		errs = append(errs, tree("provisioner:"+b.Stack.Name, t, err))
	} else {
		c.Inputs["provisioner:none"] = "none"
	}
	for _, e := range errs {
		if e != nil {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read build inputs",
				Detail: fmt.Sprintf("%s: %v.", n.addr, e)}}
		}
	}
	for name, d := range c.Inputs {
		if d == digestOutside {
			_, p, _ := strings.Cut(name, ":")
			outside = append(outside, p)
		}
	}
	if len(outside) > 0 {
		sort.Strings(outside)
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Build input leads outside the workspace",
			Detail: fmt.Sprintf("%s reads %s, a symbolic link leading outside the workspace. hybrid reads nothing outside the workspace, and packer would follow the link: replace it with the file itself, or a link that stays inside.",
				n.addr, listSome(outside, 3)),
			Subject: img.TemplateRange.Ptr()}}
	}
	c.Inputs["settings"] = Digest([]byte(strings.Join([]string{b.Only, img.WorkingDir, img.Template, b.Stack.Name}, "\x00")))
	c.Inputs["var_file"] = Digest(b.Render.Bytes)
	for _, name := range sortedKeys(b.Render.Sensitive) {
		c.Inputs["sensitive:"+name] = pl.opts.Secrets.Digest(name, config.EnvValue(b.Render.Sensitive[name]))
	}
	// A source's commit is an input only where the build reads git
	// metadata, or the source asks for it: otherwise a commit that
	// changes nothing the build reads rebuilds nothing.
	if s := cfg.SourceOf(img.Template); s != nil && (len(b.Eval.GitReads) > 0 || s.RebuildOnCommit) {
		if pin := pl.opts.Lock.Sources[s.Name]; pin != nil {
			c.Inputs["source:"+s.Name] = pin.Commit
		}
	}
	if pl.opts.PackerVersion != "" {
		c.Inputs["packer"] = pl.opts.PackerVersion
	}
	for _, rp := range b.Template.RequiredPlugins {
		if pin := pl.opts.Lock.Plugins[rp.Source]; pin != nil {
			c.Inputs["plugin:"+rp.Source] = pin.Version
		}
	}
	upstream := map[string]*Change{}
	for _, dep := range img.DependsOn {
		addr := state.BuildAddr(b.Env, dep.Name)
		if un := pl.nodes[addr]; un != nil && un.change != nil {
			c.Inputs["upstream:"+addr] = un.change.After
			upstream[addr] = un.change
		}
	}
	c.After = Fingerprint(c.Inputs)

	rec := pl.st.Builds[n.addr]
	if rec == nil || rec.Status == state.StatusSkipped && rec.Started.IsZero() {
		c.Action = Create
		msg := "never built"
		if rec != nil {
			msg += "; the last apply skipped it because " + failedList(rec.RootCauses)
		}
		c.Reasons = []Reason{{Kind: ReasonNew, Input: n.addr, Message: msg}}
		return c, nil
	}
	c.Before = rec.Fingerprint
	if secs, ok := recordedSeconds(rec); ok {
		c.LastDurationSeconds = &secs
	}
	switch rec.Status {
	case state.StatusSucceeded:
	case state.StatusSkipped:
		c.Action = Update
		c.Reasons = append(c.Reasons, Reason{Kind: ReasonSkipped, Input: n.addr, Message: "the last apply skipped it because " + failedList(rec.RootCauses)})
	default:
		// packer's first error, whole: the reason a reviewer reads.
		c.Action = Update
		msg := "the last build failed"
		if rec.Error != "" {
			msg += ": " + strings.TrimSpace(rec.Error)
		}
		c.Reasons = append(c.Reasons, Reason{Kind: ReasonFailed, Input: n.addr, Message: msg})
	}
	if rec.Fingerprint != c.After {
		c.Action = Update
		// The recorded inputs explain the change: a summarized state
		// decodes them now.
		rec := pl.details().Builds[n.addr]
		if rec.Inputs["format"] != FingerprintFormat {
			c.Reasons = append(c.Reasons, Reason{Kind: ReasonInput, Input: "format", Before: rec.Inputs["format"], After: FingerprintFormat,
				Message: "recorded by an earlier hybrid, whose fingerprints covered whole template directories and source commits; rebuilt once to record what the build reads"})
		} else {
			c.Reasons = append(c.Reasons, dedupeReasons(pl.inputReasons(b, rec, c, upstream))...)
		}
	}
	for _, a := range rec.Artifacts {
		if pl.opts.NoRefresh {
			break
		}
		for _, f := range a.Files {
			p := f
			if !filepath.IsAbs(p) {
				p = filepath.Join(cfg.Dir, filepath.FromSlash(img.WorkingDir), p)
			}
			// Only local files inside the workspace: an artifact on
			// another machine's disk, a URL or an ID is not checked.
			if !fsutil.Within(cfg.Dir, filepath.Clean(p)) {
				continue
			}
			if _, err := os.Stat(p); err != nil {
				c.Action = Update
				c.Reasons = append(c.Reasons, Reason{Kind: ReasonMissingArtifact, Input: f,
					Message: fmt.Sprintf("artifact file %s is missing", f)})
			}
		}
	}
	return c, nil
}

// templateFiles lists the files packer loads from a template directory:
// its *.pkr.hcl and *.pkr.json files and its *.auto.pkrvars files.
func templateFiles(t *templates.Template) []string {
	return append(t.Files(), t.AutoVarFiles()...)
}

// readBy says which part of the build's template reads a file: the first
// input that names it, a directory holding it, or a glob matching it.
func readBy(b *Build, file string) string {
	if b.Eval == nil {
		return ""
	}
	for _, in := range b.Eval.Inputs {
		hit := false
		switch {
		case in.Kind == templates.InputGlob:
			hit = matchGlob(in.Path, file)
		default:
			hit = in.Path == file || strings.HasPrefix(file, in.Path+"/")
		}
		if hit && len(in.Reads) > 0 {
			return in.Reads[0].String()
		}
	}
	return ""
}

// inputReasons names every input whose digest differs from the state's.
func (pl *planner) inputReasons(b *Build, rec *state.Build, c *Change, upstream map[string]*Change) []Reason {
	var out []Reason
	names := map[string]bool{}
	for k := range rec.Inputs {
		names[k] = true
	}
	for k := range c.Inputs {
		names[k] = true
	}
	for _, name := range sortedKeys(names) {
		before, after := rec.Inputs[name], c.Inputs[name]
		if before == after {
			continue
		}
		kind, rest, _ := strings.Cut(name, ":")
		switch kind {
		case "template", "inputs", "provisioner":
			out = append(out, pl.treeReasons(name, before, after, c.Trees[after], nil)...)
		case "read", "glob":
			note := func(f string) string {
				if by := readBy(b, f); by != "" {
					return "read by " + by
				}
				return ""
			}
			if _, isTree := c.Trees[after]; isTree || pl.details().Trees[before] != nil {
				what := "directory " + rest
				if kind == "glob" {
					what = "files matching " + rest
				}
				out = append(out, pl.treeReasons(what, before, after, c.Trees[after], note)...)
				continue
			}
			r := Reason{Kind: ReasonFile, Input: "file " + rest, Before: short(before), After: short(after)}
			switch {
			case before == "" || before == digestMissing:
				r.Message = fmt.Sprintf("file %s added", rest)
			case after == "" || after == digestMissing:
				r.Message = fmt.Sprintf("file %s removed", rest)
			default:
				r.Message = fmt.Sprintf("file %s changed", rest)
			}
			if n := note(rest); n != "" {
				r.Message = withDigests(r) + " (" + n + ")"
			}
			out = append(out, r)
		case "template_dir":
			why := ""
			if len(b.Eval.Widened) > 0 {
				why = "the whole template directory is read: " + b.Eval.Widened[0].String()
			}
			out = append(out, pl.treeReasons("template directory", before, after, c.Trees[after], func(string) string { return why })...)
		case "var_file":
			out = append(out, Reason{Kind: ReasonInput, Input: b.Render.Path, Before: short(before), After: short(after),
				Message: fmt.Sprintf("rendered var file %s changes (see %s)", b.Render.Path, b.RenderAddress())})
		case "sensitive":
			msg := fmt.Sprintf("sensitive value %s changed", rest)
			switch {
			case before == "":
				msg = fmt.Sprintf("sensitive value %s added", rest)
			case after == "":
				msg = fmt.Sprintf("sensitive value %s removed", rest)
			}
			out = append(out, Reason{Kind: ReasonSensitive, Input: "var " + rest, Before: maskIf(before), After: maskIf(after), Message: msg})
		case "source":
			why := "the source asks for it (rebuild_on_commit = true)"
			if len(b.Eval.GitReads) > 0 {
				why = "the template reads git metadata: " + b.Eval.GitReads[0].String()
			}
			out = append(out, Reason{Kind: ReasonSourceCommit, Input: "source." + rest, Before: short(before), After: short(after),
				Message: fmt.Sprintf("source %s %s -> %s; %s", rest, orNone(short(before)), orNone(short(after)), why)})
		case "packer":
			out = append(out, Reason{Kind: ReasonPackerVersion, Input: "packer", Before: before, After: after,
				Message: fmt.Sprintf("packer %s -> %s", orNone(before), orNone(after))})
		case "plugin":
			out = append(out, Reason{Kind: ReasonPluginVersion, Input: "plugin " + rest, Before: before, After: after,
				Message: fmt.Sprintf("plugin %s %s -> %s", rest, orNone(before), orNone(after))})
		case "upstream":
			msg := fmt.Sprintf("base image %s was rebuilt since", rest)
			if u := upstream[rest]; u != nil && u.Action != NoOp {
				msg = fmt.Sprintf("base image %s will be rebuilt", rest)
			}
			out = append(out, Reason{Kind: ReasonUpstream, Input: "upstream " + rest, Before: short(before), After: short(after), Message: msg})
		default:
			out = append(out, Reason{Kind: ReasonInput, Input: name, Before: short(before), After: short(after),
				Message: fmt.Sprintf("build settings changed (build, working_dir, template or provisioner)")})
		}
	}
	return out
}

// withDigests is a file reason's message with its digests, as people read
// it: "file X changed (1a2b.. -> 3c4d..)".
func withDigests(r Reason) string {
	if r.Before == "" || r.After == "" {
		return r.Message
	}
	return fmt.Sprintf("%s (%s -> %s)", r.Message, r.Before, r.After)
}

// dedupeReasons keeps the first reason for each input: a file read both
// through a glob and by name changes once.
func dedupeReasons(rs []Reason) []Reason {
	seen := map[string]bool{}
	out := rs[:0]
	for _, r := range rs {
		if r.Input != "" && seen[r.Input] {
			continue
		}
		seen[r.Input] = true
		out = append(out, r)
	}
	return out
}

// maxFileReasons caps how many changed files one tree input lists.
const maxFileReasons = 10

// treeReasons names the files that changed in a tree input, from the
// per-file digests state kept for the old tree; note, when set, adds why a
// file is an input.
func (pl *planner) treeReasons(input, before, after string, now map[string]string, note func(file string) string) []Reason {
	what := strings.Replace(input, ":", " ", 1)
	old, ok := pl.details().Trees[before]
	if !ok || before == "" {
		return []Reason{{Kind: ReasonFile, Input: what, Before: short(before), After: short(after),
			Message: fmt.Sprintf("%s files changed", what)}}
	}
	var out []Reason
	names := map[string]bool{}
	for f := range old {
		names[f] = true
	}
	for f := range now {
		names[f] = true
	}
	var more int
	for _, f := range sortedKeys(names) {
		b, a := old[f], now[f]
		if b == a {
			continue
		}
		if len(out) == maxFileReasons {
			more++
			continue
		}
		r := Reason{Kind: ReasonFile, Input: "file " + f, Before: short(b), After: short(a)}
		switch {
		case b == "" || b == digestMissing:
			r.Message = fmt.Sprintf("file %s added", f)
		case a == "" || a == digestMissing:
			r.Message = fmt.Sprintf("file %s removed", f)
		default:
			r.Message = fmt.Sprintf("file %s changed", f)
		}
		if note != nil {
			if n := note(f); n != "" {
				r.Message = withDigests(r) + " (" + n + ")"
			}
		}
		out = append(out, r)
	}
	if more > 0 {
		files := "files"
		if more == 1 {
			files = "file"
		}
		out = append(out, Reason{Kind: ReasonFile, Input: what, Message: fmt.Sprintf("and %d more %s in %s", more, files, what)})
	}
	if len(out) == 0 {
		out = append(out, Reason{Kind: ReasonFile, Input: what, Before: short(before), After: short(after), Message: fmt.Sprintf("%s files changed", what)})
	}
	return out
}

func forget(st *state.State, addr string) *Change {
	typ, rest, _ := strings.Cut(addr, ".")
	c := &Change{Address: addr, Type: typ, Action: Delete, DependsOn: []string{}}
	switch typ {
	case TypeSource:
		c.Source = rest
		if s := st.Sources[rest]; s != nil {
			c.Before = recordedSourceFingerprint(s)
		}
	default:
		c.Env, c.Image, _ = strings.Cut(rest, ".")
	}
	msg := "no longer in hybrid.hcl: hybrid forgets it (artifacts, logs and checkouts are left in place)"
	if r := st.Renders[addr]; r != nil {
		c.Before = r.Digest
		msg = fmt.Sprintf("no longer in hybrid.hcl: hybrid forgets it and removes %s, the var file it rendered (left in place if edited since)", r.Path)
	}
	if b := st.Builds[addr]; b != nil {
		c.Before = b.Fingerprint
	}
	c.Reasons = []Reason{{Kind: ReasonRemoved, Input: addr, Message: msg}}
	return c
}

// Fingerprint combines a node's input digests into one, independent of map
// order.
func Fingerprint(inputs map[string]string) string {
	return TreeDigest(inputs)
}

func maskIf(d string) string {
	if d == "" {
		return ""
	}
	return "(sensitive)"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// failedList says which builds failed: "build.dev.a failed", "build.dev.a
// and build.dev.b failed".
func failedList(addrs []string) string {
	switch len(addrs) {
	case 0:
		return "a build it depends on failed"
	case 1:
		return addrs[0] + " failed"
	}
	return strings.Join(addrs[:len(addrs)-1], ", ") + " and " + addrs[len(addrs)-1] + " failed"
}

func listSome(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(list[:n], ", "), len(list)-n)
}

// prefetchTrees hashes the distinct file trees the builds in scope read, on
// all CPUs, before the builds are planned one by one in dependency order:
// a large tree then does not leave the other CPUs idle. Errors are left for
// the build that reads the tree to report.
func (pl *planner) prefetchTrees(order []graph.Vertex, keep map[string]bool) {
	seen := map[string]bool{}
	var fetch []func()
	add := func(key string, f func()) {
		if !seen[key] {
			seen[key] = true
			fetch = append(fetch, f)
		}
	}
	h := pl.opts.Hasher
	for _, v := range order {
		n := v.(*node)
		if !keep[n.addr] || n.build == nil {
			continue
		}
		img := n.build.Image
		if n.typ == TypeRender {
			p := n.build.Render.Path
			add("file:"+p, func() { h.Files(p) })
			continue
		}
		tf := templateFiles(n.build.Template)
		add("files:"+strings.Join(tf, "\x00"), func() { h.Files(tf...) })
		if n.build.Eval != nil {
			for _, in := range n.build.Eval.Inputs {
				p := in.Path
				if in.Kind == templates.InputGlob {
					add("glob:"+p, func() { h.Glob(p) })
				} else {
					add("path:"+p, func() {
						if t, err := h.Files(p); err == nil && t.Files[p] == digestNotAFile {
							h.Dir(p)
						}
					})
				}
			}
			if len(n.build.Eval.Widened) > 0 {
				add("dir:"+img.Template, func() { h.Dir(img.Template) })
			}
		}
		for _, in := range img.Inputs {
			g := in.Path
			add("glob:"+g, func() { h.Glob(g) })
		}
		if p := n.build.Stack.Provisioner; p != nil {
			d := p.Dir
			add("dir:"+d, func() { h.Dir(d) })
		}
	}
	parallel(len(fetch), func(i int) { fetch[i]() })
}
