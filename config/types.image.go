package config

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Naming rules an image can ask for.
const (
	NamingStrict  = "strict"  // packer source names follow source.<builder>.<os>-<words>
	NamingRelaxed = "relaxed" // the template repository has its own convention
)

// Image is an image block: one packer source of one template, built in each
// of its environments. An image block with for_each gives one Image per
// element, each a full image of its own named <label>-<key>.
type Image struct {
	// Name is the image's address and file name: the block label, or
	// <label>-<key> for an instance of a block with for_each.
	Name string
	// Block is the block label as written; it equals Name for a block
	// without for_each.
	Block string
	// ForEachKey is the instance's each.key, "" for a block without for_each.
	ForEachKey  string
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
	// BuildTimeout is how long the image's packer build may run: its own
	// build_timeout, else the hybrid block's, else 0, no limit. Apply
	// interrupts a build that runs longer.
	BuildTimeout time.Duration
	// Queue is the job queue a distributed apply puts the image's builds
	// on, so that only workers started with -queue=NAME take them: its
	// own queue, else its environment's (EnvQueue), else "default".
	Queue string
	// Retries is how many times a distributed apply runs a failed build
	// of the image again (packer failures are usually real: 0 by
	// default).
	Retries int

	// DeclRange and NameRange are the block's, shared by every instance of
	// a block with for_each; ForEachRange is its for_each expression.
	DeclRange        hcl.Range
	ForEachRange     hcl.Range
	NameRange        hcl.Range
	TemplateRange    hcl.Range
	BuildRange       hcl.Range
	ProvisionerRange hcl.Range
	NamingRange      hcl.Range
	// BuildTimeoutRange is where BuildTimeout was set: the image's
	// build_timeout, or the hybrid block's when it comes from there.
	BuildTimeoutRange hcl.Range

	// each holds, for an instance, what instanceNote needs to tell which
	// diagnostics depend on each.key or each.value.
	each *eachScope
	// incomplete is set when the block had errors or uses a variable or
	// local that failed: see Config.Complete.
	incomplete bool
}

// Only is the packer -only value that selects this image's source.
func (i *Image) Only() string { return i.Builder + "." + i.SourceName }

type rawImage struct {
	Name         string         `hcl:"name,label"`
	NameRange    hcl.Range      `hcl:"name,label_range"`
	Description  hcl.Expression `hcl:"description,optional"`
	Template     hcl.Expression `hcl:"template,optional"` // required; decodeImage says so
	Build        hcl.Expression `hcl:"build,optional"`    // required; decodeImage says so
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
	BuildTimeout hcl.Expression `hcl:"build_timeout,optional"`
	Queue        hcl.Expression `hcl:"queue,optional"`
	Retries      hcl.Expression `hcl:"retries,optional"`
	ForEach      *hcl.Attribute `hcl:"for_each,optional"`
	DefRange     hcl.Range      `hcl:",def_range"`
}

// exprs returns every attribute expression of the block but for_each: the
// ones that may use each.key and each.value.
func (r *rawImage) exprs() []hcl.Expression {
	return []hcl.Expression{
		r.Description, r.Template, r.Build, r.OS, r.Platform, r.WorkingDir,
		r.VarFiles, r.VarGroups, r.Values, r.Provisioner, r.Environments,
		r.DependsOn, r.Inputs, r.Naming, r.BuildTimeout, r.Queue, r.Retries,
	}
}

var buildPattern = regexp.MustCompile(`^(?:source\.)?([A-Za-z0-9][A-Za-z0-9_-]*)\.([A-Za-z0-9][A-Za-z0-9_.-]*)$`)

// newImage is the part of an image that needs no evaluation.
func newImage(raw *rawImage, name string) *Image {
	img := &Image{
		Name: name, Block: raw.Name, DeclRange: raw.DefRange, NameRange: raw.NameRange,
		TemplateRange: raw.Template.Range(), BuildRange: raw.Build.Range(),
		ProvisionerRange: raw.Provisioner.Range(), NamingRange: raw.Naming.Range(),
	}
	if raw.ForEach != nil {
		img.ForEachRange = raw.ForEach.Expr.Range()
	}
	return img
}

