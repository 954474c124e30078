package templates

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/dynblock"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// sourceUse is one source a build block starts, once evaluated.
type sourceUse struct {
	ref SourceRef
	// override is the body of a nested source block, merged over the
	// source block's body; nil for uses from the sources list.
	override hcl.Body
	build    *evalBuild
}

// evalBuild is a build block with its dynamic blocks expanded.
type evalBuild struct {
	name   string
	blocks []vblock // provisioners, post-processors, nested sources...
}

// vblock is a block after dynamic expansion: its type, labels and body,
// and the context its body is evaluated in (with a dynamic block's
// iterator in scope).
type vblock struct {
	typ    string
	labels []string
	body   hcl.Body
	ctx    *hcl.EvalContext
	rng    hcl.Range
}

var evalBuildSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "description"}, {Name: "sources"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "source", LabelNames: []string{"reference"}},
		{Type: "provisioner", LabelNames: []string{"type"}},
		{Type: "error-cleanup-provisioner", LabelNames: []string{"type"}},
		{Type: "post-processor", LabelNames: []string{"type"}},
		{Type: "post-processors"},
		{Type: "hcp_packer_registry"},
	},
}

// buildUses evaluates every build block's name and sources, as packer does
// with variables and locals in scope, and expands its dynamic blocks.
func (e *evaluator) buildUses(idx *templateIndex, ctx *hcl.EvalContext) []*sourceUse {
	var uses []*sourceUse
	for _, block := range idx.builds {
		attrs, blocks := e.expand(block.Body, ctx, evalBuildSchema)
		b := &evalBuild{blocks: blocks}
		if a, ok := attrs["name"]; ok {
			if v := e.eval(a.Expr, ctx, "build name"); v.IsWhollyKnown() && !v.IsNull() && !v.IsMarked() {
				if s, err := convert.Convert(v, cty.String); err == nil {
					b.name = s.AsString()
				}
			}
		}
		bctx := ctx.NewChild()
		bctx.Variables = map[string]cty.Value{"build": buildObject(b.name)}
		if a, ok := attrs["sources"]; ok {
			v := e.eval(a.Expr, bctx, "build sources")
			if !v.IsWhollyKnown() || v.IsNull() || v.ContainsMarked() {
				e.ev.Unresolved = append(e.ev.Unresolved, Read{What: "build sources", Range: a.Expr.Range()})
			} else if ty := v.Type(); ty.IsListType() || ty.IsSetType() || ty.IsTupleType() {
				for it := v.ElementIterator(); it.Next(); {
					_, el := it.Element()
					s, err := convert.Convert(el, cty.String)
					if err != nil || s.IsNull() {
						continue
					}
					if typ, name, ok := splitSourceAddress(s.AsString()); ok {
						uses = append(uses, &sourceUse{ref: SourceRef{Type: typ, Name: name, Build: b.name, Range: a.Expr.Range()}, build: b})
					}
				}
			}
		}
		for _, vb := range blocks {
			if vb.typ != "source" || len(vb.labels) == 0 {
				continue
			}
			typ, name, ok := splitSourceAddress(vb.labels[0])
			if !ok {
				continue
			}
			ref := SourceRef{Type: typ, Name: name, Build: b.name, Range: vb.rng}
			var override hcl.Body = vb.body
			if c, rest, _ := vb.body.PartialContent(buildSourceSchema); c != nil {
				if a, ok := c.Attributes["name"]; ok {
					if v := e.eval(a.Expr, vb.ctx, "source name"); v.IsKnown() && v.Type() == cty.String && !v.IsNull() {
						ref.LocalName = v.AsString()
					}
				}
				override = rest
			}
			uses = append(uses, &sourceUse{ref: ref, override: override, build: b})
		}
	}
	return uses
}

