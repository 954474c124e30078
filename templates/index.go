package templates

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/hybridcore/hybrid/internal/hclguard"
	"github.com/zclconf/go-cty/cty"
)

// templateIndex is what evaluation needs from a template's files, found
// once per template: its locals, data sources, source blocks and build
// blocks, and the values of its auto var files.
type templateIndex struct {
	// readers holds the expressions that call a file function, found
	// once: only they (and attributes that name paths) are evaluated for
	// each build, since nothing else can change what a build reads.
	readers map[hcl.Expression]bool
	// needed holds the locals an evaluated expression may use, directly
	// or through other locals; the rest are never evaluated.
	needed map[string]bool
	// json is set when a file is in JSON syntax, which has no static view:
	// every expression is evaluated.
	json bool
	// vars holds the variables evaluated expressions may use (through
	// locals too), sorted: builds that agree on them read the same.
	vars        []string
	locals      []localDef
	localByName map[string]int
	data        []dataDef
	sources     map[string]*hcl.Block // by "<type>.<name>"
	builds      []*hcl.Block
	autoValues  map[string]cty.Value
}

type localDef struct {
	name      string
	expr      hcl.Expression
	sensitive bool
	deps      []string // the locals it refers to, sorted, each once
}

type dataDef struct {
	typ, name string
	rng       hcl.Range
	body      hcl.Body
}

var indexSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "locals"},
		{Type: "local", LabelNames: []string{"name"}},
		{Type: "data", LabelNames: []string{"type", "name"}},
		{Type: "source", LabelNames: []string{"type", "name"}},
		{Type: "build"},
	},
}

var localBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "expression"}, {Name: "sensitive"}},
}

// index returns the template's index, building it on first use. Load
// builds it too, so a Template shared by goroutines never builds it twice.
func (t *Template) index() *templateIndex {
	t.indexOnce.Do(func() {
		if t.lazy {
			t.parseLazily()
		}
		t.idx = t.buildIndex()
	})
	return t.idx
}

func (t *Template) buildIndex() *templateIndex {
	idx := &templateIndex{localByName: map[string]int{}, sources: map[string]*hcl.Block{}, autoValues: map[string]cty.Value{}}
	addLocal := func(l localDef) {
		if _, dup := idx.localByName[l.name]; dup {
			return // packer reports the duplicate; the first one counts here
		}
		seen := map[string]bool{}
		for _, tr := range l.expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			if a, ok := tr[1].(hcl.TraverseAttr); ok && !seen[a.Name] {
				seen[a.Name] = true
				l.deps = append(l.deps, a.Name)
			}
		}
		sort.Strings(l.deps)
		idx.localByName[l.name] = len(idx.locals)
		idx.locals = append(idx.locals, l)
	}
	for _, f := range t.parsed {
		content, _, _ := f.Body.PartialContent(indexSchema)
		for _, b := range content.Blocks {
			switch b.Type {
			case "locals":
				attrs, _ := b.Body.JustAttributes()
				for _, a := range sortedAttributes(attrs) {
					addLocal(localDef{name: a.Name, expr: a.Expr})
				}
			case "local":
				c, _, _ := b.Body.PartialContent(localBlockSchema)
				a, ok := c.Attributes["expression"]
				if !ok {
					continue
				}
				l := localDef{name: b.Labels[0], expr: a.Expr}
				if s, ok := c.Attributes["sensitive"]; ok {
					if v, d := s.Expr.Value(nil); !d.HasErrors() && v.Type() == cty.Bool && v.IsKnown() && !v.IsNull() {
						l.sensitive = v.True()
					}
				}
				addLocal(l)
			case "data":
				idx.data = append(idx.data, dataDef{typ: b.Labels[0], name: b.Labels[1], rng: b.DefRange, body: b.Body})
			case "source":
				key := b.Labels[0] + "." + b.Labels[1]
				if _, dup := idx.sources[key]; !dup {
					idx.sources[key] = b
				}
			case "build":
				idx.builds = append(idx.builds, b)
			}
		}
	}
	// What evaluations build is charged to the template's guard.
	t.guard = hclguard.New(hclguard.DefaultLimits)
	for _, f := range t.parsed {
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			t.guard.Instrument(body)
		}
	}
	idx.analyze(t)
	if t.lazy {
		idx.autoValues = t.restoredAuto
		return idx
	}
	for _, f := range t.autoVarFiles {
		src, err := t.reader.ReadFile(f)
		if err != nil {
			continue
		}
		vf, diags := ParseVarFileBytes(nil, src, f)
		if diags.HasErrors() {
			continue
		}
		for name, v := range vf.Values {
			idx.autoValues[name] = v
		}
	}
	return idx
}

