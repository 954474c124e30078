package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/hybridcore/hybrid/internal/hclguard"
	"github.com/hybridcore/hybrid/internal/suggest"
)

// valueLimits caps the values an attribute may have, whatever built them.
var valueLimits = hclguard.DefaultLimits

// SensitiveMark marks a cty value that came from a sensitive variable. Marks
// travel through every expression, so a value derived from a secret stays
// secret wherever it ends up.
const SensitiveMark = "sensitive"

// namePattern is the shape of every name hybrid turns into an address, a
// directory or a file name: image, environment, source, var_group, plugin.
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// checkName reports a name that cannot be used as part of an address or path.
func checkName(kind, name string, rng hcl.Range) hcl.Diagnostics {
	if namePattern.MatchString(name) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s name", kind),
		Detail: fmt.Sprintf("%q cannot be used as a %s name: a name starts with a lowercase letter and holds only lowercase letters, digits, \"-\" and \"_\" (at most 63 characters), because it becomes part of addresses and file names.",
			name, kind),
		Subject: rng.Ptr(),
	}}
}

// isNull reports whether expr is absent (gohcl's synthetic null) or a literal
// null, without evaluating it.
func isNull(expr hcl.Expression) bool {
	if expr == nil {
		return true
	}
	v, diags := expr.Value(nil)
	return !diags.HasErrors() && v.IsNull()
}

// evalExpr evaluates expr in ctx once every reference in it names
// something that exists (undeclaredReferences); otherwise it returns an
// unknown value and says what is missing, with the name that was likely
// meant.
func evalExpr(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if diags := undeclaredReferences(expr, ctx); diags.HasErrors() {
		return cty.DynamicVal, diags
	}
	return expr.Value(ctx)
}

// evalString evaluates an optional string attribute. A missing attribute
// gives def.
func evalString(expr hcl.Expression, ctx *hcl.EvalContext, what, def string) (string, hcl.Diagnostics) {
	s, _, diags := evalKnownString(expr, ctx, what, def)
	return s, diags
}

// evalKnownString is evalString that also reports whether the value is
// known. It is not when the expression uses a variable or local that
// failed, which was reported there: the value is then def, and no check
// of it means anything.
func evalKnownString(expr hcl.Expression, ctx *hcl.EvalContext, what, def string) (string, bool, hcl.Diagnostics) {
	if isNull(expr) {
		return def, true, nil
	}
	v, diags := evalExpr(expr, ctx)
	if diags.HasErrors() {
		return def, false, diags
	}
	if !v.IsWhollyKnown() {
		return def, false, diags
	}
	s, diags := stringValue(v, expr, what, def, diags)
	return s, true, diags
}

// stringValue converts an attribute's known value to a string.
func stringValue(v cty.Value, expr hcl.Expression, what, def string, diags hcl.Diagnostics) (string, hcl.Diagnostics) {
	if v.IsMarked() {
		return def, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Sensitive value not allowed here",
			Detail:   fmt.Sprintf("The %s is written to plans, state or logs, so it cannot be derived from a sensitive variable.", what),
			Subject:  expr.Range().Ptr(),
		})
	}
	if v.IsNull() {
		return def, diags
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil {
		return def, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("The %s must be a string, not %s.", what, friendlyType(v)),
			Subject:  expr.Range().Ptr(),
		})
	}
	if err := valueLimits.Check(sv); err != nil {
		return def, append(diags, valueLimits.TooLarge(err, expr.Range()))
	}
	return sv.AsString(), diags
}

// friendlyType names a value's type for messages: "a string", "a tuple".
func friendlyType(v cty.Value) string {
	if v.IsMarked() {
		return "a sensitive value"
	}
	name := v.Type().FriendlyName()
	switch name[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + name
	}
	return "a " + name
}

// evalDuration evaluates an optional duration attribute, a Go duration
// string such as "90m" or "2h30m": 0 when it is absent.
func evalDuration(expr hcl.Expression, ctx *hcl.EvalContext, what string) (time.Duration, hcl.Diagnostics) {
	s, diags := evalString(expr, ctx, what, "")
	if diags.HasErrors() || s == "" && isNull(expr) {
		return 0, diags
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		reason := "it is negative"
		if err != nil {
			reason = "it is not a duration"
		}
		return 0, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid " + what,
			Detail:   fmt.Sprintf("%s is %q, but %s: write a number and a unit, such as \"90m\" or \"2h30m\" (units ns, us, ms, s, m, h), or \"0\" for no limit.", what, s, reason),
			Subject:  expr.Range().Ptr(),
		})
	}
	return d, diags
}

