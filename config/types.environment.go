package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// FileRef is a workspace-relative path written in hybrid.hcl, with where it
// was written.
type FileRef struct {
	Path  string
	Range hcl.Range
}

// VarGroup is a var_group block: a named set of var files and values that
// images share (connection settings, build account, network, storage...).
type VarGroup struct {
	Name     string
	VarFiles []FileRef
	Values   map[string]cty.Value
	Ranges   map[string]hcl.Range

	DeclRange hcl.Range
	// incomplete: see Config.Complete.
	incomplete bool
}

type rawVarGroup struct {
	Name      string         `hcl:"name,label"`
	NameRange hcl.Range      `hcl:"name,label_range"`
	VarFiles  hcl.Expression `hcl:"var_files,optional"`
	Values    hcl.Expression `hcl:"values,optional"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

func decodeVarGroup(raw *rawVarGroup, ctx *hcl.EvalContext) (*VarGroup, hcl.Diagnostics) {
	g := &VarGroup{Name: raw.Name, DeclRange: raw.DefRange}
	diags := checkName("var_group", raw.Name, raw.NameRange)
	var d hcl.Diagnostics
	g.VarFiles, d = evalFileRefs(raw.VarFiles, ctx, "var file")
	diags = append(diags, d...)
	g.Values, g.Ranges, d = evalObject(raw.Values, ctx, "values")
	diags = append(diags, d...)
	g.incomplete = diags.HasErrors() || usesFailure(ctx, []hcl.Expression{raw.VarFiles, raw.Values})
	return g, diags
}

// Environment is an environment block: a named overlay (dev, stage, prod) of
// variable values and provisioner choice, optionally inheriting a parent's.
type Environment struct {
	Name        string
	Description string
	Parent      *Ref
	VarFiles    []FileRef
	Values      map[string]cty.Value
	Ranges      map[string]hcl.Range
	Provisioner string // "" inherits from the parent, then the default
	// Queue is the job queue of the environment's builds in a
	// distributed apply, "" for its parent's, then "default"; an image's
	// own queue wins.
	Queue string

	DeclRange        hcl.Range
	NameRange        hcl.Range
	ProvisionerRange hcl.Range
	// incomplete: see Config.Complete.
	incomplete bool
}

type rawEnvironment struct {
	Name        string         `hcl:"name,label"`
	NameRange   hcl.Range      `hcl:"name,label_range"`
	Description hcl.Expression `hcl:"description,optional"`
	Parent      hcl.Expression `hcl:"parent,optional"`
	VarFiles    hcl.Expression `hcl:"var_files,optional"`
	Values      hcl.Expression `hcl:"values,optional"`
	Provisioner hcl.Expression `hcl:"provisioner,optional"`
	Queue       hcl.Expression `hcl:"queue,optional"`
	DefRange    hcl.Range      `hcl:",def_range"`
}

func decodeEnvironment(raw *rawEnvironment, ctx *hcl.EvalContext) (*Environment, hcl.Diagnostics) {
	e := &Environment{Name: raw.Name, DeclRange: raw.DefRange, NameRange: raw.NameRange, ProvisionerRange: raw.Provisioner.Range()}
	diags := checkName("environment", raw.Name, raw.NameRange)
	var d hcl.Diagnostics
	e.Description, d = evalString(raw.Description, ctx, "description", "")
	diags = append(diags, d...)
	e.Parent, d = evalRef(raw.Parent, ctx, "environment")
	diags = append(diags, d...)
	e.VarFiles, d = evalFileRefs(raw.VarFiles, ctx, "var file")
	diags = append(diags, d...)
	e.Values, e.Ranges, d = evalObject(raw.Values, ctx, "values")
	diags = append(diags, d...)
	e.Provisioner, d = evalString(raw.Provisioner, ctx, "provisioner", "")
	diags = append(diags, d...)
	if e.Provisioner != "" {
		diags = append(diags, checkStack(e.Provisioner, raw.Provisioner.Range())...)
	}
	e.Queue, d = evalQueue(raw.Queue, ctx)
	diags = append(diags, d...)
	e.incomplete = diags.HasErrors() || usesFailure(ctx, []hcl.Expression{raw.Parent, raw.VarFiles, raw.Values, raw.Provisioner, raw.Queue})
	return e, diags
}

// evalFileRefs evaluates a list of workspace-relative paths.
func evalFileRefs(expr hcl.Expression, ctx *hcl.EvalContext, what string) ([]FileRef, hcl.Diagnostics) {
	paths, rngs, diags := evalStringList(expr, ctx, what+" list")
	var out []FileRef
	for i, p := range paths {
		c, d := cleanRelPath(p, rngs[i], what)
		diags = append(diags, d...)
		if !d.HasErrors() {
			out = append(out, FileRef{Path: c, Range: rngs[i]})
		}
	}
	return out, diags
}