// fileFunctionNames are the functions that read files.
var fileFunctionNames = map[string]bool{
	"file": true, "fileexists": true, "fileset": true, "templatefile": true,
	"filebase64": true, "filemd5": true, "filesha1": true, "filesha256": true,
	"filesha512": true, "filebase64sha256": true, "filebase64sha512": true,
}

// ProvisionerTypes returns the types of the provisioner blocks of the
// build blocks that may start the build -only=only selects, sorted, each
// once: blocks written out and dynamic ones with literal labels. Build
// blocks whose sources are not literal count as possibly starting it.
func (t *Template) ProvisionerTypes(only string) []string {
	typ, name, _ := splitSourceAddress(only)
	seen := map[string]bool{}
	for _, b := range t.Builds {
		use := b.Dynamic
		for _, ref := range b.Sources {
			if ref.PackerName() == only || (ref.Type == typ && ref.Name == name) {
				use = true
			}
		}
		if !use {
			continue
		}
		for _, p := range b.Provisioners {
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// AutoValues returns the values the template's *.auto.pkrvars files set,
// which packer loads by itself, by variable name.
func (t *Template) AutoValues() map[string]cty.Value {
	if t.lazy {
		return t.restoredAuto
	}
	return t.index().autoValues
}

// HasDynamicBuilds reports whether some build block's sources are known
// only once the template is evaluated with a build's values.
func (t *Template) HasDynamicBuilds() bool {
	for _, b := range t.Builds {
		if b.Dynamic {
			return true
		}
	}
	return false
}

// structuralAttrs are attributes evaluated whatever they hold, because
// they decide which blocks a build has: build names and sources, nested
// source names, only/except, and dynamic blocks' for_each, labels and
// iterator.
var structuralAttrs = map[string]bool{
	"sources": true, "name": true, "only": true, "except": true,
	"for_each": true, "labels": true, "iterator": true, "direction": true,
}

// analyze finds, once per template, the expressions that can change what a
// build reads (readers: those calling a file function) and the locals any
// evaluated expression may need (needed), following locals through the
// locals they use. It over-approximates: an attribute with a path name is
// counted wherever it appears.
func (idx *templateIndex) analyze(t *Template) {
	idx.readers = map[hcl.Expression]bool{}
	idx.needed = map[string]bool{}
	var roots []string
	vars := map[string]bool{}
	use := func(expr hcl.Expression) {
		for _, tr := range expr.Variables() {
			if len(tr) < 2 {
				continue
			}
			a, ok := tr[1].(hcl.TraverseAttr)
			if !ok {
				continue
			}
			switch tr.RootName() {
			case "local":
				roots = append(roots, a.Name)
			case "var":
				vars[a.Name] = true
			}
		}
	}
	var walk func(b *hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for name, a := range b.Attributes {
			reads := callsFileFunction(a.Expr)
			if reads {
				idx.readers[a.Expr] = true
			}
			if reads || structuralAttrs[name] || isPathAttr(name) {
				use(a.Expr)
			}
		}
		for _, inner := range b.Blocks {
			walk(inner.Body)
		}
	}
	for _, f := range t.parsed {
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			// JSON: no static view; every local may be needed.
			idx.json = true
			for _, l := range idx.locals {
				idx.needed[l.name] = true
			}
			continue
		}
		for _, block := range body.Blocks {
			switch block.Type {
			case "locals", "local", "variable", "variables", "packer":
				continue
			}
			walk(block.Body)
		}
	}
	for _, l := range idx.locals {
		if callsFileFunction(l.expr) {
			idx.readers[l.expr] = true
			roots = append(roots, l.name)
		}
	}
	for len(roots) > 0 {
		name := roots[len(roots)-1]
		roots = roots[:len(roots)-1]
		if idx.needed[name] {
			continue
		}
		idx.needed[name] = true
		if i, ok := idx.localByName[name]; ok {
			use(idx.locals[i].expr)
		}
	}
	for v := range vars {
		idx.vars = append(idx.vars, v)
	}
	sort.Strings(idx.vars)
}

// isPathAttr reports whether an attribute of that name names files in some
// block of a template.
func isPathAttr(name string) bool {
	if _, ok := sourcePathAttrs[name]; ok {
		return true
	}
	_, ok := fileProvisionerPathAttrs[name]
	return ok
}
