package templates

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/internal/hclguard"
)

// ExampleSuffix ends a var file that holds the values a user starts from
// (vsphere.pkrvars.hcl.example); it is read like the file without it.
const ExampleSuffix = ".example"

// VarFile is a packer var file: variable values, one attribute each.
type VarFile struct {
	Path string
	// Values maps each variable name to its literal value.
	Values map[string]cty.Value
	// Ranges maps each variable name to its `name = value` attribute.
	Ranges map[string]hcl.Range
}

// ParseVarFile reads a var file with p: *.pkrvars.json (and
// *.pkrvars.json.example) as HCL JSON, anything else, such as
// *.pkrvars.hcl and *.pkrvars.hcl.example, as HCL native syntax. A var file
// holds attributes with literal values only: blocks, references and function
// calls are errors at their line, as they are for packer. A nil p gets a
// fresh parser. The returned VarFile holds every value that was read, even
// when there are errors.
func ParseVarFile(p *hclparse.Parser, path string) (VarFile, hcl.Diagnostics) {
	src, err := hclguard.ReadFile(path)
	if err != nil {
		return VarFile{Path: path, Values: map[string]cty.Value{}, Ranges: map[string]hcl.Range{}}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read var file",
			Detail:   fmt.Sprintf("%s: %v.", path, unwrapPathError(err)),
		}}
	}
	return ParseVarFileBytes(p, src, path)
}

// ParseVarFileBytes is ParseVarFile of bytes already read, named path.
//
// A file of plain name = literal lines, the usual shape, is decoded without
// the HCL parser, in time and memory linear in its size (500,000 lines in
// well under a second); any other is checked (hclguard.Check) before the
// parser sees it, so a hostile file is refused instead of exhausting the
// stack or memory.
func ParseVarFileBytes(p *hclparse.Parser, src []byte, path string) (VarFile, hcl.Diagnostics) {
	if p == nil {
		p = hclparse.NewParser()
	}
	if lits, ok := hclguard.ParseLiterals(src, path); ok {
		p.AddFile(path, lits.File)
		return VarFile{Path: path, Values: lits.Values, Ranges: lits.Ranges}, nil
	}
	vf := VarFile{Path: path, Values: map[string]cty.Value{}, Ranges: map[string]hcl.Range{}}
	syntax := hclguard.SyntaxFor(path)
	if diags := hclguard.Check(src, path, syntax); diags.HasErrors() {
		return vf, diags
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if syntax == hclguard.JSON {
		f, diags = p.ParseJSON(src, path)
	} else {
		f, diags = p.ParseHCL(src, path)
	}
	if diags.HasErrors() || f == nil || f.Body == nil {
		return vf, diags
	}

	var attrs hcl.Attributes
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		for _, block := range body.Blocks {
			diags = append(diags, varFileBlockDiag(block, path))
		}
		attrs = make(hcl.Attributes, len(body.Attributes))
		for name, attr := range body.Attributes {
			attrs[name] = attr.AsHCLAttribute()
		}
	} else {
		var moreDiags hcl.Diagnostics
		attrs, moreDiags = f.Body.JustAttributes()
		diags = append(diags, moreDiags...)
	}

	for _, attr := range sortedAttributes(attrs) {
		if refs := attr.Expr.Variables(); len(refs) > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Reference in a var file",
				Detail: fmt.Sprintf("Var files hold literal values, but %s refers to %s. Write the value itself, or compute it in the template's locals.",
					attr.Name, traversalString(refs[0])),
				Subject: refs[0].SourceRange().Ptr(),
			})
			continue
		}
		val, valDiags := attr.Expr.Value(nil)
		diags = append(diags, valDiags...)
		if valDiags.HasErrors() {
			continue
		}
		vf.Values[attr.Name] = val
		vf.Ranges[attr.Name] = attr.Range
	}
	return vf, diags
}

func varFileBlockDiag(block *hclsyntax.Block, path string) *hcl.Diagnostic {
	detail := fmt.Sprintf("A var file holds only attributes (name = value); %s has a %q block. Move declarations to the template's .pkr.hcl files.",
		path, block.Type)
	if block.Type == "variable" && len(block.Labels) > 0 {
		detail = fmt.Sprintf("A var file sets values of variables declared in the template's .pkr.hcl files; it cannot declare them. Move this block to variables.pkr.hcl and set the value here with:\n  %s = <value>",
			block.Labels[0])
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Block in a var file",
		Detail:   detail,
		Subject:  block.TypeRange.Ptr(),
	}
}

// traversalString renders a traversal as it would be written, e.g. var.name.
func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		default:
			b.WriteString("[...]")
		}
	}
	return b.String()
}
