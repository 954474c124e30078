package plan

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/provisioners"
	"github.com/hybridcore/hybrid/sources"
	"github.com/hybridcore/hybrid/templates"
)

// Workspace is a configuration joined with the packer templates its images
// use: everything validate, images and plan need to know about the desired
// state, computed without running packer or touching the network.
type Workspace struct {
	Config *config.Config
	// Parser holds every file read, for printing diagnostics with snippets.
	Parser *hclparse.Parser
	// Templates by workspace-relative template directory.
	Templates map[string]*templates.Template
	// Builds holds one entry per image per environment, sorted by address.
	Builds []*Build
}

// Build is one image in one environment: what packer will be asked to do.
type Build struct {
	Image    *config.Image
	Env      string
	Template *templates.Template
	// Only is the packer -only value selecting the image's build.
	Only   string
	Stack  provisioners.Stack
	Render *config.Render
	// Sources names the git sources the build reads from, sorted.
	Sources []string
}

// Address is the build's node address, build.<env>.<image>.
func (b *Build) Address() string { return "build." + b.Env + "." + b.Image.Name }

// RenderAddress is the address of the build's render node, render.<env>.<image>.
func (b *Build) RenderAddress() string { return "render." + b.Env + "." + b.Image.Name }

// CommandFiles lists the files packer reads for the build, workspace
// relative: the template's packer files, then the rendered var file.
func (b *Build) CommandFiles(root string) []string {
	var files []string
	for _, f := range templates.CommandFiles(b.Template, nil) {
		if rel, err := filepath.Rel(root, f); err == nil {
			f = filepath.ToSlash(rel)
		}
		files = append(files, f)
	}
	return append(files, b.Render.Path)
}

// LoadWorkspace reads hybrid.hcl in dir and every template its images use,
// renders each image's var file in each environment, and checks the whole:
// the naming rule, that each image's build exists in its template, that
// every template variable without default gets a value of the right type,
// and that each provisioning stack has its assets. The Workspace is
// returned as far as it could be built, even with errors.
func LoadWorkspace(dir string, in config.Inputs) (*Workspace, hcl.Diagnostics) {
	return LoadWorkspaceWith(dir, in, LoadOptions{})
}

// LoadOptions adjust LoadWorkspace for commands that run before the sources
// are checked out.
type LoadOptions struct {
	// SkipUnsynced leaves out, without an error, the images whose template
	// lives in a source that is not checked out yet: hybrid lock and init
	// pin and fetch sources before those templates can be read.
	SkipUnsynced bool
	// OnConfig, when set, is called once hybrid.hcl decoded without errors,
	// before the templates are read: a caller can start work that needs
	// only the configuration, such as reading the state, in parallel.
	OnConfig func(*config.Config)
}