// decodeImage evaluates an image block, or one instance of it, whose name
// the caller has checked, in ctx; settings give the defaults.
func decodeImage(raw *rawImage, ctx *hcl.EvalContext, name string, settings Settings) (*Image, hcl.Diagnostics) {
	img := newImage(raw, name)
	diags := required(raw.Template, "template", raw.DefRange)
	diags = append(diags, required(raw.Build, "build", raw.DefRange)...)
	if diags.HasErrors() {
		return img, diags
	}
	var d hcl.Diagnostics

	img.Description, d = evalString(raw.Description, ctx, "description", "")
	diags = append(diags, d...)

	tmpl, known, d := evalKnownString(raw.Template, ctx, "template directory", "")
	diags = append(diags, d...)
	if known && !d.HasErrors() {
		img.Template, d = cleanRelPath(tmpl, raw.Template.Range(), "template directory")
		diags = append(diags, d...)
	}

	build, known, d := evalKnownString(raw.Build, ctx, "build", "")
	diags = append(diags, d...)
	if known && !d.HasErrors() {
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

	wd, known, d := evalKnownString(raw.WorkingDir, ctx, "working_dir", ".")
	diags = append(diags, d...)
	if known && !d.HasErrors() {
		img.WorkingDir, d = cleanRelPath(wd, raw.WorkingDir.Range(), "working_dir")
		diags = append(diags, d...)
	}

	img.VarFiles, d = evalFileRefs(raw.VarFiles, ctx, "var file")
	diags = append(diags, d...)
	img.VarGroups, d = evalRefs(raw.VarGroups, ctx, "var_groups", "var_group")
	diags = append(diags, d...)
	img.Values, img.Ranges, d = evalObject(raw.Values, ctx, "values")
	diags = append(diags, d...)

	img.Provisioner, d = evalString(raw.Provisioner, ctx, "provisioner", "")
	diags = append(diags, d...)
	if img.Provisioner != "" {
		diags = append(diags, checkStack(img.Provisioner, raw.Provisioner.Range())...)
	}

	img.Environments, d = evalRefs(raw.Environments, ctx, "environments", "environment")
	diags = append(diags, d...)
	if !isNull(raw.Environments) && len(img.Environments) == 0 && !d.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Image built in no environment",
			Detail:   "environments is empty, so this image would never be built. Remove the attribute to build it in every environment, or remove the image.",
			Subject:  raw.Environments.Range().Ptr(),
		})
	}
	img.DependsOn, d = evalRefs(raw.DependsOn, ctx, "depends_on", "image")
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

	img.BuildTimeout, img.BuildTimeoutRange = settings.BuildTimeout, settings.BuildTimeoutRange
	if !isNull(raw.BuildTimeout) {
		img.BuildTimeout, d = evalDuration(raw.BuildTimeout, ctx, "build_timeout")
		diags = append(diags, d...)
		img.BuildTimeoutRange = raw.BuildTimeout.Range()
	}

	img.Queue, d = evalQueue(raw.Queue, ctx)
	diags = append(diags, d...)
	if !isNull(raw.Retries) {
		v, d := raw.Retries.Value(ctx)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if err := decodeInt(v, &img.Retries); err != nil || img.Retries < 0 || img.Retries > 10 {
				img.Retries = 0
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid retries",
					Detail:   "retries is how many times a distributed apply runs a failed build of the image again: a whole number from 0 to 10.",
					Subject:  raw.Retries.Range().Ptr(),
				})
			}
		}
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

// imageClaim is what first took an image name, for the duplicate error.
type imageClaim struct {
	what string // e.g. `image "linux-debian" (each.key = "12")`
	rng  hcl.Range
}