// buildObject is packer's build.* while a build is planned: its name is
// known, everything else is known only once the builder runs.
func buildObject(name string) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"name": cty.StringVal(name), "ID": cty.UnknownVal(cty.String), "Host": cty.UnknownVal(cty.String),
		"Port": cty.UnknownVal(cty.String), "User": cty.UnknownVal(cty.String), "Password": cty.UnknownVal(cty.String).Mark(SensitiveMark),
		"ConnType": cty.UnknownVal(cty.String), "PackerRunUUID": cty.UnknownVal(cty.String),
		"PackerHTTPAddr": cty.UnknownVal(cty.String), "PackerHTTPIP": cty.UnknownVal(cty.String),
		"PackerHTTPPort": cty.UnknownVal(cty.String), "SSHPublicKey": cty.UnknownVal(cty.String),
		"SSHPrivateKey": cty.UnknownVal(cty.String).Mark(SensitiveMark), "WinRMPassword": cty.UnknownVal(cty.String).Mark(SensitiveMark),
		"SourceAMI": cty.UnknownVal(cty.String), "SourceAMIName": cty.UnknownVal(cty.String),
	})
}

// readBuild evaluates everything the selected build evaluates: its source
// block merged with the build's overrides, and the provisioners and
// post-processors that run for it.
func (e *evaluator) readBuild(idx *templateIndex, ctx *hcl.EvalContext, u *sourceUse) {
	bctx := ctx.NewChild()
	localName := u.ref.Name
	if u.ref.LocalName != "" {
		localName = u.ref.LocalName
	}
	bctx.Variables = map[string]cty.Value{
		"source": cty.ObjectVal(map[string]cty.Value{"type": cty.StringVal(u.ref.Type), "name": cty.StringVal(localName)}),
		"build":  buildObject(u.build.name),
	}
	owner := fmt.Sprintf("source.%s.%s", u.ref.Type, u.ref.Name)
	overridden := map[string]bool{}
	if u.override != nil {
		if sb, ok := u.override.(*hclsyntax.Body); ok {
			for name := range sb.Attributes {
				overridden[name] = true
			}
		}
		e.walkBody(u.override, bctx, owner, sourcePathAttrs, nil)
	}
	if src := idx.sources[u.ref.Address()]; src != nil {
		e.walkBody(src.Body, bctx, owner, sourcePathAttrs, overridden)
	}
	name := u.ref.Type + "." + localName
	for _, vb := range u.build.blocks {
		switch vb.typ {
		case "provisioner", "error-cleanup-provisioner", "post-processor":
			e.readPlugin(vb, bctx, name)
		case "post-processors":
			_, inner := e.expand(vb.body, vb.ctx, postProcessorsSchema)
			for _, pp := range inner {
				e.readPlugin(pp, bctx, name)
			}
		}
	}
}

var postProcessorsSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "post-processor", LabelNames: []string{"type"}}},
}

var onlyExceptSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "only"}, {Name: "except"}},
}

// readPlugin evaluates a provisioner or post-processor block, unless its
// only/except leave the build out.
func (e *evaluator) readPlugin(vb vblock, bctx *hcl.EvalContext, sourceName string) {
	if len(vb.labels) == 0 {
		return
	}
	// The block's own context (with a dynamic block's iterator) plus the
	// build's source.* and build.*.
	ctx := vb.ctx.NewChild()
	ctx.Variables = bctx.Variables
	owner := fmt.Sprintf("%s %q", vb.typ, vb.labels[0])
	c, _, _ := vb.body.PartialContent(onlyExceptSchema)
	if c != nil {
		if skip := e.skips(c, ctx, owner, sourceName); skip {
			return
		}
	}
	attrs := provisionerPathAttrs
	if vb.labels[0] == "file" {
		attrs = fileProvisionerPathAttrs
		if sb, ok := vb.body.(*hclsyntax.Body); ok {
			if d, ok := sb.Attributes["direction"]; ok {
				if v, diags := d.Expr.Value(ctx); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() && v.AsString() == "download" {
					attrs = provisionerPathAttrs // the source is on the machine being built
				}
			}
		}
	}
	e.walkBody(vb.body, ctx, owner, attrs, map[string]bool{"only": true, "except": true})
}

