package config

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/hybridcore/hybrid/internal/hclguard"
	"github.com/hybridcore/hybrid/internal/wsroot"
)

// Filename is the configuration file hybrid reads in the workspace root.
const Filename = "hybrid.hcl"

// DefaultEnvironment is the environment a configuration without environment
// blocks builds in.
const DefaultEnvironment = "default"

// Config is a decoded, evaluated and validated hybrid.hcl.
type Config struct {
	// Dir is the absolute workspace root; every path in the configuration is
	// relative to it.
	Dir      string
	Filename string // workspace-relative name of the configuration file

	Settings     Settings
	Variables    map[string]*Variable
	Locals       map[string]cty.Value
	Sources      map[string]*Source
	Plugins      map[string]*Plugin
	Provisioners map[string]*Provisioner
	VarGroups    map[string]*VarGroup
	Environments map[string]*Environment
	Images       map[string]*Image

	// forEachBlocks holds the label of every image block with for_each,
	// with its for_each range: a name that refers to no image there.
	forEachBlocks map[string]hcl.Range

	parser   *hclparse.Parser
	files    Files
	mu       sync.Mutex
	varFiles map[string]*VarFile
	attrs    attrCache

	// guard caps what expressions build; funcs are the functions, wrapped
	// by it so that their results keep the sensitive mark.
	guard *hclguard.Guard
	funcs map[string]function.Function
}

type rawFile struct {
	Hybrid       []*rawHybrid      `hcl:"hybrid,block"`
	Variables    []*rawVariable    `hcl:"variable,block"`
	Locals       []*rawLocals      `hcl:"locals,block"`
	Sources      []*rawSource      `hcl:"source,block"`
	Plugins      []*rawPlugin      `hcl:"plugin,block"`
	Provisioners []*rawProvisioner `hcl:"provisioner,block"`
	VarGroups    []*rawVarGroup    `hcl:"var_group,block"`
	Environments []*rawEnvironment `hcl:"environment,block"`
	Images       []*rawImage       `hcl:"image,block"`
}

type rawLocals struct {
	Body hcl.Body `hcl:",remain"`
}

// Load reads dir/hybrid.hcl with p (whose Files() then hold every file read,
// for printing diagnostics with snippets), evaluates it with the given
// inputs and validates it. The Config is returned even with errors, as far as
// it could be decoded, so callers can report everything at once.
func Load(p *hclparse.Parser, dir string, in Inputs) (*Config, hcl.Diagnostics) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid workspace directory", Detail: err.Error()}}
	}
	name := filepath.Join(abs, Filename)
	// Through os.Root: hybrid.hcl must be a file of the workspace, not a
	// link leading out of it.
	src, err := readWorkspaceFile(abs, Filename)
	if err != nil {
		detail := fmt.Sprintf("Cannot read %s: %v.", name, unwrapPathError(err))
		if os.IsNotExist(err) {
			detail = fmt.Sprintf("There is no %s in %s. Run hybrid in the workspace directory, or point at it with -chdir=DIR.", Filename, abs)
		}
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No configuration file", Detail: detail}}
	}
	return Parse(p, abs, src, Filename, in)
}

