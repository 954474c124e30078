package templates

import (
	"fmt"
	"sort"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Plugin is one entry of `packer { required_plugins { ... } }`:
//
//	vsphere = { source = "github.com/hashicorp/vsphere", version = ">= 1.2.0" }
type Plugin struct {
	// Name is the attribute name, the plugin's local name.
	Name string
	// Source is the plugin address, e.g. "github.com/hashicorp/vsphere".
	Source string
	// Version is the version constraint as written; it parses as a
	// hashicorp/go-version constraint.
	Version string
	// Range covers the whole `name = { ... }` attribute.
	Range hcl.Range
}

var packerBlockSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "required_version"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "required_plugins"}},
}

func (d *decoder) decodePackerBlock(block *hcl.Block) hcl.Diagnostics {
	content, _, diags := block.Body.PartialContent(packerBlockSchema)
	if attr, ok := content.Attributes["required_version"]; ok {
		s, moreDiags := literalString(attr.Expr, "required_version")
		diags = append(diags, moreDiags...)
		if !moreDiags.HasErrors() {
			moreDiags = checkConstraint(s, attr.Expr.Range(), "required_version")
			diags = append(diags, moreDiags...)
			if !moreDiags.HasErrors() {
				d.t.RequiredVersion = append(d.t.RequiredVersion, Constraint{Value: s, Range: attr.Expr.Range()})
			}
		}
	}
	for _, inner := range content.Blocks {
		diags = append(diags, d.decodeRequiredPlugins(inner)...)
	}
	return diags
}

func (d *decoder) decodeRequiredPlugins(block *hcl.Block) hcl.Diagnostics {
	attrs, diags := block.Body.JustAttributes()
	for _, attr := range sortedAttributes(attrs) {
		p, moreDiags := decodePlugin(attr)
		diags = append(diags, moreDiags...)
		if moreDiags.HasErrors() {
			continue
		}
		if prev, dup := d.t.RequiredPlugins[p.Name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate required plugin",
				Detail: fmt.Sprintf("Plugin %q is already required at %s. Keep one requirement per plugin.",
					p.Name, position(prev.Range)),
				Subject: attr.NameRange.Ptr(),
			})
			continue
		}
		d.t.RequiredPlugins[p.Name] = p
	}
	return diags
}

func decodePlugin(attr *hcl.Attribute) (Plugin, hcl.Diagnostics) {
	p := Plugin{Name: attr.Name, Range: attr.Range}
	example := fmt.Sprintf("Write it as:\n  %s = {\n    source  = \"github.com/hashicorp/%s\"\n    version = \">= 1.0.0\"\n  }",
		attr.Name, attr.Name)
	val, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return p, diags
	}
	ty := val.Type()
	if !(ty.IsObjectType() || ty.IsMapType()) || val.IsNull() || !val.IsWhollyKnown() {
		return p, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid plugin requirement",
			Detail:   fmt.Sprintf("Plugin %q must be an object with source and version. %s", attr.Name, example),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	fields := val.AsValueMap()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "source" && k != "version" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin requirement",
				Detail:   fmt.Sprintf("Plugin %q has attribute %q; only source and version are allowed. %s", attr.Name, k, example),
				Subject:  attr.Expr.Range().Ptr(),
			})
		}
	}
	for _, field := range []struct {
		key string
		dst *string
	}{{"source", &p.Source}, {"version", &p.Version}} {
		v, ok := fields[field.key]
		if !ok || v.IsNull() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing plugin " + field.key,
				Detail:   fmt.Sprintf("Plugin %q needs a %s. %s", attr.Name, field.key, example),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		if !v.Type().Equals(cty.String) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin " + field.key,
				Detail:   fmt.Sprintf("The %s of plugin %q must be a string, not %s. %s", field.key, attr.Name, typeString(v.Type()), example),
				Subject:  attr.Expr.Range().Ptr(),
			})
			continue
		}
		*field.dst = v.AsString()
	}
	if p.Source == "" && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing plugin source",
			Detail:   fmt.Sprintf("Plugin %q has an empty source. %s", attr.Name, example),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
	if p.Version != "" || !diags.HasErrors() {
		diags = append(diags, checkConstraint(p.Version, attr.Expr.Range(), "version of plugin "+attr.Name)...)
	}
	return p, diags
}

// literalString evaluates expr without any context and requires a known,
// non-null string.
func literalString(expr hcl.Expression, what string) (string, hcl.Diagnostics) {
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return "", diags
	}
	if val.IsNull() || !val.IsKnown() || !val.Type().Equals(cty.String) {
		return "", append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + what,
			Detail:   fmt.Sprintf("The %s must be a literal string, not %s.", what, typeString(val.Type())),
			Subject:  expr.Range().Ptr(),
		})
	}
	return val.AsString(), diags
}

// checkConstraint reports s as an error at rng unless it parses as a
// go-version constraint, the syntax packer uses.
func checkConstraint(s string, rng hcl.Range, what string) hcl.Diagnostics {
	if _, err := version.NewConstraint(s); err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid version constraint",
			Detail: fmt.Sprintf("The %s %q is not a version constraint (%s). Write it like \">= 1.10.0\" or \"~> 1.2\".",
				what, s, err),
			Subject: rng.Ptr(),
		}}
	}
	return nil
}