// LoadWorkspaceWith is LoadWorkspace with options.
func LoadWorkspaceWith(dir string, in config.Inputs, opts LoadOptions) (*Workspace, hcl.Diagnostics) {
	p := hclparse.NewParser()
	cfg, diags := config.Load(p, dir, in)
	ws := &Workspace{Config: cfg, Parser: p, Templates: map[string]*templates.Template{}}
	if cfg == nil || diags.HasErrors() {
		return ws, diags
	}
	if opts.OnConfig != nil {
		opts.OnConfig(cfg)
	}
	diags = append(diags, checkSources(cfg)...)
	diags = append(diags, ws.loadTemplates(opts)...)
	// Undeclared values are reported once per layer that sets them, not once
	// per build: a shared var group would otherwise repeat for every image.
	type unused struct {
		vars, images []string
		rng          hcl.Range
	}
	undeclared := map[string]*unused{}

	// Render every image in every environment on all CPUs, then merge the
	// results in a fixed order so diagnostics and builds stay deterministic.
	type job struct {
		b     *Build
		diags hcl.Diagnostics
	}
	var jobs []*job
	for _, name := range cfg.ImageNames() {
		img := cfg.Images[name]
		tmpl := ws.Templates[img.Template]
		if tmpl == nil {
			continue
		}
		ref, ok := tmpl.FindBuild(img.Only())
		if !ok {
			diags = append(diags, missingBuild(img, tmpl))
			continue
		}
		for _, env := range cfg.ImageEnvironments(img) {
			jobs = append(jobs, &job{b: &Build{Image: img, Env: env, Template: tmpl, Only: ref.PackerName()}})
		}
	}
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		b := j.b
		img, env, tmpl := b.Image, b.Env, b.Template
		declared := func(n string) bool { _, ok := tmpl.Variables[n]; return ok }
		sensitive := func(n string) bool { return tmpl.Variables[n].Sensitive }
		b.Stack = provisioners.Choose(cfg, img, env)
		r, d := cfg.Render(img, env, []config.Layer{provisioners.Toggles(cfg, b.Stack, declared)}, sensitive, declared)
		j.diags = append(j.diags, d...)
		j.diags = append(j.diags, provisioners.Check(cfg, img, env, b.Stack, img.Template, declared)...)
		j.diags = append(j.diags, checkTemplateVariables(img, env, tmpl, r)...)
		b.Render = r
		b.Sources = ws.buildSources(b)
	})
	for _, j := range jobs {
		diags = append(diags, j.diags...)
		r := j.b.Render
		for _, v := range r.Undeclared {
			u := undeclared[r.Origins[v]]
			if u == nil {
				u = &unused{rng: originRange(r, v)}
				undeclared[r.Origins[v]] = u
			}
			u.vars = appendUnique(u.vars, v)
			u.images = appendUnique(u.images, j.b.Image.Name)
		}
		ws.Builds = append(ws.Builds, j.b)
	}
	for _, origin := range sortedKeys(undeclared) {
		u := undeclared[origin]
		sort.Strings(u.vars)
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Value for undeclared variable",
			Detail: fmt.Sprintf("%s sets %s, which the template of image %s does not declare; such values are left out of the rendered var files.",
				origin, strings.Join(u.vars, ", "), strings.Join(u.images, ", ")),
			Subject: u.rng.Ptr(),
		})
	}
	sort.Slice(ws.Builds, func(i, j int) bool { return ws.Builds[i].Address() < ws.Builds[j].Address() })
	return ws, diags
}

// loadTemplates reads each distinct template directory once and checks the
// naming rule for templates that some strict image uses.
func (ws *Workspace) loadTemplates(opts LoadOptions) hcl.Diagnostics {
	cfg := ws.Config
	var diags hcl.Diagnostics
	strict := map[string]bool{}
	type load struct {
		img   *config.Image
		abs   string
		tmpl  *templates.Template
		files map[string]*hcl.File
		diags hcl.Diagnostics
	}
	var loads []*load
	for _, name := range cfg.ImageNames() {
		img := cfg.Images[name]
		if img.Naming == config.NamingStrict {
			strict[img.Template] = true
		}
		if _, seen := ws.Templates[img.Template]; seen {
			continue
		}
		ws.Templates[img.Template] = nil
		abs := filepath.Join(cfg.Dir, filepath.FromSlash(img.Template))
		if opts.SkipUnsynced && !ws.sourceSynced(img.Template) {
			continue
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			diags = append(diags, missingTemplateDir(cfg, img, err))
			continue
		}
		loads = append(loads, &load{img: img, abs: abs})
	}
	// Parse the templates on all CPUs, each with its own parser (a parser
	// is not safe for concurrent use), then add their files to the
	// workspace's parser so diagnostics print with snippets.
	parallel(len(loads), func(i int) {
		l := loads[i]
		p := hclparse.NewParser()
		l.tmpl, l.diags = templates.Load(p, l.abs)
		l.files = p.Files()
	})
	for _, l := range loads {
		for name, f := range l.files {
			ws.Parser.AddFile(name, f)
		}
		diags = append(diags, l.diags...)
		if len(l.tmpl.Files()) == 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No packer template files",
				Detail:   fmt.Sprintf("Image %q points at %s, which holds no *.pkr.hcl or *.pkr.json file.", l.img.Name, l.img.Template),
				Subject:  l.img.TemplateRange.Ptr(),
			})
			continue
		}
		ws.Templates[l.img.Template] = l.tmpl
	}
	for _, dir := range sortedKeys(ws.Templates) {
		if tmpl := ws.Templates[dir]; tmpl != nil && strict[dir] {
			diags = append(diags, templates.CheckNaming(tmpl, cfg.Settings.OSFamilies)...)
		}
	}
	return diags
}