// Parse decodes configuration source as if read from filename inside the
// workspace root dir.
//
// The source is scanned before it is parsed, and refused if it nests too
// deeply or is too large for the parser (see hclguard.Check); what its
// expressions build is capped (hclguard.Limits), so hostile configurations
// end in an error, not a crash or an out-of-memory kill.
func Parse(p *hclparse.Parser, dir string, src []byte, filename string, in Inputs) (*Config, hcl.Diagnostics) {
	g := hclguard.New(hclguard.DefaultLimits)
	c := &Config{
		Dir: dir, Filename: filename,
		Variables: map[string]*Variable{}, Locals: map[string]cty.Value{},
		Sources: map[string]*Source{}, Plugins: map[string]*Plugin{},
		Provisioners: defaultProvisioners(), VarGroups: map[string]*VarGroup{},
		Environments: map[string]*Environment{}, Images: map[string]*Image{},
		forEachBlocks: map[string]hcl.Range{},
		parser:        p, varFiles: map[string]*VarFile{},
		guard: g, funcs: guardedFunctions(dir, g),
	}
	if diags := hclguard.Check(src, filename, hclguard.Native); diags.HasErrors() {
		return c, diags
	}
	f, diags := p.ParseHCL(src, filename)
	if diags.HasErrors() {
		return c, diags
	}
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		g.Instrument(body)
	}
	// Schema errors (an unknown attribute or block, a missing label) do
	// not stop the decoding: gohcl fills in every block it could read, and
	// the rest of the file is checked too, so that one run reports every
	// mistake.
	var raw rawFile
	diags = append(diags, gohcl.DecodeBody(f.Body, nil, &raw)...)

	var d hcl.Diagnostics
	g.Reset()
	c.Settings, d = decodeSettings(raw.Hybrid, in.Getenv)
	diags = append(diags, d...)

	seen := newDupChecker()
	for _, rv := range raw.Variables {
		if diags = append(diags, seen.check("variable", rv.Name, rv.DefRange)...); seen.dup {
			continue
		}
		g.Reset()
		v, d := decodeVariable(rv)
		diags = append(diags, d...)
		v.invalid = d.HasErrors()
		c.Variables[v.Name] = v
	}
	diags = append(diags, c.assignVariables(in)...)

	for _, rs := range raw.Sources {
		if diags = append(diags, seen.check("source", rs.Name, rs.DefRange)...); seen.dup {
			continue
		}
		g.Reset()
		s, d := decodeSource(rs, c.Settings.Dirs)
		diags = append(diags, d...)
		c.Sources[s.Name] = s
	}
	for _, rp := range raw.Plugins {
		if diags = append(diags, seen.check("plugin", rp.Name, rp.DefRange)...); seen.dup {
			continue
		}
		g.Reset()
		pl, d := decodePlugin(rp)
		diags = append(diags, d...)
		c.Plugins[pl.Name] = pl
	}

	diags = append(diags, c.evalLocals(raw.Locals)...)
	ctx := c.EvalContext()

	defaults := defaultProvisioners()
	for _, rp := range raw.Provisioners {
		if diags = append(diags, seen.check("provisioner", rp.Name, rp.DefRange)...); seen.dup {
			continue
		}
		g.Reset()
		pv, d := decodeProvisioner(rp, ctx, defaults)
		diags = append(diags, d...)
		if pv != nil {
			c.Provisioners[pv.Name] = pv
		}
	}
	for _, rg := range raw.VarGroups {
		if diags = append(diags, seen.check("var_group", rg.Name, rg.DefRange)...); seen.dup {
			continue
		}
		g.Reset()
		vg, d := decodeVarGroup(rg, ctx)
		diags = append(diags, d...)
		c.VarGroups[vg.Name] = vg
	}
	for _, re := range raw.Environments {
		if diags = append(diags, seen.check("environment", re.Name, re.DefRange)...); seen.dup {
			continue
		}
		g.Reset()
		e, d := decodeEnvironment(re, ctx)
		diags = append(diags, d...)
		c.Environments[e.Name] = e
	}
	if len(raw.Environments) == 0 {
		c.Environments[DefaultEnvironment] = &Environment{Name: DefaultEnvironment}
	}
	diags = append(diags, c.decodeImages(raw.Images, ctx, seen)...)

	diags = append(diags, c.checkReferences()...)
	g.Reset() // whoever evaluates the file's expressions next starts afresh
	return c, diags
}

// dupChecker reports a second block of the same kind and name.
type dupChecker struct {
	first map[string]hcl.Range
	dup   bool
}

func newDupChecker() *dupChecker { return &dupChecker{first: map[string]hcl.Range{}} }

func (d *dupChecker) check(kind, name string, rng hcl.Range) hcl.Diagnostics {
	key := kind + "\x00" + name
	first, ok := d.first[key]
	d.dup = ok
	if !ok {
		d.first[key] = rng
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s block", kind),
		Detail:   fmt.Sprintf("A %s named %q was already declared at %s. Names must be unique within each block type.", kind, name, first),
		Subject:  rng.Ptr(),
	}}
}

// Files reads workspace files by workspace-relative slash path; hybrid's
// view of the workspace reads source directories from git objects at their
// locked commits.
type Files interface {
	ReadFile(name string) ([]byte, error)
}

// SetFiles makes the var files the configuration names (other than
// -var-file arguments) read through f instead of the local file system:
// plans read var files inside a source at the commit the lockfile pins.
// Call it before the first Render.
func (c *Config) SetFiles(f Files) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files = f
}