// evalStringList evaluates an optional list of strings, returning each
// element with the range of its own expression where the syntax allows.
func evalStringList(expr hcl.Expression, ctx *hcl.EvalContext, what string) ([]string, []hcl.Range, hcl.Diagnostics) {
	if isNull(expr) {
		return nil, nil, nil
	}
	var diags hcl.Diagnostics
	if tuple, ok := expr.(*hclsyntax.TupleConsExpr); ok {
		out := make([]string, 0, len(tuple.Exprs))
		rngs := make([]hcl.Range, 0, len(tuple.Exprs))
		for _, e := range tuple.Exprs {
			s, known, d := evalKnownString(e, ctx, what, "")
			diags = append(diags, d...)
			if known && !d.HasErrors() {
				out = append(out, s)
				rngs = append(rngs, e.Range())
			}
		}
		return out, rngs, diags
	}
	v, d := evalExpr(expr, ctx)
	diags = append(diags, d...)
	if d.HasErrors() || !v.IsWhollyKnown() {
		return nil, nil, diags
	}
	lv, err := convert.Convert(v, cty.List(cty.String))
	if err == nil && lv.IsWhollyKnown() {
		if err := valueLimits.Check(lv); err != nil {
			return nil, nil, append(diags, valueLimits.TooLarge(err, expr.Range()))
		}
	}
	if err != nil || lv.ContainsMarked() {
		detail := fmt.Sprintf("The %s must be a list of strings, not %s.", what, friendlyType(v))
		if !v.IsMarked() && v.Type() == cty.String && !v.IsNull() {
			detail += fmt.Sprintf(" Did you mean [%q]?", v.AsString())
		}
		return nil, nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   detail,
			Subject:  expr.Range().Ptr(),
		})
	}
	var out []string
	var rngs []hcl.Range
	if !lv.IsNull() {
		for _, e := range lv.AsValueSlice() {
			if e.IsNull() {
				continue
			}
			out = append(out, e.AsString())
			rngs = append(rngs, expr.Range())
		}
	}
	return out, rngs, diags
}

// Ref is a reference to a named object in hybrid.hcl, written either as a
// traversal (image.base) or as a string ("base").
type Ref struct {
	Name  string
	Range hcl.Range
}

// evalRefs decodes the list attribute attr whose elements name objects of
// one kind: either traversals rooted at kind (environment.dev) or plain
// strings.
func evalRefs(expr hcl.Expression, ctx *hcl.EvalContext, attr, kind string) ([]Ref, hcl.Diagnostics) {
	if isNull(expr) {
		return nil, nil
	}
	if trav, d := hcl.AbsTraversalForExpr(expr); !d.HasErrors() && trav.RootName() == kind {
		// var_groups = var_group.build: one reference without the list.
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("%s takes a list of %s references, in brackets even when there is one. Did you mean [%s]?", attr, kind, traversalText(trav, len(trav))),
			Subject:  expr.Range().Ptr(),
		}}
	}
	exprs, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		names, rngs, d := evalStringList(expr, ctx, attr+" list")
		refs := make([]Ref, len(names))
		for i := range names {
			refs[i] = Ref{names[i], rngs[i]}
		}
		return refs, d
	}
	var refs []Ref
	for _, e := range exprs {
		r, d := evalRef(e, ctx, kind)
		diags = append(diags, d...)
		if r != nil {
			refs = append(refs, *r)
		}
	}
	return refs, diags
}

// evalRef decodes one reference, as a traversal kind.NAME or a string.
func evalRef(expr hcl.Expression, ctx *hcl.EvalContext, kind string) (*Ref, hcl.Diagnostics) {
	if isNull(expr) {
		return nil, nil
	}
	if trav, d := hcl.AbsTraversalForExpr(expr); !d.HasErrors() {
		if trav.RootName() == kind {
			if len(trav) != 2 {
				return nil, hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Invalid reference",
					Detail:   fmt.Sprintf("A reference to a %s is written %s.NAME.", kind, kind),
					Subject:  expr.Range().Ptr(),
				}}
			}
			if attr, ok := trav[1].(hcl.TraverseAttr); ok {
				return &Ref{attr.Name, expr.Range()}, nil
			}
		}
		if d := wrongKindReference(trav, ctx, kind); d != nil {
			return nil, hcl.Diagnostics{d}
		}
	}
	s, diags := evalString(expr, ctx, kind+" name", "")
	if diags.HasErrors() {
		return nil, diags
	}
	return &Ref{s, expr.Range()}, nil
}