func missingTemplateDir(cfg *config.Config, img *config.Image, err error) *hcl.Diagnostic {
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Template directory not found",
		Detail:   fmt.Sprintf("Image %q points at %s, which is not a directory.", img.Name, img.Template),
		Subject:  img.TemplateRange.Ptr(),
	}
	if s := cfg.SourceOf(img.Template); s != nil {
		if _, serr := os.Stat(filepath.Join(cfg.Dir, filepath.FromSlash(s.Path))); serr != nil {
			d.Summary = "Source not checked out"
			d.Detail = fmt.Sprintf("Image %q uses a template in source %q, which is not checked out at %s yet. Run \"hybrid init\" to check out the sources.", img.Name, s.Name, s.Path)
		}
	}
	return d
}

func missingBuild(img *config.Image, tmpl *templates.Template) *hcl.Diagnostic {
	var have []string
	for _, ref := range tmpl.BuildSources() {
		have = append(have, ref.PackerName())
	}
	list := "it has no build block using a source"
	if len(have) > 0 {
		list = "its builds are: " + strings.Join(have, ", ")
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Build not found in template",
		Detail:   fmt.Sprintf("Image %q builds %q, but no build block in %s uses that source; %s.", img.Name, img.Only(), img.Template, list),
		Subject:  img.BuildRange.Ptr(),
	}
}

// checkTemplateVariables checks a render against the template's declared
// variables: every variable without default has a value, and every value
// fits its variable's type.
func checkTemplateVariables(img *config.Image, env string, tmpl *templates.Template, r *config.Render) hcl.Diagnostics {
	var diags hcl.Diagnostics
	autoSet := autoVarNames(tmpl)
	for _, name := range sortedKeys(tmpl.Variables) {
		v := tmpl.Variables[name]
		val, ok := r.Values[name]
		if !ok {
			if v.HasDefault || autoSet[name] || name == UpstreamVariable {
				continue
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No value for required template variable",
				Detail: fmt.Sprintf("Template variable %q (declared without default at %s) has no value for image %q in environment %q. Layers searched: %s. Set it in one of them, e.g. values = { %s = ... } in the image or environment block.",
					name, relRange(img, v.DeclRange), img.Name, env, layerList(r), name),
				Subject: img.NameRange.Ptr(),
			})
			continue
		}
		if err := templates.CheckValue(v, val); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for template variable",
				Detail:   fmt.Sprintf("For image %q in environment %q, %s (the value comes from %s).", img.Name, env, err, r.Origins[name]),
				Subject:  originRange(r, name).Ptr(),
			})
		}
	}
	return diags
}

// UpstreamVariable is the template variable through which a derived image
// receives its base images' artifacts at build time.
const UpstreamVariable = "hybrid_upstream"

// autoVarNames returns the variables the template's *.auto.pkrvars files
// set, which packer loads by itself.
func autoVarNames(tmpl *templates.Template) map[string]bool {
	out := map[string]bool{}
	for _, f := range tmpl.AutoVarFiles() {
		vf, diags := templates.ParseVarFile(nil, f)
		if diags.HasErrors() {
			continue
		}
		for n := range vf.Values {
			out[n] = true
		}
	}
	return out
}

func layerList(r *config.Render) string {
	if len(r.Layers) == 0 {
		return "none (the image has no var_files, var_groups or values)"
	}
	names := make([]string, len(r.Layers))
	for i, l := range r.Layers {
		names[i] = l.Name
	}
	return strings.Join(names, ", ")
}

// originRange is where the value of a variable in a render was written.
func originRange(r *config.Render, name string) hcl.Range {
	for i := len(r.Layers) - 1; i >= 0; i-- {
		l := r.Layers[i]
		if l.Name != r.Origins[name] {
			continue
		}
		if rng, ok := l.Ranges[name]; ok {
			return rng
		}
	}
	return hcl.Range{}
}