// skips reports whether a block's only/except leave out the source name
// ("<type>.<name>").
func (e *evaluator) skips(c *hcl.BodyContent, ctx *hcl.EvalContext, owner, sourceName string) bool {
	match := func(attr string) (bool, bool) {
		a, ok := c.Attributes[attr]
		if !ok {
			return false, false
		}
		v := e.eval(a.Expr, ctx, owner+" "+attr)
		if !v.IsWhollyKnown() || v.IsNull() {
			return false, false
		}
		lv, err := convert.Convert(v, cty.List(cty.String))
		if err != nil {
			return false, false
		}
		for _, el := range lv.AsValueSlice() {
			if !el.IsNull() && strings.TrimPrefix(el.AsString(), "source.") == sourceName {
				return true, true
			}
		}
		return false, true
	}
	if hit, set := match("only"); set && !hit {
		return true
	}
	hit, _ := match("except")
	return hit
}

// pathKind says how a path attribute's values are read.
type pathKind int

const (
	pathPlain pathKind = iota
	pathGlob           // may hold glob patterns (cd_files, floppy_files)
	pathURL            // a URL, local only without a scheme or with file://
)

// sourcePathAttrs are the builder attributes that name workspace files.
var sourcePathAttrs = map[string]pathKind{
	"http_directory": pathPlain,
	"cd_files":       pathGlob,
	"floppy_files":   pathGlob,
	"floppy_dirs":    pathPlain,
	"iso_url":        pathURL,
	"iso_urls":       pathURL,
}

// provisionerPathAttrs are the provisioner and post-processor attributes
// that name workspace files: scripts, and the Ansible and Puppet inputs.
var provisionerPathAttrs = map[string]pathKind{
	"script":            pathPlain,
	"scripts":           pathPlain,
	"playbook_file":     pathPlain,
	"playbook_dir":      pathPlain,
	"playbook_paths":    pathPlain,
	"galaxy_file":       pathPlain,
	"role_paths":        pathPlain,
	"group_vars":        pathPlain,
	"host_vars":         pathPlain,
	"manifest_file":     pathPlain,
	"manifest_dir":      pathPlain,
	"module_paths":      pathPlain,
	"hiera_config_path": pathPlain,
}

// fileProvisionerPathAttrs adds the file provisioner's source(s).
var fileProvisionerPathAttrs = func() map[string]pathKind {
	m := map[string]pathKind{"source": pathPlain, "sources": pathPlain}
	for k, v := range provisionerPathAttrs {
		m[k] = v
	}
	return m
}()

// ansibleSiblings are what ansible reads beside a playbook besides the
// playbook itself.
var ansibleSiblings = []string{"roles", "group_vars", "host_vars", "collections", "library", "filter_plugins", "module_utils", "ansible.cfg"}

// walkBody evaluates every attribute of a body and of its nested blocks,
// recording what they read; top-level attributes named in pathAttrs name
// files. Attributes in skip are left out.
func (e *evaluator) walkBody(body hcl.Body, ctx *hcl.EvalContext, owner string, pathAttrs map[string]pathKind, skip map[string]bool) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		// JSON syntax: every property is an attribute, nested blocks are
		// objects; file reads inside them are still seen.
		attrs, _ := body.JustAttributes()
		for _, a := range sortedAttributes(attrs) {
			if !skip[a.Name] {
				e.attr(a.Name, a.Expr, ctx, owner, pathAttrs)
			}
		}
		return
	}
	names := make([]string, 0, len(sb.Attributes))
	for name := range sb.Attributes {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		return sb.Attributes[names[i]].SrcRange.Start.Byte < sb.Attributes[names[j]].SrcRange.Start.Byte
	})
	for _, name := range names {
		if !skip[name] {
			e.attr(name, sb.Attributes[name].Expr, ctx, owner, pathAttrs)
		}
	}
	_, blocks := e.expand(sb, ctx, nil)
	for _, vb := range blocks {
		e.walkBody(vb.body, vb.ctx, owner+" "+vb.typ, nil, nil)
	}
}

// attr evaluates one attribute, recording the paths it names.
func (e *evaluator) attr(name string, expr hcl.Expression, ctx *hcl.EvalContext, owner string, pathAttrs map[string]pathKind) {
	what := owner + " " + name
	kind, isPath := pathAttrs[name]
	if !isPath {
		// Only a file function can make it read something.
		if e.idx.readers[expr] || e.idx.json {
			e.eval(expr, ctx, what)
		}
		return
	}
	v := e.eval(expr, ctx, what)
	before := len(e.inputs)
	e.pathValues(v, what, kind)
	if name == "playbook_file" && len(e.inputs) > before {
		e.ansibleSiblings(v)
	}
}

