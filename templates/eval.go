package templates

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/hybridcore/hybrid/internal/fsutil"
)

// SensitiveMark marks a value that derives from a sensitive variable. It is
// the same mark hybrid.hcl values carry, so values from either side stay
// secret together.
const SensitiveMark = "sensitive"

// Scope is what one build of a template is evaluated with: the variable
// values hybrid renders for it and where packer runs. Paths in it are
// workspace-relative and slash-separated, as Files takes them.
type Scope struct {
	// Files reads workspace files (source directories at their locked
	// commits).
	Files Files
	// Root is the workspace's absolute path: packer's path.cwd is Root
	// joined with WorkingDir, and absolute paths inside Root are workspace
	// files.
	Root string
	// Dir is the template directory; PathRoot is how packer is given it,
	// which is packer's path.root (hybrid gives packer absolute paths).
	Dir, PathRoot string
	// WorkingDir is where packer runs; relative paths packer reads are
	// resolved from it.
	WorkingDir string
	// Values are the variable values given to packer (the render), by
	// name; values derived from secrets carry SensitiveMark.
	Values map[string]cty.Value
	// PackerVersion is packer.version.
	PackerVersion string
	// Observe, when set, is told each workspace path the evaluation looks
	// at ("file" for a file read or checked, "glob" for a pattern listed)
	// before it looks, and returns what the path holds now (a digest).
	// The Evaluation records these in Observed, so a cached evaluation can
	// be reused while every observation still holds.
	Observe func(kind, path string) string
}

// Observation is one workspace path an evaluation looked at, and what it
// held then.
type Observation struct {
	Kind, Path, Value string
}

// InputKind says how an input path is read.
type InputKind int

// The kinds of input.
const (
	// InputPath is a file, or a directory read whole, as it turns out.
	InputPath InputKind = iota
	// InputGlob is a pattern (with ** for any number of directories).
	InputGlob
)

// Input is a workspace path a build reads, with every place that reads it.
type Input struct {
	Path  string
	Kind  InputKind
	Reads []Read
}

// Read is one place in a template that makes a path an input.
type Read struct {
	// What says which attribute or function reads it, e.g.
	// `provisioner "shell" scripts` or `file() in local.header`.
	What  string
	Range hcl.Range
}

// String is "WHAT at FILE:LINE".
func (r Read) String() string {
	if r.Range.Filename == "" {
		return r.What
	}
	return fmt.Sprintf("%s at %s", r.What, position(r.Range))
}

// Evaluation is what one build of a template reads, found by evaluating
// the template as packer does for that build.
type Evaluation struct {
	// Found reports whether some build block starts the build asked for;
	// Build is that use of a source.
	Found bool
	Build SourceRef
	// Builds lists the packer names of every build the template defines
	// once evaluated, for error messages.
	Builds []string
	// Inputs are the files, directories and globs the build reads, beyond
	// the template's own packer files, sorted by path.
	Inputs []Input
	// Widened lists the expressions that cannot be resolved before the
	// build: for each, the whole template directory is an input.
	Widened []Read
	// Untracked lists paths the build reads outside the workspace, which
	// hybrid cannot fingerprint.
	Untracked []Read
	// GitReads lists why the build reads git metadata (a git-* data
	// source, a .git path): the commit of its source is then an input.
	GitReads []Read
	// Unresolved lists build blocks whose sources are not known before
	// the build, so the build asked for may or may not be among them.
	Unresolved []Read
	// Observed lists what the evaluation looked at (with Scope.Observe).
	Observed []Observation
}

// Evaluate evaluates the template for the build packer's -only=only
// selects, the way packer would with the scope's values, and returns what
// that build reads. It never fails: what cannot be known is widened to the
// whole template directory, and said so.
//
// Builds that agree on everything the evaluated expressions can use (the
// scope's paths and the values of the variables they refer to) share one
// Evaluation, which callers must not modify.
func (t *Template) Evaluate(only string, s Scope) *Evaluation {
	key, ok := t.evalKey(only, s)
	if !ok {
		return t.evaluate(only, s)
	}
	t.evalMu.Lock()
	c := t.evals[key]
	if c == nil {
		if t.evals == nil {
			t.evals = map[string]*evalCall{}
		}
		c = &evalCall{}
		t.evals[key] = c
	}
	t.evalMu.Unlock()
	c.once.Do(func() { c.ev = t.evaluate(only, s) })
	return c.ev
}

