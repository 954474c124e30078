package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// forEachItem is one element of a for_each value: the instance's each.key
// and each.value, and where the key was written.
type forEachItem struct {
	Key   string
	Value cty.Value
	Range hcl.Range
}

// evalForEach evaluates a for_each expression, as terraform reads it: a map
// or object gives one item per key, with its value; a set or list of
// strings gives one item per element, each.value being each.key. The keys
// become image names, so they must be known, not null and not sensitive;
// map values may be sensitive and stay so in each.value.
func evalForEach(expr hcl.Expression, ctx *hcl.EvalContext) ([]forEachItem, hcl.Diagnostics) {
	rng := expr.Range()
	invalid := func(detail string, subject hcl.Range) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid for_each argument",
			Detail:   detail,
			Subject:  subject.Ptr(),
		}}
	}
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		if tr.RootName() == "each" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  `Reference to "each" in for_each`,
				Detail:   "for_each decides what each.key and each.value are, so it cannot use them itself.",
				Subject:  tr.SourceRange().Ptr(),
			})
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	v, diags := evalExpr(expr, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	if err := valueLimits.Check(v); err != nil {
		return nil, append(diags, valueLimits.TooLarge(err, rng))
	}
	const shape = "for_each takes a map or object (its keys become the instance keys) or a set or list of strings, e.g. toset([\"11\", \"12\"])."
	switch {
	case v.IsMarked():
		return nil, invalid("The for_each value is derived from a sensitive variable. Its keys become image names, which are written to plans, state and logs, so they cannot be sensitive. Use a non-sensitive map whose values hold the secrets, or refer to the secrets inside the block.", rng)
	case !v.IsKnown():
		return nil, invalid("The for_each value is not known: it depends on a variable that has no value or a local that failed to evaluate. Fix that first.", rng)
	case v.IsNull():
		return nil, invalid("The for_each value is null. "+shape+" Remove the attribute for a single image, or use an empty map or set for none.", rng)
	}
	ty := v.Type()
	byKey, byIndex := itemRanges(expr, ctx)
	keyRange := func(key string, i int) hcl.Range {
		if i >= 0 && i < len(byIndex) {
			return byIndex[i]
		}
		if r, ok := byKey[key]; ok {
			return r
		}
		return rng
	}
	var items []forEachItem
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		if !v.IsWhollyKnown() {
			return nil, invalid("Some of the for_each values are not known: they depend on a variable that has no value or a local that failed to evaluate. Fix that first.", rng)
		}
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			key := k.AsString()
			items = append(items, forEachItem{key, val, keyRange(key, -1)})
		}
	case ty.IsSetType() || ty.IsListType() || ty.IsTupleType():
		if v.ContainsMarked() {
			return nil, invalid("An element of the for_each value is derived from a sensitive variable. Each element becomes an image name, which is written to plans, state and logs, so it cannot be sensitive.", rng)
		}
		if !v.IsWhollyKnown() {
			return nil, invalid("Some of the for_each elements are not known: they depend on a variable that has no value or a local that failed to evaluate. Fix that first.", rng)
		}
		first := map[string]int{}
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, el := it.Element()
			idx := i
			if ty.IsSetType() {
				idx = -1 // a set is sorted, not in written order
			}
			if el.IsNull() || el.Type() != cty.String {
				what := "null"
				if !el.IsNull() {
					what = "a " + el.Type().FriendlyName()
				}
				diags = append(diags, invalid(fmt.Sprintf("Element %d of the for_each value is %s; a set or list in for_each must hold strings, which become the instance keys. Quote it, or use toset(...) to convert every element to a string.", i+1, what), keyRange("", idx))...)
				continue
			}
			key := el.AsString()
			if j, dup := first[key]; dup {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate for_each key",
					Detail:   fmt.Sprintf("%q is element %d and element %d of the for_each list; each key names an image, so it must be unique. Remove one, or use toset(...) to drop duplicates.", key, j+1, i+1),
					Subject:  keyRange(key, idx).Ptr(),
				})
				continue
			}
			first[key] = i
			items = append(items, forEachItem{key, el, keyRange(key, idx)})
		}
	default:
		return nil, invalid(fmt.Sprintf("The for_each value is a %s. %s", ty.FriendlyName(), shape), rng)
	}
	return items, diags
}