// EvalContext is the context hybrid.hcl expressions are evaluated in: var.*,
// local.*, source.<name>.{path,url,ref} and the functions.
func (c *Config) EvalContext() *hcl.EvalContext {
	ctx := c.baseContext()
	ctx.Variables["local"] = cty.ObjectVal(c.Locals)
	return ctx
}

// baseContext is EvalContext without local.*.
func (c *Config) baseContext() *hcl.EvalContext {
	vars := map[string]cty.Value{}
	for name, v := range c.Variables {
		if v.Value == cty.NilVal {
			vars[name] = cty.DynamicVal
			continue
		}
		vars[name] = v.Value
	}
	srcs := map[string]cty.Value{}
	for name, s := range c.Sources {
		srcs[name] = cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal(s.Name),
			"path": cty.StringVal(s.Path),
			"url":  cty.StringVal(s.URL),
			"ref":  cty.StringVal(s.Ref),
		})
	}
	funcs := c.funcs
	if funcs == nil {
		funcs = Functions(c.Dir)
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":    cty.ObjectVal(vars),
			"source": cty.ObjectVal(srcs),
		},
		Functions: funcs,
	}
}

// local is one local value waiting to be evaluated.
type local struct {
	name string
	attr *hcl.Attribute
	deps []string // the locals it refers to, each once
	// undeclared is set when it refers to a local that has no definition
	// (reported): it is not evaluated.
	undeclared bool
}

// evalLocals evaluates locals blocks in dependency order (Kahn's algorithm
// over local.* references), so a local may use another wherever it is
// declared; a cycle is an error naming its members. Each local is evaluated
// with only the locals it refers to in scope, so the whole costs time
// linear in the size of the locals, not quadratic in their number.
func (c *Config) evalLocals(blocks []*rawLocals) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var all []*local
	index := map[string]int{}
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for _, a := range sortedAttributes(attrs) {
			if prev, ok := index[a.Name]; ok {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate local value",
					Detail:   fmt.Sprintf("Local %q was already defined at %s.", a.Name, all[prev].attr.Range),
					Subject:  a.NameRange.Ptr(),
				})
				continue
			}
			index[a.Name] = len(all)
			all = append(all, &local{name: a.Name, attr: a})
		}
	}
	// Evaluate in name order where the dependencies allow, so diagnostics
	// come out in a stable order.
	slices.SortFunc(all, func(a, b *local) int { return strings.Compare(a.name, b.name) })
	for i, l := range all {
		index[l.name] = i
	}
	waiting := make([]int, len(all))
	dependents := make([][]int, len(all))
	for i, l := range all {
		seen := map[string]bool{}
		for _, tr := range l.attr.Expr.Variables() {
			if tr.RootName() != "local" {
				continue
			}
			dep := ""
			if len(tr) > 1 {
				dep = attrName(tr[1])
			}
			if dep == "" {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid reference",
					Detail:   "The local object cannot be used whole or with a computed key; refer to one local value, as local.NAME.",
					Subject:  tr.SourceRange().Ptr(),
				})
				continue
			}
			if seen[dep] {
				continue
			}
			seen[dep] = true
			if _, ok := index[dep]; !ok {
				l.undeclared = true
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Reference to undeclared local value",
					Detail:   fmt.Sprintf("A local value with the name %q has not been declared.%s", dep, didYouMeanRef("local", dep, localNames(all))),
					Subject:  tr.SourceRange().Ptr(),
				})
				continue
			}
			l.deps = append(l.deps, dep)
			if j, ok := index[dep]; ok { // a local that uses itself waits forever: a cycle
				waiting[i]++
				dependents[j] = append(dependents[j], i)
			}
		}
	}
	queue := make([]int, 0, len(all))
	for i := range all {
		if waiting[i] == 0 {
			queue = append(queue, i)
		}
	}
	base := c.baseContext()
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		l := all[i]
		scope := make(map[string]cty.Value, len(l.deps))
		for _, dep := range l.deps {
			if v, ok := c.Locals[dep]; ok {
				scope[dep] = v
			}
		}
		ctx := base.NewChild()
		ctx.Variables = map[string]cty.Value{"local": cty.ObjectVal(scope)}
		c.guard.Reset()
		v, d := cty.DynamicVal, hcl.Diagnostics(nil)
		if !l.undeclared {
			v, d = evalExpr(l.attr.Expr, ctx)
		}
		diags = append(diags, d...)
		if d.HasErrors() {
			v = cty.DynamicVal
		} else if err := c.guard.Check(v); err != nil {
			diags = append(diags, c.guard.Limits.TooLarge(err, l.attr.Expr.Range()))
			v = cty.DynamicVal
		}
		c.Locals[l.name] = v
		for _, d := range dependents[i] {
			if waiting[d]--; waiting[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	var cycle []string
	for i, l := range all {
		if waiting[i] > 0 {
			cycle = append(cycle, l.name)
			c.Locals[l.name] = cty.DynamicVal
		}
	}
	if len(cycle) > 0 {
		shown := cycle
		more := ""
		if len(shown) > 10 {
			more = fmt.Sprintf(" and %d more", len(shown)-10)
			shown = shown[:10]
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cycle in local values",
			Detail:   fmt.Sprintf("These locals refer to each other in a cycle, or to a local in one: local.%s%s.", strings.Join(shown, ", local."), more),
			Subject:  all[index[cycle[0]]].attr.Range.Ptr(),
		})
	}
	return diags
}

