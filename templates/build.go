package templates

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Build is a `build { ... }` block: the sources it starts. Provisioners,
// post-processors and the rest of its body are not read.
type Build struct {
	// Name is the build's `name` attribute when it is a literal string,
	// otherwise empty.
	Name string
	// Sources are the uses of sources, from the `sources` list first, then
	// from nested `source` blocks, each in source order.
	Sources []SourceRef
	// Dynamic is true when the block's sources are not all written out:
	// its `sources` comes from variables or locals, or it has a dynamic
	// source block. Which sources it starts is known only per build, by
	// Evaluate.
	Dynamic bool
	// Provisioners are the types of its provisioner blocks, in order,
	// those of dynamic provisioner blocks with literal labels included.
	Provisioners []string
	// DeclRange covers the block header.
	DeclRange hcl.Range
}

// SourceRef is one use of a source block by a build, either an element of
// `sources = ["source.<type>.<name>"]` or a nested
// `source "source.<type>.<name>" { name = "..." }` block.
type SourceRef struct {
	// Type and Name identify the source block used.
	Type string
	Name string
	// LocalName is the nested block's `name`, which renames the build.
	LocalName string
	// Build is the name of the build block using the source, if it has one.
	Build string
	// Range covers the reference: the list element or the nested block label.
	Range hcl.Range
}

// Address returns "<type>.<name>" of the source block used.
func (r SourceRef) Address() string {
	return r.Type + "." + r.Name
}

// PackerName returns the name packer gives this build and that -only must
// match: "[<build>.]<type>.<local name or name>".
func (r SourceRef) PackerName() string {
	name := r.Name
	if r.LocalName != "" {
		name = r.LocalName
	}
	if r.Build != "" {
		return r.Build + "." + r.Type + "." + name
	}
	return r.Type + "." + name
}

var buildSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "sources"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "source", LabelNames: []string{"reference"}},
		{Type: "provisioner", LabelNames: []string{"type"}},
		{Type: "dynamic", LabelNames: []string{"type"}},
	},
}

var buildSourceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}},
}

const sourceRefDetail = "A source reference is \"source.<type>.<name>\" (or \"<type>.<name>\"), naming a source block of this template, e.g. \"source.vsphere-iso.linux-ubuntu\"."

func (d *decoder) decodeBuild(block *hcl.Block) hcl.Diagnostics {
	content, _, diags := block.Body.PartialContent(buildSchema)
	b := Build{DeclRange: block.DefRange}
	if attr, ok := content.Attributes["name"]; ok {
		// Packer evaluates the name with variables and locals; hybrid keeps
		// it only when it is a literal.
		if v, valDiags := attr.Expr.Value(nil); !valDiags.HasErrors() {
			if s, err := convert.Convert(v, cty.String); err == nil && s.IsKnown() && !s.IsNull() {
				b.Name = s.AsString()
			}
		}
	}
	if attr, ok := content.Attributes["sources"]; ok {
		refs, dynamic, moreDiags := decodeSourcesList(attr)
		diags = append(diags, moreDiags...)
		b.Sources = append(b.Sources, refs...)
		b.Dynamic = b.Dynamic || dynamic
	}
	for _, inner := range content.Blocks {
		switch inner.Type {
		case "source":
			ref, moreDiags := decodeBuildSource(inner)
			diags = append(diags, moreDiags...)
			if !moreDiags.HasErrors() {
				b.Sources = append(b.Sources, ref)
			}
		case "provisioner":
			b.Provisioners = append(b.Provisioners, inner.Labels[0])
		case "dynamic":
			switch inner.Labels[0] {
			case "source":
				b.Dynamic = true
			case "provisioner":
				b.Provisioners = append(b.Provisioners, dynamicLabel(inner)...)
			}
		}
	}
	for i := range b.Sources {
		b.Sources[i].Build = b.Name
	}
	d.t.Builds = append(d.t.Builds, b)
	return diags
}

// dynamicLabel returns the literal first label of a dynamic block's
// `labels`, the type of the blocks it makes.
func dynamicLabel(block *hcl.Block) []string {
	attrs, _ := block.Body.JustAttributes()
	a, ok := attrs["labels"]
	if !ok {
		return nil
	}
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() || len(exprs) == 0 {
		return nil
	}
	v, diags := exprs[0].Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
		return nil
	}
	return []string{v.AsString()}
}