// evalVars returns the variables evaluated expressions use and whether
// the template has JSON files, from its syntax or its snapshot.
func (t *Template) evalVars() ([]string, bool) {
	if t.lazy {
		return t.restoredVars, t.restoredJSON
	}
	idx := t.index()
	return idx.vars, idx.json
}

// evalCall is one shared evaluation.
type evalCall struct {
	once sync.Once
	ev   *Evaluation
}

// evalKey identifies what an evaluation depends on; ok is false when a
// value it depends on cannot be keyed (sensitive, or not serializable).
func (t *Template) evalKey(only string, s Scope) (string, bool) {
	return t.EvalKey(only, s)
}

// EvalKey identifies what evaluating the template for the build only
// depends on, besides the files it observes: the scope's paths and the
// values of the variables evaluated expressions use. ok is false when a
// value cannot be keyed (sensitive, unknown) or the template is JSON.
func (t *Template) EvalKey(only string, s Scope) (string, bool) {
	vars, json := t.evalVars()
	if json {
		return "", false
	}
	var b strings.Builder
	for _, part := range []string{only, s.Root, s.Dir, s.PathRoot, s.WorkingDir, s.PackerVersion} {
		b.WriteString(part)
		b.WriteByte(0)
	}
	for _, name := range vars {
		v, ok := s.Values[name]
		if !ok {
			b.WriteString(name + "\x00-\x00")
			continue
		}
		if v.ContainsMarked() || !v.IsWhollyKnown() {
			return "", false
		}
		j, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return "", false
		}
		ty, err := ctyjson.MarshalType(v.Type())
		if err != nil {
			return "", false
		}
		b.WriteString(name)
		b.WriteByte(0)
		b.Write(ty)
		b.WriteByte(0)
		b.Write(j)
		b.WriteByte(0)
	}
	return b.String(), true
}

func (t *Template) evaluate(only string, s Scope) *Evaluation {
	e := &evaluator{t: t, s: s, ev: &Evaluation{}, inputs: map[string]*Input{}}
	e.cwd = filepath.Join(s.Root, filepath.FromSlash(s.WorkingDir))
	idx := t.index()
	e.idx = idx
	// One evaluation of a template at a time: its syntax is instrumented
	// with one guard, whose budget each evaluation starts afresh.
	t.guardMu.Lock()
	defer t.guardMu.Unlock()
	t.guard.Reset()
	e.funcs = e.functions()
	for _, d := range idx.data {
		if strings.HasPrefix(d.typ, "git-") {
			e.ev.GitReads = append(e.ev.GitReads, Read{What: fmt.Sprintf("data %q %q", d.typ, d.name), Range: d.rng})
		}
	}
	ctx := e.baseContext(idx)
	// Packer runs every data source for every build: what they read is
	// read by every build.
	for _, d := range idx.data {
		e.walkBody(d.body, ctx, fmt.Sprintf("data %q %q", d.typ, d.name), nil, nil)
	}
	uses := e.buildUses(idx, ctx)
	for _, u := range uses {
		e.ev.Builds = append(e.ev.Builds, u.ref.PackerName())
	}
	u, ok := selectUse(uses, only)
	if ok {
		e.ev.Found, e.ev.Build = true, u.ref
		e.readBuild(idx, ctx, u)
	}
	for _, in := range e.inputs {
		e.ev.Inputs = append(e.ev.Inputs, *in)
	}
	sort.Slice(e.ev.Inputs, func(i, j int) bool { return e.ev.Inputs[i].Path < e.ev.Inputs[j].Path })
	return e.ev
}

// selectUse returns the use packer's -only=only selects: the one whose
// packer name is only, else the first using the source block only names.
func selectUse(uses []*sourceUse, only string) (*sourceUse, bool) {
	for _, u := range uses {
		if u.ref.PackerName() == only {
			return u, true
		}
	}
	typ, name, ok := splitSourceAddress(only)
	if !ok {
		return nil, false
	}
	for _, u := range uses {
		if u.ref.Type == typ && u.ref.Name == name {
			return u, true
		}
	}
	return nil, false
}

// evaluator carries one evaluation.
type evaluator struct {
	t      *Template
	idx    *templateIndex
	s      Scope
	ev     *Evaluation
	cwd    string
	funcs  map[string]function.Function
	inputs map[string]*Input

	// where and rng name the expression being evaluated, for the inputs
	// and widenings it causes.
	where string
	rng   hcl.Range
	// widenedHere is set when the current expression was widened, so one
	// expression is reported once.
	widenedHere bool
}

