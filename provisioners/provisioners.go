package provisioners

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/config"
)

// LayerName names the toggle layer in render layer lists.
const LayerName = "provisioners"

// Stack is the provisioning stack chosen for one image in one environment.
type Stack struct {
	Name string // ansible, puppet or none
	// Provisioner is the chosen stack's settings; nil for none.
	Provisioner *config.Provisioner
}

// Choose returns the stack img uses in env: the image's provisioner, else
// the environment's (or its parents'), else ansible.
func Choose(cfg *config.Config, img *config.Image, env string) Stack {
	name := cfg.Stack(img, env)
	return Stack{Name: name, Provisioner: cfg.Provisioners[name]}
}

// Toggles returns the layer that switches stacks in the template: the chosen
// stack's variable true, every other stack's false. Only variables the
// template declares are set, so packer sees no undeclared values; Check
// reports a chosen stack whose variable is missing.
func Toggles(cfg *config.Config, st Stack, declared func(string) bool) config.Layer {
	l := config.Layer{Name: LayerName, Values: map[string]cty.Value{}}
	for _, name := range config.Stacks {
		p := cfg.Provisioners[name]
		if p == nil || (declared != nil && !declared(p.Variable)) {
			continue
		}
		l.Values[p.Variable] = cty.BoolVal(name == st.Name)
	}
	return l
}

// Check verifies that the chosen stack can run: its entry file exists inside
// the workspace, and the template declares its toggle variable. Diagnostics
// point at the image's provisioner attribute, or at the image block when the
// stack was inherited.
func Check(cfg *config.Config, img *config.Image, env string, st Stack, templateDir string, declared func(string) bool) hcl.Diagnostics {
	if st.Provisioner == nil {
		return nil
	}
	subject := img.DeclRange.Ptr()
	if img.Provisioner != "" {
		subject = img.ProvisionerRange.Ptr()
	} else if p := st.Provisioner; p.DeclRange.Filename != "" {
		subject = p.DeclRange.Ptr()
	}
	var diags hcl.Diagnostics
	p := st.Provisioner
	entry := p.EntryPath()
	fi, err := os.Stat(filepath.Join(cfg.Dir, filepath.FromSlash(entry)))
	switch {
	case err != nil:
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Missing %s asset", st.Name),
			Detail: fmt.Sprintf("Image %q uses the %s stack in environment %q, which needs %s, but it does not exist. Create it, or set dir/entry in a provisioner %q block.",
				img.Name, st.Name, env, entry, st.Name),
			Subject: subject,
		})
	case !fi.Mode().IsRegular():
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid %s asset", st.Name),
			Detail:   fmt.Sprintf("%s must be a file.", entry),
			Subject:  subject,
		})
	}
	if declared != nil && !declared(p.Variable) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Template does not declare the provisioner toggle",
			Detail: fmt.Sprintf("Image %q uses the %s stack, which hybrid switches on with the packer variable %q, but the template in %s does not declare it. Add `variable %q { type = bool, default = false }` to the template and use it to gate the %s provisioner, or choose another stack.",
				img.Name, st.Name, p.Variable, templateDir, p.Variable, st.Name),
			Subject: subject,
		})
	}
	return diags
}

// AssetDirs returns the workspace-relative asset directories a stack's
// builds depend on, sorted; none for the none stack.
func AssetDirs(st Stack) []string {
	if st.Provisioner == nil {
		return nil
	}
	dirs := []string{st.Provisioner.Dir}
	sort.Strings(dirs)
	return dirs
}