// ansibleSiblings records the directories ansible reads beside a playbook
// that exist: its roles, group and host variables, collections and plugins.
func (e *evaluator) ansibleSiblings(v cty.Value) {
	if v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
		return
	}
	rel, ok := e.resolve(v.AsString())
	if !ok {
		return
	}
	dir := path.Dir(rel)
	for _, s := range ansibleSiblings {
		p := path.Join(dir, s)
		e.observe("file", p)
		if _, err := e.s.Files.Stat(p); err == nil {
			e.addInput(p, InputPath, "ansible playbook "+path.Base(rel)+" reads "+s)
		}
	}
}

// expand lists a body's attributes and its blocks with dynamic blocks
// expanded. For native syntax the expansion is hybrid's own, so each
// block keeps its syntax body; JSON bodies go through hcl's dynblock with
// schema (nil: no blocks).
func (e *evaluator) expand(body hcl.Body, ctx *hcl.EvalContext, schema *hcl.BodySchema) (hcl.Attributes, []vblock) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		if schema == nil {
			return nil, nil
		}
		c, _, _ := dynblock.Expand(body, ctx).PartialContent(schema)
		if c == nil {
			return nil, nil
		}
		var out []vblock
		for _, b := range c.Blocks {
			out = append(out, vblock{typ: b.Type, labels: b.Labels, body: b.Body, ctx: ctx, rng: b.DefRange})
		}
		return c.Attributes, out
	}
	attrs := make(hcl.Attributes, len(sb.Attributes))
	for name, a := range sb.Attributes {
		attrs[name] = a.AsHCLAttribute()
	}
	var out []vblock
	for _, b := range sb.Blocks {
		if b.Type != "dynamic" {
			out = append(out, vblock{typ: b.Type, labels: b.Labels, body: b.Body, ctx: ctx, rng: b.DefRange()})
			continue
		}
		out = append(out, e.dynamic(b, ctx)...)
	}
	return attrs, out
}

// dynamic expands one dynamic block as packer's dynblock would: one block
// per element of for_each, with the iterator (the label, or `iterator`)
// holding key and value. A for_each not known before the build gives no
// blocks and widens the input to the template directory.
func (e *evaluator) dynamic(b *hclsyntax.Block, ctx *hcl.EvalContext) []vblock {
	if len(b.Labels) != 1 {
		return nil
	}
	label := b.Labels[0]
	what := fmt.Sprintf("dynamic %q", label)
	iterator := label
	if a, ok := b.Body.Attributes["iterator"]; ok {
		if tr, diags := hcl.AbsTraversalForExpr(a.Expr); !diags.HasErrors() && len(tr) == 1 {
			iterator = tr.RootName()
		}
	}
	var content *hclsyntax.Block
	for _, inner := range b.Body.Blocks {
		if inner.Type == "content" {
			content = inner
		}
	}
	fe, ok := b.Body.Attributes["for_each"]
	if !ok || content == nil {
		return nil
	}
	v := e.eval(fe.Expr, ctx, what+" for_each")
	if !v.IsWhollyKnown() || v.IsNull() {
		e.widen(what + " for_each is not known before the build")
		return nil
	}
	v, _ = v.Unmark()
	ty := v.Type()
	if !(ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType()) {
		return nil
	}
	var out []vblock
	for it := v.ElementIterator(); it.Next(); {
		k, el := it.Element()
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{iterator: cty.ObjectVal(map[string]cty.Value{"key": k, "value": el})}
		labels := []string{}
		if la, ok := b.Body.Attributes["labels"]; ok {
			lv := e.eval(la.Expr, child, what+" labels")
			if lv.IsWhollyKnown() && !lv.IsNull() {
				if l, err := convert.Convert(lv, cty.List(cty.String)); err == nil {
					for _, s := range l.AsValueSlice() {
						if !s.IsNull() {
							labels = append(labels, s.AsString())
						}
					}
				}
			}
		}
		out = append(out, vblock{typ: label, labels: labels, body: content.Body, ctx: child, rng: b.DefRange()})
	}
	return out
}