// eval evaluates expr as the attribute what, recording what it reads.
func (e *evaluator) eval(expr hcl.Expression, ctx *hcl.EvalContext, what string) cty.Value {
	e.where, e.rng, e.widenedHere = what, expr.Range(), false
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		if callsFileFunction(expr) {
			e.widen(fmt.Sprintf("%s cannot be evaluated before the build (%s)", what, diags[0].Summary))
		}
		return cty.DynamicVal
	}
	return v
}

// widen records that the current expression cannot be resolved.
func (e *evaluator) widen(why string) {
	if e.widenedHere {
		return
	}
	e.widenedHere = true
	e.ev.Widened = append(e.ev.Widened, Read{What: why, Range: e.rng})
}

// addInput records a workspace path the build reads.
func (e *evaluator) addInput(rel string, kind InputKind, what string) {
	key := fmt.Sprintf("%d:%s", kind, rel)
	in := e.inputs[key]
	if in == nil {
		in = &Input{Path: rel, Kind: kind}
		e.inputs[key] = in
	}
	r := Read{What: what, Range: e.rng}
	for _, have := range in.Reads {
		if have == r {
			return
		}
	}
	in.Reads = append(in.Reads, r)
}

// resolve turns a path a builder or provisioner reads (relative to
// packer's working directory, or absolute) into a workspace path; ok is
// false for paths outside the workspace.
func (e *evaluator) resolve(p string) (string, bool) {
	return e.resolveFrom(e.s.WorkingDir, p)
}

// resolveFunc turns the path argument of a file function into a workspace
// path: packer resolves those relative to the template directory, not to
// its working directory.
func (e *evaluator) resolveFunc(p string) (string, bool) {
	return e.resolveFrom(e.s.Dir, p)
}

// resolveFrom resolves p relative to the workspace directory base.
func (e *evaluator) resolveFrom(base, p string) (string, bool) {
	if p == "" || strings.HasPrefix(p, "~") {
		return "", false
	}
	if filepath.IsAbs(p) {
		clean := filepath.Clean(p)
		if !fsutil.Within(e.s.Root, clean) {
			return "", false
		}
		rel, err := filepath.Rel(e.s.Root, clean)
		if err != nil {
			return "", false
		}
		return filepath.ToSlash(rel), true
	}
	rel := path.Clean(path.Join(base, filepath.ToSlash(p)))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// observe records what a path holds before the evaluation looks at it.
func (e *evaluator) observe(kind, rel string) {
	if e.s.Observe == nil {
		return
	}
	for _, o := range e.ev.Observed {
		if o.Kind == kind && o.Path == rel {
			return
		}
	}
	e.ev.Observed = append(e.ev.Observed, Observation{Kind: kind, Path: rel, Value: e.s.Observe(kind, rel)})
}

// readsGit reports whether a workspace path lies in git metadata.
func readsGit(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if part == ".git" {
			return true
		}
	}
	return false
}

// addPath records the path value of a path attribute, or why it cannot.
func (e *evaluator) addPath(p, what string, allowGlob bool) {
	rel, ok := e.resolve(p)
	switch {
	case !ok:
		e.ev.Untracked = append(e.ev.Untracked, Read{What: fmt.Sprintf("%s %q", what, p), Range: e.rng})
	case readsGit(rel):
		e.ev.GitReads = append(e.ev.GitReads, Read{What: fmt.Sprintf("%s %q", what, p), Range: e.rng})
	case allowGlob && strings.ContainsAny(rel, "*?["):
		e.addInput(rel, InputGlob, what)
	default:
		e.addInput(rel, InputPath, what)
	}
}

// pathValues records the paths an attribute's value names: a string or a
// list of strings.
func (e *evaluator) pathValues(v cty.Value, what string, kind pathKind) {
	if !v.IsWhollyKnown() {
		e.widen(fmt.Sprintf("%s is not known before the build", what))
		return
	}
	if v.ContainsMarked() {
		e.widen(fmt.Sprintf("%s derives from a sensitive value", what))
		return
	}
	if v.IsNull() {
		return
	}
	var strs []string
	ty := v.Type()
	switch {
	case ty == cty.String:
		strs = []string{v.AsString()}
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			if el.IsNull() {
				continue
			}
			s, err := convert.Convert(el, cty.String)
			if err != nil {
				return
			}
			strs = append(strs, s.AsString())
		}
	default:
		return
	}
	for _, p := range strs {
		if kind == pathURL {
			var local bool
			if p, local = localURL(p); !local {
				continue
			}
		}
		e.addPath(p, what, kind == pathGlob)
	}
}