// buildSources returns the sources a build reads from: its template,
// working directory, var files, inputs and provisioner assets.
func (ws *Workspace) buildSources(b *Build) []string {
	cfg := ws.Config
	paths := []string{b.Image.Template, b.Image.WorkingDir}
	for _, l := range b.Render.Layers {
		if l.File != "" {
			paths = append(paths, l.File)
		}
	}
	for _, in := range b.Image.Inputs {
		paths = append(paths, globBase(in.Path))
	}
	paths = append(paths, provisioners.AssetDirs(b.Stack)...)
	var out []string
	for _, p := range paths {
		if s := cfg.SourceOf(p); s != nil {
			out = appendUnique(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

// globBase is the directory part of a glob before its first wildcard.
func globBase(glob string) string {
	i := strings.IndexAny(glob, "*?[")
	if i < 0 {
		return glob
	}
	return path.Dir(glob[:i] + "x")
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkSources rejects source names, URLs and refs that git could mistake
// for options or that run commands, before anything runs git.
func checkSources(cfg *config.Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range cfg.SourceNames() {
		s := cfg.Sources[name]
		for _, c := range []struct {
			err     error
			summary string
			rng     hcl.Range
		}{
			{sources.ValidateName(s.Name), "Invalid source name", s.NameRange},
			{sources.ValidateURL(s.URL), "Unsafe or invalid source url", s.URLRange},
			{sources.ValidateRef(s.Ref), "Invalid source ref", s.RefRange},
		} {
			if c.err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  c.summary,
					Detail:   c.err.Error() + ".",
					Subject:  c.rng.Ptr(),
				})
			}
		}
	}
	return diags
}

// relRange prints a template range relative to the workspace when it can.
func relRange(img *config.Image, rng hcl.Range) string {
	if i := strings.Index(rng.Filename, "/"+img.Template+"/"); i >= 0 {
		rng.Filename = rng.Filename[i+1:]
	}
	return fmt.Sprintf("%s:%d", rng.Filename, rng.Start.Line)
}

// LockRequirements is what the workspace asks the lockfile to pin: packer
// (the settings constraint joined with every template's required_version),
// the plugins of plugin blocks and of the templates' required_plugins, and
// every source.
func (ws *Workspace) LockRequirements() lock.Requirements {
	cfg := ws.Config
	req := lock.Requirements{PackerRange: cfg.Settings.PackerVersionRange}
	constraints := []string{cfg.Settings.PackerVersion}
	plugins := map[string]*lock.PluginRequirement{}
	addPlugin := func(source, constraint string, rng hcl.Range) {
		p := plugins[source]
		if p == nil {
			p = &lock.PluginRequirement{Source: source, DeclRange: rng}
			plugins[source] = p
		}
		p.Constraints = lock.JoinConstraints(p.Constraints, constraint)
	}
	for _, name := range sortedKeys(cfg.Plugins) {
		pl := cfg.Plugins[name]
		addPlugin(pl.Source, pl.Version, pl.DeclRange)
	}
	for _, dir := range sortedKeys(ws.Templates) {
		t := ws.Templates[dir]
		if t == nil {
			continue
		}
		for _, c := range t.RequiredVersion {
			constraints = append(constraints, c.Value)
		}
		for _, name := range sortedKeys(t.RequiredPlugins) {
			rp := t.RequiredPlugins[name]
			addPlugin(rp.Source, rp.Version, rp.Range)
		}
	}
	req.Packer = lock.JoinConstraints(constraints...)
	for _, src := range sortedKeys(plugins) {
		req.Plugins = append(req.Plugins, *plugins[src])
	}
	for _, name := range cfg.SourceNames() {
		s := cfg.Sources[name]
		req.Sources = append(req.Sources, lock.SourceRequirement{Name: s.Name, URL: s.URL, Ref: s.Ref, DeclRange: s.DeclRange})
	}
	return req
}

// sourceSynced reports whether the source holding p, if any, is checked out.
func (ws *Workspace) sourceSynced(p string) bool {
	s := ws.Config.SourceOf(p)
	if s == nil {
		return true
	}
	_, err := os.Stat(filepath.Join(ws.Config.Dir, filepath.FromSlash(s.Path), ".git"))
	return err == nil
}

// parallel calls fn(0..n-1) on all CPUs and waits for every call.
func parallel(n int, fn func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
