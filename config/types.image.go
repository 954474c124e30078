package config

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Naming rules an image can ask for.
const (
	NamingStrict  = "strict"  // packer source names follow source.<builder>.<os>-<words>
	NamingRelaxed = "relaxed" // the template repository has its own convention
)

// Image is an image block: one packer source of one template, built in each
// of its environments.
type Image struct {
	Name        string
	Description string
	// Template is the workspace-relative directory holding the *.pkr.hcl files.
	Template string
	// Builder and SourceName split the build attribute "vsphere-iso.linux-ubuntu";
	// packer runs with -only=Builder.SourceName.
	Builder    string
	SourceName string
	OS         string // OS family; defaults to the first word of SourceName
	Platform   string // defaults to Builder
	// WorkingDir is where packer runs, workspace-relative; "." by default.
	WorkingDir   string
	VarFiles     []FileRef
	VarGroups    []Ref
	Values       map[string]cty.Value
	Ranges       map[string]hcl.Range
	Provisioner  string // "" inherits from the environment, then the default
	Environments []Ref  // nil means every environment
	DependsOn    []Ref
	Inputs       []FileRef // extra input globs, workspace-relative
	Naming       string

	DeclRange        hcl.Range
	NameRange        hcl.Range
	TemplateRange    hcl.Range
	BuildRange       hcl.Range
	ProvisionerRange hcl.Range
	NamingRange      hcl.Range
}

// Only is the packer -only value that selects this image's source.
func (i *Image) Only() string { return i.Builder + "." + i.SourceName }

type rawImage struct {
	Name         string         `hcl:"name,label"`
	NameRange    hcl.Range      `hcl:"name,label_range"`
	Description  hcl.Expression `hcl:"description,optional"`
	Template     hcl.Expression `hcl:"template"`
	Build        hcl.Expression `hcl:"build"`
	OS           hcl.Expression `hcl:"os,optional"`
	Platform     hcl.Expression `hcl:"platform,optional"`
	WorkingDir   hcl.Expression `hcl:"working_dir,optional"`
	VarFiles     hcl.Expression `hcl:"var_files,optional"`
	VarGroups    hcl.Expression `hcl:"var_groups,optional"`
	Values       hcl.Expression `hcl:"values,optional"`
	Provisioner  hcl.Expression `hcl:"provisioner,optional"`
	Environments hcl.Expression `hcl:"environments,optional"`
	DependsOn    hcl.Expression `hcl:"depends_on,optional"`
	Inputs       hcl.Expression `hcl:"inputs,optional"`
	Naming       hcl.Expression `hcl:"naming,optional"`
	DefRange     hcl.Range      `hcl:",def_range"`
}

var buildPattern = regexp.MustCompile(`^(?:source\.)?([A-Za-z0-9][A-Za-z0-9_-]*)\.([A-Za-z0-9][A-Za-z0-9_.-]*)$`)

func decodeImage(raw *rawImage, ctx *hcl.EvalContext) (*Image, hcl.Diagnostics) {
	img := &Image{
		Name: raw.Name, DeclRange: raw.DefRange, NameRange: raw.NameRange,
		TemplateRange: raw.Template.Range(), BuildRange: raw.Build.Range(),
		ProvisionerRange: raw.Provisioner.Range(), NamingRange: raw.Naming.Range(),
	}
	diags := checkName("image", raw.Name, raw.NameRange)
	diags = append(diags, required(raw.Template, "template", raw.DefRange)...)
	diags = append(diags, required(raw.Build, "build", raw.DefRange)...)
	if diags.HasErrors() {
		return img, diags
	}
	var d hcl.Diagnostics

	img.Description, d = evalString(raw.Description, ctx, "description", "")
	diags = append(diags, d...)

	tmpl, d := evalString(raw.Template, ctx, "template directory", "")
	diags = append(diags, d...)
	if !d.HasErrors() {
		img.Template, d = cleanRelPath(tmpl, raw.Template.Range(), "template directory")
		diags = append(diags, d...)
	}

	build, d := evalString(raw.Build, ctx, "build", "")
	diags = append(diags, d...)
	if !d.HasErrors() {
		m := buildPattern.FindStringSubmatch(build)
		if m == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid build address",
				Detail:   fmt.Sprintf("%q does not name a packer source; write BUILDER.NAME as packer's -only option takes it, e.g. \"vsphere-iso.linux-ubuntu\".", build),
				Subject:  raw.Build.Range().Ptr(),
			})
		} else {
			img.Builder, img.SourceName = m[1], m[2]
		}
	}

	img.OS, d = evalString(raw.OS, ctx, "os", "")
	diags = append(diags, d...)
	if img.OS == "" && img.SourceName != "" {
		img.OS, _, _ = strings.Cut(img.SourceName, "-")
	}
	img.Platform, d = evalString(raw.Platform, ctx, "platform", img.Builder)
	diags = append(diags, d...)

	wd, d := evalString(raw.WorkingDir, ctx, "working_dir", ".")
	diags = append(diags, d...)
	if !d.HasErrors() {
		img.WorkingDir, d = cleanRelPath(wd, raw.WorkingDir.Range(), "working_dir")
		diags = append(diags, d...)
	}

	img.VarFiles, d = evalFileRefs(raw.VarFiles, ctx, "var file")
	diags = append(diags, d...)
	img.VarGroups, d = evalRefs(raw.VarGroups, ctx, "var_group")
	diags = append(diags, d...)
	img.Values, img.Ranges, d = evalObject(raw.Values, ctx, "values")
	diags = append(diags, d...)

	img.Provisioner, d = evalString(raw.Provisioner, ctx, "provisioner", "")
	diags = append(diags, d...)
	if img.Provisioner != "" {
		diags = append(diags, checkStack(img.Provisioner, raw.Provisioner.Range())...)
	}

	img.Environments, d = evalRefs(raw.Environments, ctx, "environment")
	diags = append(diags, d...)
	if !isNull(raw.Environments) && len(img.Environments) == 0 && !d.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Image built in no environment",
			Detail:   "environments is empty, so this image would never be built. Remove the attribute to build it in every environment, or remove the image.",
			Subject:  raw.Environments.Range().Ptr(),
		})
	}
	img.DependsOn, d = evalRefs(raw.DependsOn, ctx, "image")
	diags = append(diags, d...)

	globs, rngs, d := evalStringList(raw.Inputs, ctx, "inputs")
	diags = append(diags, d...)
	for i, g := range globs {
		c, d := cleanRelPath(g, rngs[i], "input glob")
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if _, err := path.Match(strings.ReplaceAll(c, "**", "*"), ""); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid input glob",
				Detail:   fmt.Sprintf("%q is not a valid glob: %v.", g, err),
				Subject:  rngs[i].Ptr(),
			})
			continue
		}
		img.Inputs = append(img.Inputs, FileRef{Path: c, Range: rngs[i]})
	}

	img.Naming, d = evalString(raw.Naming, ctx, "naming", NamingStrict)
	diags = append(diags, d...)
	if img.Naming != NamingStrict && img.Naming != NamingRelaxed {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid naming rule",
			Detail:   fmt.Sprintf("naming is %q; use \"strict\" (the default) or \"relaxed\".", img.Naming),
			Subject:  raw.Naming.Range().Ptr(),
		})
	}
	return img, diags
}
