package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
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
	diags = append(diags, dedupeDiags(imageDiags)...)
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
	known := "none are declared"
	if len(names) > 0 {
		known = "declared: " + strings.Join(names, ", ")
	}
	what := kind + " block"
	if kind == "image" {
		what = "image" // an image may be an instance of a block with for_each
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Reference to undeclared %s", kind),
		Detail:   fmt.Sprintf("There is no %s named %q (%s).", what, r.Name, known),
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
