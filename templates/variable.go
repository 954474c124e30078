package templates

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Variable is a declared input variable of a template.
type Variable struct {
	Name string
	// Type is the declared type, cty.DynamicPseudoType when the declaration
	// has none. See Constraint for the type packer actually enforces.
	Type cty.Type
	// HasDefault is true when the declaration gives a default (even null):
	// packer then never asks for a value.
	HasDefault bool
	// Default is the default converted to Type; unknown when the default is
	// not a literal (it uses functions, variables or locals), and cty.NilVal
	// when there is none.
	Default     cty.Value
	Sensitive   bool
	Description string
	// DeclRange covers the `variable "name"` header, or the attribute in a
	// `variables` block.
	DeclRange hcl.Range
}

// Constraint returns the type packer converts every value of v to: the
// declared type, or, when there is none, the type of a literal default (packer
// infers it, except from an empty object or tuple). DynamicPseudoType means
// any value is accepted.
func (v Variable) Constraint() cty.Type {
	if v.Type != cty.NilType && v.Type != cty.DynamicPseudoType {
		return v.Type
	}
	if !v.HasDefault || v.Default.Type() == cty.NilType {
		return cty.DynamicPseudoType
	}
	ty := v.Default.Type()
	if ty.Equals(cty.EmptyObject) || ty.Equals(cty.EmptyTuple) {
		return cty.DynamicPseudoType
	}
	return ty
}

// CheckValue reports whether val can be given to v: whether packer can
// convert it to v.Constraint(). The error names the variable, the expected
// and the given type; for a variable that is not sensitive it also says
// where in a structured value the mismatch is. It never shows the value, and
// for a sensitive variable not even its attribute names or keys.
func CheckValue(v Variable, val cty.Value) error {
	want := v.Constraint()
	if want == cty.DynamicPseudoType || val.Type() == cty.NilType {
		return nil
	}
	if _, err := convert.Convert(val, want); err != nil {
		if v.Sensitive {
			// Attribute names and map keys are part of the value, and the
			// conversion message may quote them.
			return fmt.Errorf("variable %q expects %s, got %s", v.Name, typeString(want), val.Type().FriendlyName())
		}
		where := ""
		if pe, ok := err.(cty.PathError); ok && len(pe.Path) > 0 {
			where = " at " + formatPath(pe.Path)
		}
		return fmt.Errorf("variable %q expects %s, got %s%s: %s",
			v.Name, typeString(want), typeString(val.Type()), where, err)
	}
	return nil
}

var variableBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "sensitive"},
		{Name: "description"},
	},
}

const badIdentifierDetail = "A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes."

func (d *decoder) decodeVariableBlock(block *hcl.Block) hcl.Diagnostics {
	name := block.Labels[0]
	v := Variable{Name: name, Type: cty.DynamicPseudoType, DeclRange: block.DefRange}
	var diags hcl.Diagnostics
	if !hclsyntax.ValidIdentifier(name) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable name",
			Detail:   badIdentifierDetail,
			Subject:  block.LabelRanges[0].Ptr(),
		})
	}
	content, _, moreDiags := block.Body.PartialContent(variableBlockSchema)
	diags = append(diags, moreDiags...)

	if attr, ok := content.Attributes["description"]; ok {
		diags = append(diags, decodeLiteral(attr.Expr, &v.Description)...)
	}
	if attr, ok := content.Attributes["sensitive"]; ok {
		diags = append(diags, decodeLiteral(attr.Expr, &v.Sensitive)...)
	}
	typeOK := true
	if attr, ok := content.Attributes["type"]; ok {
		ty, typeDiags := typeexpr.Type(attr.Expr)
		diags = append(diags, typeDiags...)
		if typeDiags.HasErrors() {
			typeOK = false
		} else {
			v.Type = ty
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		v.HasDefault = true
		val, valDiags := attr.Expr.Value(nil)
		if valDiags.HasErrors() {
			// Not a literal: packer evaluates it in its own context.
			v.Default = cty.UnknownVal(v.Type)
		} else if typeOK {
			conv, err := convert.Convert(val, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail: fmt.Sprintf("The default of %q does not fit its type %s: %s. Change the default or the type.",
						name, typeString(v.Type), err),
					Subject: attr.Expr.Range().Ptr(),
				})
				conv = cty.UnknownVal(v.Type)
			}
			v.Default = conv
		} else {
			v.Default = val
		}
	}
	diags = append(diags, d.addVariable(v, block.LabelRanges[0])...)
	return diags
}

// decodeVariablesBlock reads `variables { name = default }`: each attribute
// declares a variable with that default and no declared type.
func (d *decoder) decodeVariablesBlock(block *hcl.Block) hcl.Diagnostics {
	attrs, diags := block.Body.JustAttributes()
	for _, attr := range sortedAttributes(attrs) {
		v := Variable{Name: attr.Name, Type: cty.DynamicPseudoType, HasDefault: true, DeclRange: attr.Range}
		val, valDiags := attr.Expr.Value(nil)
		if valDiags.HasErrors() {
			v.Default = cty.DynamicVal
		} else {
			v.Default = val
		}
		diags = append(diags, d.addVariable(v, attr.NameRange)...)
	}
	return diags
}

func (d *decoder) addVariable(v Variable, nameRange hcl.Range) hcl.Diagnostics {
	if prev, dup := d.t.Variables[v.Name]; dup {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Duplicate variable",
			Detail: fmt.Sprintf("Variable %q is already declared at %s. Remove one of the declarations.",
				v.Name, position(prev.DeclRange)),
			Subject: nameRange.Ptr(),
		}}
	}
	d.t.Variables[v.Name] = v
	return nil
}

// decodeLiteral decodes expr, evaluated without any context, into dst. An
// expression that needs a context gets hcl's own diagnostics once, not again
// as an unsuitable value.
func decodeLiteral(expr hcl.Expression, dst any) hcl.Diagnostics {
	if _, diags := expr.Value(nil); diags.HasErrors() {
		return diags
	}
	return gohcl.DecodeExpression(expr, nil, dst)
}

// typeString renders ty in HCL type syntax, falling back to cty's friendly
// name for types that syntax cannot express.
func typeString(ty cty.Type) (s string) {
	defer func() {
		if recover() != nil {
			s = ty.FriendlyName()
		}
	}()
	if ty == cty.NilType {
		return "nothing"
	}
	return typeexpr.TypeString(ty)
}

// formatPath renders a cty path as HCL traversal syntax, e.g. .disks[0].size.
func formatPath(path cty.Path) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			key := s.Key
			switch {
			case !key.IsKnown() || key.IsNull():
				b.WriteString("[?]")
			case key.Type() == cty.String:
				fmt.Fprintf(&b, "[%q]", key.AsString())
			case key.Type() == cty.Number:
				b.WriteString("[" + key.AsBigFloat().Text('f', -1) + "]")
			default:
				b.WriteString("[?]")
			}
		}
	}
	return strings.TrimPrefix(b.String(), ".")
}