// decodeSourcesList reads `sources = [...]`, keeping each element's range.
// dynamic is true when the list, or an element, is not literal: packer
// computes it from variables and locals, and so does Evaluate, per build.
func decodeSourcesList(attr *hcl.Attribute) (refs []SourceRef, dynamic bool, diags hcl.Diagnostics) {
	exprs, listDiags := hcl.ExprList(attr.Expr)
	if listDiags.HasErrors() {
		val, valDiags := attr.Expr.Value(nil)
		if valDiags.HasErrors() || !val.IsWhollyKnown() {
			return nil, true, nil
		}
		ty := val.Type()
		if val.IsNull() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid build sources",
				Detail: fmt.Sprintf("A build's sources must be a list of source references, not %s, e.g. sources = [\"source.vsphere-iso.linux-ubuntu\"].",
					typeString(ty)),
				Subject: attr.Expr.Range().Ptr(),
			})
			return nil, false, diags
		}
		for it := val.ElementIterator(); it.Next(); {
			_, elem := it.Element()
			ref, moreDiags := sourceRefFromValue(elem, attr.Expr.Range())
			diags = append(diags, moreDiags...)
			if !moreDiags.HasErrors() {
				refs = append(refs, ref)
			}
		}
		return refs, false, diags
	}
	for _, expr := range exprs {
		val, valDiags := expr.Value(nil)
		if valDiags.HasErrors() || !val.IsWhollyKnown() {
			dynamic = true
			continue
		}
		ref, moreDiags := sourceRefFromValue(val, expr.Range())
		diags = append(diags, moreDiags...)
		if !moreDiags.HasErrors() {
			refs = append(refs, ref)
		}
	}
	return refs, dynamic, diags
}

func sourceRefFromValue(val cty.Value, rng hcl.Range) (SourceRef, hcl.Diagnostics) {
	s, err := convert.Convert(val, cty.String)
	if err != nil || s.IsNull() {
		return SourceRef{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid source reference",
			Detail:   fmt.Sprintf("A build's sources must be strings, not %s. %s", typeString(val.Type()), sourceRefDetail),
			Subject:  rng.Ptr(),
		}}
	}
	return sourceRefFromString(s.AsString(), rng)
}

func sourceRefFromString(s string, rng hcl.Range) (SourceRef, hcl.Diagnostics) {
	typ, name, ok := splitSourceAddress(s)
	if !ok {
		return SourceRef{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid source reference",
			Detail:   fmt.Sprintf("%q is not a source reference. %s", s, sourceRefDetail),
			Subject:  rng.Ptr(),
		}}
	}
	return SourceRef{Type: typ, Name: name, Range: rng}, nil
}

// decodeBuildSource reads a nested `source "<reference>" { name = "..." }`
// block; the rest of its body overrides builder settings and is not read.
func decodeBuildSource(block *hcl.Block) (SourceRef, hcl.Diagnostics) {
	ref, diags := sourceRefFromString(block.Labels[0], block.LabelRanges[0])
	if diags.HasErrors() {
		return ref, diags
	}
	content, _, moreDiags := block.Body.PartialContent(buildSourceSchema)
	diags = append(diags, moreDiags...)
	if attr, ok := content.Attributes["name"]; ok {
		// Packer decodes this name without variables, so a non-literal
		// name is an error for packer too.
		diags = append(diags, decodeLiteral(attr.Expr, &ref.LocalName)...)
	}
	return ref, diags
}

// checkBuildReferences reports each build source use that names no source
// block of the template.
func (d *decoder) checkBuildReferences() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range d.t.Builds {
		for _, ref := range b.Sources {
			if _, ok := d.sources[ref.Address()]; ok {
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference to undefined source",
				Detail: fmt.Sprintf("This build uses source.%s, but no source %q %q block is declared in %s. Declared sources: %s.",
					ref.Address(), ref.Type, ref.Name, d.t.Dir, d.declaredSources()),
				Subject: ref.Range.Ptr(),
			})
		}
	}
	return diags
}

func (d *decoder) declaredSources() string {
	if len(d.sources) == 0 {
		return "none"
	}
	names := make([]string, 0, len(d.sources))
	for addr := range d.sources {
		names = append(names, "source."+addr)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