// wrongKindReference reports a traversal in a list of kind references that
// is neither such a reference nor a value an expression may use: a
// reference to another kind of block (image.base among var_groups), or a
// misspelled kind (var_grup.build).
func wrongKindReference(trav hcl.Traversal, ctx *hcl.EvalContext, kind string) *hcl.Diagnostic {
	root := trav.RootName()
	if _, ok := lookupRoot(ctx, root); ok {
		return nil // var.x, local.x: a string value
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid reference",
		Subject:  trav.SourceRange().Ptr(),
	}
	name := ""
	if len(trav) == 2 {
		if a, ok := trav[1].(hcl.TraverseAttr); ok {
			name = a.Name
		}
	}
	switch {
	case blockKinds[root] != "":
		d.Detail = fmt.Sprintf("%s names %s, but this list takes %s references, written %s.NAME.", traversalText(trav, len(trav)), blockKinds[root], kind, kind)
	case name != "" && suggest.Closest(root, []string{kind}) != "":
		d.Detail = fmt.Sprintf("A reference to a %s is written %s.NAME. Did you mean %s.%s?", kind, kind, kind, name)
	default:
		return nil
	}
	return d
}

// evalObject evaluates a values = { name = value } attribute into its
// members, keeping each member's source range when the expression is an
// object constructor.
func evalObject(expr hcl.Expression, ctx *hcl.EvalContext, what string) (map[string]cty.Value, map[string]hcl.Range, hcl.Diagnostics) {
	if isNull(expr) {
		return nil, nil, nil
	}
	v, diags := evalExpr(expr, ctx)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	if v.IsNull() || !v.IsKnown() {
		// Unknown only when a variable or local it uses failed, which was
		// reported there.
		return nil, nil, diags
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return nil, nil, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("The %s must be an object such as { vm_mem_size = 4096 }, not %s.", what, friendlyType(v)),
			Subject:  expr.Range().Ptr(),
		})
	}
	// A whole object derived from a sensitive variable makes every member
	// sensitive; members keep their own marks too. But the members' names
	// become packer variable names, written to var files, plans and state:
	// they may come from a sensitive variable as it is (values =
	// var.credentials), never from an expression over one, such as
	// { (var.secret) = 1 } or var.secret == "x" ? { a = 1 } : { b = 1 }.
	if v.IsMarked() {
		if tr, d := hcl.AbsTraversalForExpr(expr); d.HasErrors() || tr.RootName() != "var" {
			return nil, nil, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Sensitive value not allowed here",
				Detail:   fmt.Sprintf("The names in %s become packer variable names, which are written to var files, plans and state, so they cannot be computed from a sensitive value. The values may be sensitive: write the names out, as in { vm_password = var.secret }, or use a sensitive object variable as it is.", what),
				Subject:  expr.Range().Ptr(),
			})
		}
	}
	v, marks := v.Unmark()
	rngs := map[string]hcl.Range{}
	if oc, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range oc.Items {
			kv, d := item.KeyExpr.Value(ctx)
			if !d.HasErrors() && kv.Type() == cty.String && kv.IsKnown() && !kv.IsNull() {
				rngs[kv.AsString()] = hcl.RangeBetween(item.KeyExpr.Range(), item.ValueExpr.Range())
			}
		}
	}
	out := map[string]cty.Value{}
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		name := k.AsString()
		if !hclsyntax.ValidIdentifier(name) {
			r := expr.Range()
			if kr, ok := rngs[name]; ok {
				r = kr
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid variable name",
				Detail:   fmt.Sprintf("%q is not a valid packer variable name.", name),
				Subject:  r.Ptr(),
			})
			continue
		}
		if _, ok := rngs[name]; !ok {
			rngs[name] = expr.Range()
		}
		if err := valueLimits.Check(val); err != nil {
			diags = append(diags, valueLimits.TooLarge(err, rngs[name]))
			continue
		}
		out[name] = val.WithMarks(marks)
	}
	return out, rngs, diags
}

// cleanRelPath checks that p, a path written in hybrid.hcl, is relative to
// the workspace and stays inside it, and returns it cleaned with forward
// slashes.
func cleanRelPath(p string, rng hcl.Range, what string) (string, hcl.Diagnostics) {
	if p == "" {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Empty path",
			Detail:   fmt.Sprintf("The %s must not be empty.", what),
			Subject:  rng.Ptr(),
		}}
	}
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Absolute path not allowed",
			Detail:   fmt.Sprintf("The %s %q must be relative to the workspace (the directory holding hybrid.hcl), so the workspace works the same on every machine.", what, p),
			Subject:  rng.Ptr(),
		}}
	}
	c := filepath.ToSlash(filepath.Clean(p))
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Path escapes the workspace",
			Detail:   fmt.Sprintf("The %s %q leads outside the workspace; hybrid only reads files inside the directory holding hybrid.hcl.", what, p),
			Subject:  rng.Ptr(),
		}}
	}
	return c, nil
}

// required reports an attribute a block must have.
func required(expr hcl.Expression, name string, block hcl.Range) hcl.Diagnostics {
	if !isNull(expr) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Missing required argument",
		Detail:   fmt.Sprintf("The argument %q is required, but no definition was found.", name),
		Subject:  block.Ptr(),
	}}
}
