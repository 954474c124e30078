package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/internal/suggest"
)

// checkReferences reports references to undefined environments, var groups
// and images, and cycles among environment parents and image dependencies.
func (c *Config) checkReferences() hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range c.EnvironmentNames() {
		e := c.Environments[name]
		if e.Parent != nil {
			diags = append(diags, c.undefined("environment", *e.Parent, c.Environments)...)
		}
	}
	diags = append(diags, cycles("environment parents", c.EnvironmentNames(), func(n string) []Ref {
		if p := c.Environments[n].Parent; p != nil {
			return []Ref{*p}
		}
		return nil
	})...)

	var imageDiags hcl.Diagnostics
	for _, name := range c.ImageNames() {
		img := c.Images[name]
		for _, d := range c.checkImageReferences(name, img) {
			imageDiags = append(imageDiags, img.instanceNote(d))
		}
	}
	// The instances of one for_each block share their expressions, and
	// report what does not depend on each once.
	diags = append(diags, DedupeDiags(imageDiags)...)
	diags = append(diags, cycles("image depends_on", c.ImageNames(), func(n string) []Ref {
		var out []Ref
		for _, r := range c.Images[n].DependsOn {
			if r.Name != n {
				out = append(out, r)
			}
		}
		return out
	})...)
	return diags
}

// checkImageReferences reports the references of one image to undefined
// var groups, environments and images, and base images not built in all of
// its environments.
func (c *Config) checkImageReferences(name string, img *Image) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, r := range img.VarGroups {
		diags = append(diags, c.undefined("var_group", r, c.VarGroups)...)
	}
	for _, r := range img.Environments {
		diags = append(diags, c.undefined("environment", r, c.Environments)...)
	}
	for _, r := range img.DependsOn {
		if r.Name == name {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Image depends on itself",
				Detail:   fmt.Sprintf("Image %q lists itself in depends_on.", name),
				Subject:  r.Range.Ptr(),
			})
			continue
		}
		if _, ok := c.Images[r.Name]; !ok {
			if _, block := c.forEachBlocks[r.Name]; block {
				diags = append(diags, c.forEachBlockReference(r))
				continue
			}
		}
		diags = append(diags, c.undefined("image", r, c.Images)...)
		base, ok := c.Images[r.Name]
		if !ok {
			continue
		}
		baseEnvs := map[string]bool{}
		for _, e := range c.ImageEnvironments(base) {
			baseEnvs[e] = true
		}
		for _, e := range c.ImageEnvironments(img) {
			if !baseEnvs[e] {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Base image not built in environment",
					Detail:   fmt.Sprintf("Image %q is built in environment %q and depends on image %q, which is not built there. A derived image is built from its base image's artifact in the same environment: add %q to the base image's environments, or remove it from this image's.", name, e, r.Name, e),
					Subject:  r.Range.Ptr(),
				})
			}
		}
	}
	return diags
}

// forEachBlockReference reports a reference to the label of an image block
// with for_each, which names no image: its instances are the images.
func (c *Config) forEachBlockReference(r Ref) *hcl.Diagnostic {
	instances := c.ImageInstances(r.Name)
	var hint string
	switch len(instances) {
	case 0:
		hint = "It has no instances to depend on: its for_each is empty, or was reported as invalid."
	case 1:
		hint = fmt.Sprintf("Its instance is image.%s; refer to it by that name.", instances[0])
	default:
		hint = fmt.Sprintf("Its instances are image.%s; refer to the one this image is built from, e.g. image.%s, or to the instance with the same key from another for_each block with \"%s-${each.key}\".",
			strings.Join(instances, ", image."), instances[0], r.Name)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Reference to an image block with for_each",
		Detail:   fmt.Sprintf("Image block %q has for_each, so it is not one image but one per element, named %s-<key>. %s", r.Name, r.Name, hint),
		Subject:  r.Range.Ptr(),
	}
}

// ImageInstances returns, sorted, the names of the images an image block
// gives: the instances of a block with for_each, or the block's own image.
func (c *Config) ImageInstances(block string) []string {
	var out []string
	for _, name := range c.ImageNames() {
		if c.Images[name].Block == block {
			out = append(out, name)
		}
	}
	return out
}