// decodeImages decodes the image blocks in order into c.Images, expanding
// each block with for_each into one image per element. Image names and
// for_each block labels share one namespace, so image.NAME always means one
// thing: an image, or a for_each block whose instances it does not name.
func (c *Config) decodeImages(raws []*rawImage, ctx *hcl.EvalContext, seen *dupChecker) hcl.Diagnostics {
	var diags hcl.Diagnostics
	claims := map[string]imageClaim{}
	claim := func(name string, cl imageClaim) hcl.Diagnostics {
		first, ok := claims[name]
		if !ok {
			claims[name] = cl
			return nil
		}
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Duplicate image block",
			Detail: fmt.Sprintf("%s and %s at %s both give an image named %q. Image names, including the <label>-<key> names of for_each instances, must be unique: rename one of them, or change the key.",
				upperFirst(cl.what), first.what, first.rng, name),
			Subject: cl.rng.Ptr(),
		}}
	}
	for _, ri := range raws {
		if diags = append(diags, seen.check("image", ri.Name, ri.DefRange)...); seen.dup {
			continue
		}
		badName := checkName("image", ri.Name, ri.NameRange)
		diags = append(diags, badName...)
		if ri.ForEach == nil {
			if d := claim(ri.Name, imageClaim{fmt.Sprintf("image %q", ri.Name), ri.DefRange}); d != nil {
				diags = append(diags, d...)
				continue
			}
			if d := eachWithoutForEach(ri.exprs()); d.HasErrors() {
				// Evaluating would only repeat the error as "Unknown
				// variable"; keep the image so references to it hold.
				diags = append(diags, d...)
				img := newImage(ri, ri.Name)
				img.incomplete = true
				c.Images[ri.Name] = img
				continue
			}
			c.guard.Reset()
			img, d := decodeImage(ri, ctx, ri.Name, c.Settings)
			diags = append(diags, d...)
			img.incomplete = d.HasErrors() || usesFailure(ctx, ri.exprs())
			c.Images[img.Name] = img
			continue
		}
		if badName.HasErrors() {
			continue // every instance name would repeat the error
		}

		if d := claim(ri.Name, imageClaim{fmt.Sprintf("the for_each block image %q", ri.Name), ri.DefRange}); d != nil {
			diags = append(diags, d...)
			continue
		}
		c.forEachBlocks[ri.Name] = ri.ForEach.Expr.Range()
		c.guard.Reset()
		items, d := evalForEach(ri.ForEach.Expr, ctx)
		diags = append(diags, d...)
		reported := map[string]bool{} // diagnostics that do not depend on each, reported once
		for _, it := range items {
			name := ri.Name + "-" + it.Key
			if !namePattern.MatchString(name) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid for_each key",
					Detail: fmt.Sprintf("The for_each key %q gives image %q the name %q, which cannot be used: a name starts with a lowercase letter and holds only lowercase letters, digits, \"-\" and \"_\" (at most 63 characters), because it becomes part of addresses and file names. Change the key.",
						it.Key, ri.Name, name),
					Subject: it.Range.Ptr(),
				})
				continue
			}
			what := fmt.Sprintf("image %q (each.key = %q)", ri.Name, it.Key)
			if d := claim(name, imageClaim{what, it.Range}); d != nil {
				diags = append(diags, d...)
				continue
			}
			ictx := ctx.NewChild()
			ictx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
				"key":   cty.StringVal(it.Key),
				"value": it.Value,
			})}
			c.guard.Reset()
			img, d := decodeImage(ri, ictx, name, c.Settings)
			img.incomplete = d.HasErrors() || usesFailure(ictx, ri.exprs())
			img.ForEachKey = it.Key
			img.each = &eachScope{exprs: ri.exprs()}
			for _, diag := range d {
				if img.each.depends(diag) {
					diags = append(diags, img.instanceNote(diag))
					continue
				}
				if k := DiagKey(diag); !reported[k] {
					reported[k] = true
					diags = append(diags, diag)
				}
			}
			c.Images[name] = img
		}
	}
	return diags
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
