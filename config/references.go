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

	for _, name := range c.ImageNames() {
		img := c.Images[name]
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
	}
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
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Reference to undeclared %s", kind),
		Detail:   fmt.Sprintf("There is no %s block named %q (%s).", kind, r.Name, known),
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