// undefined reports a reference to a name that has no block.
func (c *Config) undefined(kind string, r Ref, defined any) hcl.Diagnostics {
	var names []string
	switch m := defined.(type) {
	case map[string]*Environment:
		if _, ok := m[r.Name]; ok {
			return nil
		}
		names = sortedKeys(m)
	case map[string]*VarGroup:
		if _, ok := m[r.Name]; ok {
			return nil
		}
		names = sortedKeys(m)
	case map[string]*Image:
		if _, ok := m[r.Name]; ok {
			return nil
		}
		names = sortedKeys(m)
	}
	what := kind + " block"
	if kind == "image" {
		what = "image" // an image may be an instance of a block with for_each
	}
	detail := fmt.Sprintf("There is no %s named %q", what, r.Name)
	switch near := suggest.Closest(r.Name, names); {
	case near != "":
		detail += fmt.Sprintf(". Did you mean %s.%s?", kind, near)
	case len(names) == 0:
		detail += " (none are declared)."
	case len(names) <= 10:
		detail += " (declared: " + strings.Join(names, ", ") + ")."
	default:
		detail += fmt.Sprintf(" (declared: %s and %d more).", strings.Join(names[:10], ", "), len(names)-10)
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Reference to undeclared %s", kind),
		Detail:   detail,
		Subject:  r.Range.Ptr(),
	}}
}

// cycles finds every cycle in the graph given by edges and reports each once,
// at the reference that closes it, with its members in order.
func cycles(what string, names []string, edges func(string) []Ref) hcl.Diagnostics {
	const (
		unvisited = iota
		onStack
		done
	)
	state := map[string]int{}
	var stack []string
	var diags hcl.Diagnostics
	reported := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		state[n] = onStack
		stack = append(stack, n)
		for _, r := range edges(n) {
			switch state[r.Name] {
			case unvisited:
				if edges != nil && contains(names, r.Name) {
					visit(r.Name)
				}
			case onStack:
				i := indexOf(stack, r.Name)
				members := append(append([]string{}, stack[i:]...), r.Name)
				key := canonicalCycle(stack[i:])
				if reported[key] {
					continue
				}
				reported[key] = true
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Cycle in %s", what),
					Detail:   fmt.Sprintf("These refer to each other in a cycle: %s. Break the cycle by removing one of the references.", strings.Join(members, " -> ")),
					Subject:  r.Range.Ptr(),
				})
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
	}
	for _, n := range names {
		if state[n] == unvisited {
			visit(n)
		}
	}
	return diags
}

func canonicalCycle(members []string) string {
	s := append([]string{}, members...)
	sort.Strings(s)
	return strings.Join(s, "\x00")
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// undeclaredReferences reports, before expr is evaluated in ctx, every
// traversal in it that names something that does not exist: a variable,
// local or source that has no block, an unknown root name, or an attribute
// an object does not have, each with the nearest name that does exist.
// hcl would report these as "Unsupported attribute: This object does not
// have an attribute named ...", which does not say that a block is missing
// nor which one was meant.
//
// Only object types are checked, attribute by attribute, as far as the
// traversal goes through them: an index, a map or a value not known yet
// ends the check, and evaluation reports what is wrong there.
func undeclaredReferences(expr hcl.Expression, ctx *hcl.EvalContext) hcl.Diagnostics {
	if ctx == nil {
		return nil // no variables at all; hcl says so
	}
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		if d := undeclaredReference(tr, ctx); d != nil {
			diags = append(diags, d)
		}
	}
	return diags
}

// undeclaredReference checks one traversal; see undeclaredReferences.
func undeclaredReference(tr hcl.Traversal, ctx *hcl.EvalContext) *hcl.Diagnostic {
	root := tr.RootName()
	val, ok := lookupRoot(ctx, root)
	if !ok {
		roots := scopeRoots(ctx)
		detail := fmt.Sprintf("There is no variable named %q. Expressions in %s can refer to %s.", root, Filename, strings.Join(roots, ", "))
		switch kind := blockKinds[root]; {
		case kind != "":
			ref := traversalText(tr, 2)
			detail = fmt.Sprintf("%s names %s, which is not a value: it is listed in %s = [%s]. Expressions in %s can refer to %s.",
				ref, kind, blockListAttrs[root], ref, Filename, strings.Join(roots, ", "))
		default:
			if s := suggest.Closest(root, roots); s != "" {
				detail += fmt.Sprintf(" Did you mean %s?", s)
			}
		}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown variable",
			Detail:   detail,
			Subject:  tr[0].SourceRange().Ptr(),
		}
	}
	for i, step := range tr[1:] {
		attr, ok := step.(hcl.TraverseAttr)
		if !ok || val == cty.NilVal {
			return nil
		}
		val, _ = val.Unmark()
		ty := val.Type()
		if !ty.IsObjectType() {
			return nil
		}
		if !ty.HasAttribute(attr.Name) {
			return undeclaredAttribute(root, i == 0, attr, ty)
		}
		if !val.IsKnown() || val.IsNull() {
			return nil
		}
		val = val.GetAttr(attr.Name)
	}
	return nil
}

// blockKinds are the root names of references to blocks, which are not
// values an expression can use, each with how a message names one;
// blockListAttrs the attribute that takes each kind of reference.
var (
	blockKinds     = map[string]string{"image": "an image", "environment": "an environment", "var_group": "a var group"}
	blockListAttrs = map[string]string{"image": "depends_on", "environment": "environments", "var_group": "var_groups"}
)