// localURL returns the local path of an ISO URL, and false for remote ones.
func localURL(u string) (string, bool) {
	if i := strings.Index(u, "://"); i >= 0 {
		if strings.EqualFold(u[:i], "file") {
			return strings.TrimPrefix(u[i+3:], "localhost"), true
		}
		return "", false
	}
	if strings.Contains(u, "::") { // go-getter forced getters: git::, s3::...
		return "", false
	}
	return u, true
}

// baseContext evaluates the variables, data sources and locals: the
// context every block of the template is evaluated in.
func (e *evaluator) baseContext(idx *templateIndex) *hcl.EvalContext {
	vars := make(map[string]cty.Value, len(e.t.Variables))
	for name, v := range e.t.Variables {
		val, ok := e.s.Values[name]
		if !ok {
			val, ok = idx.autoValues[name]
		}
		switch {
		case ok:
			if conv, err := convert.Convert(val, v.Constraint()); err == nil {
				val = conv
			}
		case v.HasDefault && v.Default != cty.NilVal:
			val = v.Default
		default:
			val = cty.DynamicVal
		}
		if v.Sensitive {
			val = val.Mark(SensitiveMark)
		}
		vars[name] = val
	}
	data := map[string]map[string]cty.Value{}
	for _, d := range idx.data {
		if data[d.typ] == nil {
			data[d.typ] = map[string]cty.Value{}
		}
		data[d.typ][d.name] = cty.DynamicVal
	}
	dataVal := map[string]cty.Value{}
	for typ, m := range data {
		dataVal[typ] = cty.ObjectVal(m)
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":  cty.ObjectVal(vars),
			"data": cty.ObjectVal(dataVal),
			"path": cty.ObjectVal(map[string]cty.Value{
				"root": cty.StringVal(e.s.PathRoot),
				"cwd":  cty.StringVal(e.cwd),
			}),
			"packer": cty.ObjectVal(map[string]cty.Value{"version": cty.StringVal(e.s.PackerVersion)}),
		},
		Functions: e.funcs,
	}
	ctx.Variables["local"] = cty.ObjectVal(e.locals(idx, ctx))
	return ctx
}

// locals evaluates every local in dependency order (Kahn's algorithm over
// local.* references, so the cost is linear in the references). Each local
// is evaluated with only the locals it refers to in scope. A local in a
// cycle, or after one, is unknown.
func (e *evaluator) locals(idx *templateIndex, ctx *hcl.EvalContext) map[string]cty.Value {
	out := make(map[string]cty.Value, len(idx.locals))
	waiting := make([]int, len(idx.locals))
	dependents := make([][]int, len(idx.locals))
	for i, l := range idx.locals {
		for _, dep := range l.deps {
			if j, ok := idx.localByName[dep]; ok && j != i {
				waiting[i]++
				dependents[j] = append(dependents[j], i)
			}
		}
	}
	var ready []int
	for i := range idx.locals {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		l := idx.locals[i]
		if !idx.needed[l.name] {
			// Nothing this evaluation looks at can use it.
			out[l.name] = cty.DynamicVal
			for _, d := range dependents[i] {
				if waiting[d]--; waiting[d] == 0 {
					ready = append(ready, d)
				}
			}
			continue
		}
		scope := make(map[string]cty.Value, len(l.deps))
		for _, dep := range l.deps {
			if v, ok := out[dep]; ok {
				scope[dep] = v
			} else {
				scope[dep] = cty.DynamicVal
			}
		}
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{"local": cty.ObjectVal(scope)}
		v := e.eval(l.expr, child, "local."+l.name)
		if err := e.t.guard.Check(v); err != nil {
			// Too large to be a path: what it feeds is unknown.
			v = cty.DynamicVal
		}
		if l.sensitive {
			v = v.Mark(SensitiveMark)
		}
		out[l.name] = v
		for _, d := range dependents[i] {
			if waiting[d]--; waiting[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	for _, l := range idx.locals {
		if _, ok := out[l.name]; !ok {
			out[l.name] = cty.DynamicVal
		}
	}
	return out
}

// callsFileFunction reports whether expr calls a function that reads files.
func callsFileFunction(expr hcl.Expression) bool {
	found := false
	se, ok := expr.(hclsyntax.Expression)
	if !ok {
		return true // JSON: cannot tell, assume it may
	}
	hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && fileFunctionNames[call.Name] {
			found = true
		}
		return nil
	})
	return found
}