// localNames lists the names of locals, sorted.
func localNames(all []*local) []string {
	names := make([]string, len(all))
	for i, l := range all {
		names[i] = l.name
	}
	sort.Strings(names)
	return names
}

// sortedAttributes returns attrs in source order.
func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *hcl.Attribute) int {
		return cmp.Or(cmp.Compare(a.Range.Start.Byte, b.Range.Start.Byte), strings.Compare(a.Name, b.Name))
	})
	return out
}

// EnvironmentNames returns the environment names, sorted.
func (c *Config) EnvironmentNames() []string { return sortedKeys(c.Environments) }

// ImageNames returns the image names, sorted.
func (c *Config) ImageNames() []string { return sortedKeys(c.Images) }

// SourceNames returns the source names, sorted.
func (c *Config) SourceNames() []string { return sortedKeys(c.Sources) }

// ImageEnvironments returns the environments an image is built in, sorted.
func (c *Config) ImageEnvironments(img *Image) []string {
	if img.Environments == nil {
		return c.EnvironmentNames()
	}
	var out []string
	for _, r := range img.Environments {
		if _, ok := c.Environments[r.Name]; ok {
			out = append(out, r.Name)
		}
	}
	sort.Strings(out)
	return out
}

// EnvironmentChain returns env and its ancestors, root first, so overlays
// apply from the most general to the most specific.
func (c *Config) EnvironmentChain(env string) []*Environment {
	var chain []*Environment
	seen := map[string]bool{}
	for e := c.Environments[env]; e != nil && !seen[e.Name]; {
		seen[e.Name] = true
		chain = append(chain, e)
		if e.Parent == nil {
			break
		}
		e = c.Environments[e.Parent.Name]
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// Stack returns the provisioning stack an image uses in an environment: the
// image's own choice, else the environment's (or an ancestor's), else ansible.
func (c *Config) Stack(img *Image, env string) string {
	if img.Provisioner != "" {
		return img.Provisioner
	}
	chain := c.EnvironmentChain(env)
	for i := len(chain) - 1; i >= 0; i-- {
		if chain[i].Provisioner != "" {
			return chain[i].Provisioner
		}
	}
	return DefaultStack
}

// SourceOf returns the source whose checkout holds the workspace-relative
// path p, or nil when p is in the workspace itself.
func (c *Config) SourceOf(p string) *Source {
	for _, s := range c.Sources {
		if strings.HasPrefix(p, s.Path) && (len(p) == len(s.Path) || p[len(s.Path)] == '/') {
			return s
		}
	}
	return nil
}

// readWorkspaceFile reads the workspace file rel through os.Root, capped at
// hclguard's size limit.
func readWorkspaceFile(dir, rel string) ([]byte, error) {
	root, err := wsroot.Open(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fi, err := root.Stat(rel)
	if err != nil {
		return nil, err
	}
	if fi.Size() > hclguard.MaxBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", rel, hclguard.MaxBytes>>20)
	}
	return root.ReadFile(rel)
}