// undeclaredAttribute reports an attribute an object lacks: a variable,
// local or source without a block when it is the first step after var,
// local or source; any other attribute otherwise.
func undeclaredAttribute(root string, first bool, attr hcl.TraverseAttr, ty cty.Type) *hcl.Diagnostic {
	names := make([]string, 0, len(ty.AttributeTypes()))
	for n := range ty.AttributeTypes() {
		names = append(names, n)
	}
	sort.Strings(names)
	near := suggest.Closest(attr.Name, names)
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Subject: attr.SrcRange.Ptr()}
	switch {
	case first && root == "var":
		d.Summary = "Reference to undeclared input variable"
		d.Detail = fmt.Sprintf("An input variable with the name %q has not been declared.", attr.Name)
		if near != "" {
			d.Detail += fmt.Sprintf(" Did you mean var.%s?", near)
		} else {
			d.Detail += fmt.Sprintf(" This variable can be declared with a variable %q {} block.", attr.Name)
		}
		return d
	case first && root == "local":
		d.Summary = "Reference to undeclared local value"
		d.Detail = fmt.Sprintf("A local value with the name %q has not been declared.", attr.Name)
		if near != "" {
			d.Detail += fmt.Sprintf(" Did you mean local.%s?", near)
		}
		return d
	case first && root == "source":
		d.Summary = "Reference to undeclared source"
		d.Detail = fmt.Sprintf("There is no source block named %q.", attr.Name)
		if near != "" {
			d.Detail += fmt.Sprintf(" Did you mean source.%s?", near)
		}
		return d
	}
	d.Summary = "Unsupported attribute"
	d.Detail = fmt.Sprintf("This object does not have an attribute named %q.", attr.Name)
	if near != "" {
		d.Detail += fmt.Sprintf(" Did you mean %q?", near)
	}
	return d
}

// lookupRoot finds a root name in ctx or its parents.
func lookupRoot(ctx *hcl.EvalContext, name string) (cty.Value, bool) {
	for c := ctx; c != nil; c = c.Parent() {
		if v, ok := c.Variables[name]; ok {
			return v, true
		}
	}
	return cty.NilVal, false
}

// scopeRoots lists, sorted, the root names ctx and its parents define.
func scopeRoots(ctx *hcl.EvalContext) []string {
	seen := map[string]bool{}
	var out []string
	for c := ctx; c != nil; c = c.Parent() {
		for n := range c.Variables {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// traversalText writes the first n steps of a traversal as they would be
// written in hybrid.hcl: var_group.build.
func traversalText(tr hcl.Traversal, n int) string {
	var b strings.Builder
	for i, step := range tr {
		if i == n {
			break
		}
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		default:
			return b.String()
		}
	}
	return b.String()
}

// didYouMean is " Did you mean NAME?" for the name among names nearest to
// given, or "" when none is near.
func didYouMean(given string, names []string) string {
	if near := suggest.Closest(given, names); near != "" {
		return fmt.Sprintf(" Did you mean %q?", near)
	}
	return ""
}

// didYouMeanRef is " Did you mean KIND.NAME?" for the name among names
// nearest to given, or "" when none is near.
func didYouMeanRef(kind, given string, names []string) string {
	if near := suggest.Closest(given, names); near != "" {
		return fmt.Sprintf(" Did you mean %s.%s?", kind, near)
	}
	return ""
}

// usesFailure reports whether any of exprs refers to a variable or local
// whose value is not known because it failed, which was reported where it
// failed: what such an expression gives is not what the user meant.
func usesFailure(ctx *hcl.EvalContext, exprs []hcl.Expression) bool {
	for _, e := range exprs {
		if e == nil {
			continue
		}
		for _, tr := range e.Variables() {
			if _, ok := lookupRoot(ctx, tr.RootName()); !ok {
				continue // image.base, environment.dev: a block, not a value
			}
			v, d := tr.TraverseAbs(ctx)
			if d.HasErrors() || !v.IsWhollyKnown() {
				return true
			}
		}
	}
	return false
}

// Complete reports whether what the configuration says about img in env
// decoded without errors: the image block, its var groups, and env and its
// ancestors all exist, had no errors and use no variable or local that
// failed. Checks that compare an image's merged values with its template
// run only on complete images: on others they would report values missing
// because of an error already reported, not a mistake of their own.
func (c *Config) Complete(img *Image, env string) bool {
	if img.incomplete {
		return false
	}
	for _, r := range img.VarGroups {
		if g := c.VarGroups[r.Name]; g == nil || g.incomplete {
			return false
		}
	}
	for _, e := range c.EnvironmentChain(env) {
		if e.incomplete {
			return false
		}
		if e.Parent != nil && c.Environments[e.Parent.Name] == nil {
			return false
		}
	}
	return c.Environments[env] != nil
}
