package provisioners

import (
	"fmt"
	"io/fs"
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
	// Provisioner is the chosen stack's settings; nil for none, and for a
	// stack inferred from the template whose default asset directory does
	// not exist (the template then names its own playbooks or manifests,
	// which are inputs of the build like any file it reads).
	Provisioner *config.Provisioner
	// Explicit is true when hybrid.hcl chose the stack (on the image or an
	// environment); false when it was inferred from the template.
	Explicit bool
}

// stackOf maps provisioner types to the stack they belong to.
var stackOf = map[string]string{
	"ansible":           config.StackAnsible,
	"ansible-local":     config.StackAnsible,
	"puppet-masterless": config.StackPuppet,
	"puppet-server":     config.StackPuppet,
}

// Infer returns the stack a template's provisioner types belong to:
// ansible when it has an ansible or ansible-local provisioner, else puppet
// for puppet-masterless or puppet-server, else none.
func Infer(types []string) string {
	found := map[string]bool{}
	for _, t := range types {
		if s, ok := stackOf[t]; ok {
			found[s] = true
		}
	}
	for _, s := range config.Stacks {
		if found[s] {
			return s
		}
	}
	return config.StackNone
}

// Stater describes workspace paths (workspace-relative, slash-separated):
// the workspace view, which keeps every path inside the workspace.
type Stater interface {
	Stat(name string) (fs.FileInfo, error)
}

// localStat is the Stater of callers that give none: the local file system
// under the workspace directory.
type localStat struct{ dir string }

func (l localStat) Stat(name string) (fs.FileInfo, error) {
	return os.Stat(filepath.Join(l.dir, filepath.FromSlash(name)))
}

func stater(cfg *config.Config, files Stater) Stater {
	if files != nil {
		return files
	}
	return localStat{cfg.Dir}
}

// Choose returns the stack img uses in env: the image's provisioner, else
// the environment's (or its parents'), else the stack inferred from types,
// the provisioner types of the template's build. files describes workspace
// paths (nil: the local file system).
func Choose(cfg *config.Config, files Stater, img *config.Image, env string, types []string) Stack {
	name, explicit := img.Provisioner, img.Provisioner != ""
	if !explicit {
		chain := cfg.EnvironmentChain(env)
		for i := len(chain) - 1; i >= 0 && !explicit; i-- {
			if chain[i].Provisioner != "" {
				name, explicit = chain[i].Provisioner, true
			}
		}
	}
	if !explicit {
		name = Infer(types)
	}
	st := Stack{Name: name, Provisioner: cfg.Provisioners[name], Explicit: explicit}
	if p := st.Provisioner; p != nil && !explicit && !declared(p) {
		// Inferred, with hybrid's default settings: the assets count only
		// where the default directory exists.
		if fi, err := stater(cfg, files).Stat(p.Dir); err != nil || !fi.IsDir() {
			st.Provisioner = nil
		}
	}
	return st
}

// declared reports whether a provisioner block in hybrid.hcl configured p.
func declared(p *config.Provisioner) bool { return p.DeclRange.Filename != "" }

// Toggles returns the layer that switches stacks in the template: the chosen
// stack's variable true, every other stack's false. Only variables the
// template declares are set, so packer sees no undeclared values.
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

// Check verifies that the chosen stack can run. Its entry file must exist
// when hybrid.hcl chose the stack or configured it with a provisioner
// block; and a stack hybrid.hcl chose must be one the template can run:
// it declares the stack's toggle variable or has a provisioner of the
// stack (types are the template build's provisioner types). Diagnostics
// point at the image's provisioner attribute, or at the block that chose
// or configured the stack.
func Check(cfg *config.Config, files Stater, img *config.Image, env string, st Stack, templateDir string, declaredVar func(string) bool, types []string) hcl.Diagnostics {
	p := st.Provisioner
	if p == nil {
		return nil
	}
	subject := img.DeclRange.Ptr()
	if img.Provisioner != "" {
		subject = img.ProvisionerRange.Ptr()
	} else if declared(p) {
		subject = p.DeclRange.Ptr()
	}
	var diags hcl.Diagnostics
	if st.Explicit || declared(p) {
		entry := p.EntryPath()
		fi, err := stater(cfg, files).Stat(entry)
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
	}
	if st.Explicit && declaredVar != nil && !declaredVar(p.Variable) && Infer(types) != st.Name {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Template cannot run the chosen provisioning stack",
			Detail: fmt.Sprintf("Image %q uses the %s stack, but the template in %s has no %s provisioner and does not declare the variable %q that hybrid switches it on with. Add `variable %q { type = bool, default = false }` to the template and use it to gate the %s provisioner, or choose another stack.",
				img.Name, st.Name, templateDir, st.Name, p.Variable, p.Variable, st.Name),
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
