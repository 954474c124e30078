package config

import (
	"fmt"
	"path"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The provisioning stacks an image can use.
const (
	StackAnsible = "ansible"
	StackPuppet  = "puppet"
	StackNone    = "none"
)

// Stacks lists the stacks that have a provisioner block, in a fixed order.
var Stacks = []string{StackAnsible, StackPuppet}

// DefaultStack provisions images that choose nothing else.
const DefaultStack = StackAnsible

// Provisioner is a provisioner block: where a stack's assets live and the
// packer variable that switches the stack on or off in a template.
type Provisioner struct {
	Name     string // ansible or puppet
	Dir      string // workspace-relative asset directory
	Entry    string // file inside Dir that must exist (playbook, manifest)
	Variable string // boolean packer variable that enables the stack

	DeclRange hcl.Range // the block, or the hybrid.hcl file start for defaults
}

// EntryPath is the workspace-relative path of the stack's entry file.
func (p *Provisioner) EntryPath() string { return path.Join(p.Dir, p.Entry) }

// defaultProvisioners are used for stacks without a provisioner block.
func defaultProvisioners() map[string]*Provisioner {
	return map[string]*Provisioner{
		StackAnsible: {Name: StackAnsible, Dir: "templates/ansible", Entry: "playbook.yml", Variable: "enable_ansible"},
		StackPuppet:  {Name: StackPuppet, Dir: "templates/puppet", Entry: "manifests/site.pp", Variable: "enable_puppet"},
	}
}

type rawProvisioner struct {
	Name      string         `hcl:"name,label"`
	NameRange hcl.Range      `hcl:"name,label_range"`
	Dir       hcl.Expression `hcl:"dir,optional"`
	Entry     hcl.Expression `hcl:"entry,optional"`
	Variable  hcl.Expression `hcl:"variable,optional"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

func decodeProvisioner(raw *rawProvisioner, ctx *hcl.EvalContext, defaults map[string]*Provisioner) (*Provisioner, hcl.Diagnostics) {
	def, ok := defaults[raw.Name]
	if !ok {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unknown provisioner stack",
			Detail:   fmt.Sprintf("%q is not a provisioner stack hybrid knows; use \"ansible\" or \"puppet\".", raw.Name),
			Subject:  raw.NameRange.Ptr(),
		}}
	}
	p := *def
	p.DeclRange = raw.DefRange
	var diags, d hcl.Diagnostics
	dir, d := evalString(raw.Dir, ctx, "provisioner dir", p.Dir)
	diags = append(diags, d...)
	if !d.HasErrors() {
		dir, d = cleanRelPath(dir, raw.Dir.Range(), "provisioner dir")
		diags = append(diags, d...)
		p.Dir = dir
	}
	entry, d := evalString(raw.Entry, ctx, "provisioner entry", p.Entry)
	diags = append(diags, d...)
	if !d.HasErrors() {
		entry, d = cleanRelPath(entry, raw.Entry.Range(), "provisioner entry")
		diags = append(diags, d...)
		p.Entry = entry
	}
	p.Variable, d = evalString(raw.Variable, ctx, "provisioner variable", p.Variable)
	diags = append(diags, d...)
	if !d.HasErrors() && !hclsyntax.ValidIdentifier(p.Variable) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid variable name",
			Detail:   fmt.Sprintf("%q is not a valid packer variable name.", p.Variable),
			Subject:  raw.Variable.Range().Ptr(),
		})
	}
	return &p, diags
}

// checkStack reports a provisioner choice that is not a known stack.
func checkStack(name string, rng hcl.Range) hcl.Diagnostics {
	switch name {
	case StackAnsible, StackPuppet, StackNone:
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Unknown provisioner stack",
		Detail:   fmt.Sprintf("%q is not a provisioner stack; use \"ansible\", \"puppet\" or \"none\".", name),
		Subject:  rng.Ptr(),
	}}
}