// itemRanges finds where each key of a for_each value was written, when the
// expression is an object or tuple constructor, or one passed straight to a
// function such as toset: by key for objects and sets, and by position for
// lists and tuples. Keys it cannot place are reported at the whole
// expression.
func itemRanges(expr hcl.Expression, ctx *hcl.EvalContext) (map[string]hcl.Range, []hcl.Range) {
	ordered := true // whether the value keeps the written order of a tuple
	if call, ok := expr.(*hclsyntax.FunctionCallExpr); ok && len(call.Args) == 1 {
		expr, ordered = call.Args[0], call.Name == "tolist"
	}
	byKey := map[string]hcl.Range{}
	key := func(e hcl.Expression) (string, bool) {
		v, d := e.Value(ctx)
		if d.HasErrors() || v.IsMarked() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
			return "", false
		}
		return v.AsString(), true
	}
	switch e := expr.(type) {
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			if k, ok := key(item.KeyExpr); ok {
				byKey[k] = item.KeyExpr.Range()
			}
		}
		return byKey, nil
	case *hclsyntax.TupleConsExpr:
		byIndex := make([]hcl.Range, len(e.Exprs))
		for i, el := range e.Exprs {
			byIndex[i] = el.Range()
			if k, ok := key(el); ok {
				if _, dup := byKey[k]; !dup {
					byKey[k] = el.Range()
				}
			}
		}
		if !ordered {
			return byKey, nil
		}
		return byKey, byIndex
	}
	return byKey, nil
}

// eachWithoutForEach reports every use of each in the attributes of an image
// without for_each.
func eachWithoutForEach(exprs []hcl.Expression) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, e := range exprs {
		for _, tr := range e.Variables() {
			if tr.RootName() != "each" {
				continue
			}
			ref := "each"
			if len(tr) > 1 {
				if a, ok := tr[1].(hcl.TraverseAttr); ok {
					ref += "." + a.Name
				}
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  `Reference to "each" in an image without for_each`,
				Detail:   fmt.Sprintf("%s is only available in an image with for_each. Add for_each to this image to build one image per element, or write the value out.", ref),
				Subject:  tr.SourceRange().Ptr(),
			})
		}
	}
	return diags
}

// eachScope is what an instance of an image with for_each keeps to tell
// which of its diagnostics depend on each.key or each.value.
type eachScope struct {
	exprs []hcl.Expression
}

// depends reports whether d points into an expression that uses each: the
// innermost expression enclosing d's subject, within one of the block's
// attributes, refers to each. A diagnostic that does not is the same for
// every instance.
func (s *eachScope) depends(d *hcl.Diagnostic) bool {
	if s == nil || d.Subject == nil {
		return false
	}
	subj := *d.Subject
	for _, e := range s.exprs {
		if !rangeContains(e.Range(), subj) {
			continue
		}
		inner := e
		if se, ok := e.(hclsyntax.Expression); ok {
			hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
				x, ok := n.(hclsyntax.Expression)
				if ok && rangeContains(x.Range(), subj) && rangeLen(x.Range()) <= rangeLen(inner.Range()) {
					inner = x
				}
				return nil
			})
		}
		for _, tr := range inner.Variables() {
			if tr.RootName() == "each" {
				return true
			}
		}
		return false
	}
	return false
}

// instanceNote returns d with its Detail saying which instance it is about,
// when img is an instance of a for_each block and d depends on each; d
// itself otherwise. d is not modified.
func (img *Image) instanceNote(d *hcl.Diagnostic) *hcl.Diagnostic {
	if img.ForEachKey == "" || !img.each.depends(d) {
		return d
	}
	note := fmt.Sprintf("This is for image %s (each.key = %q).", img.Name, img.ForEachKey)
	if strings.Contains(d.Detail, note) {
		return d
	}
	c := *d
	c.Detail = strings.TrimSpace(d.Detail + "\n\n" + note)
	return &c
}

func rangeContains(outer, inner hcl.Range) bool {
	return outer.Filename == inner.Filename && outer.Start.Byte <= inner.Start.Byte && inner.End.Byte <= outer.End.Byte
}

func rangeLen(r hcl.Range) int { return r.End.Byte - r.Start.Byte }

// DiagKey identifies a diagnostic by everything a reader sees.
func DiagKey(d *hcl.Diagnostic) string {
	subj := ""
	if d.Subject != nil {
		subj = d.Subject.String()
	}
	return fmt.Sprintf("%d\x00%s\x00%s\x00%s", d.Severity, d.Summary, d.Detail, subj)
}

// DedupeDiags drops diagnostics identical to an earlier one (by DiagKey):
// the instances of one image block produce them for what they share, and
// every image and environment that reads a broken var file finds it.
func DedupeDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	out := diags[:0:0]
	for _, d := range diags {
		k := DiagKey(d)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}
