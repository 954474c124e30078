package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/suggest"
	"github.com/hybridcore/hybrid/internal/wsroot"
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
	// Lock is the lockfile as read (Missing when there is none), and
	// LockDiags what reading it found wrong; LockDigest identifies its
	// bytes.
	Lock       *lock.File
	LockDiags  hcl.Diagnostics
	LockDigest string
	// Files is the workspace as the plan reads it: sources at their
	// locked commits from git objects, the rest from disk.
	Files *Files
	// Hasher digests workspace files through Files (and the stat cache,
	// when LoadOptions.Caches): plans digest their inputs with it.
	Hasher *Hasher
	// statCache and planCache are the caches loaded with Caches, and
	// tmplKeys the digests of each template's packer files.
	statCache *StatCache
	planCache *PlanCache
	tmplKeys  map[string]string
	// Templates by workspace-relative template directory.
	Templates map[string]*templates.Template
	// Builds holds one entry per image per environment, sorted by address.
	Builds []*Build
	// sourceOf memoises Config.SourceOf by path (the source's name, ""
	// for none) while builds load.
	sourceOf sync.Map
}

// Close ends the git processes the workspace's Files started.
func (ws *Workspace) Close() error {
	if ws == nil || ws.Files == nil {
		return nil
	}
	return ws.Files.Close()
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
	// Eval is what the build reads, from evaluating its template with
	// the render's values.
	Eval *templates.Evaluation
	// Sources names the git sources the build reads from, sorted.
	Sources []string
}

// SecretStrings lists every string and number of the build's sensitive
// values, for redaction: the fields of a sensitive object are secrets too.
func (b *Build) SecretStrings() []string {
	var out []string
	for _, v := range b.Render.Sensitive {
		out = append(out, config.SecretStrings(v)...)
	}
	return out
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
		if filepath.IsAbs(f) {
			if rel, err := filepath.Rel(root, f); err == nil {
				f = filepath.ToSlash(rel)
			}
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
// returned as far as it could be built, even with errors. Close it when
// done.
//
// Every mistake is reported in one pass, each once: the templates are read
// and checked even when hybrid.hcl has errors, leaving out only what those
// errors make meaningless (the merged values of an image whose
// configuration is not complete, see config.Config.Complete), and a
// problem found in several environments is one diagnostic naming them.
func LoadWorkspace(dir string, in config.Inputs) (*Workspace, hcl.Diagnostics) {
	return LoadWorkspaceWith(dir, in, LoadOptions{})
}

// LoadOptions adjust LoadWorkspace for commands that run before the sources
// are fetched.
type LoadOptions struct {
	// SkipUnsynced leaves out, without an error, the images whose template
	// lives in a source whose locked commit is not fetched yet: hybrid
	// lock and init pin and fetch sources before those templates can be
	// read.
	SkipUnsynced bool
	// OnConfig, when set, is called once hybrid.hcl decoded without errors,
	// before the templates are read: a caller can start work that needs
	// only the configuration, such as reading the state, in parallel.
	OnConfig func(*config.Config)
	// Commits, when set, are the source commits to read instead of the
	// lockfile's: hybrid lock reads the commits it is about to pin.
	Commits map[string]string
	// Git reads the sources' git objects; nil finds git on PATH when a
	// source is first read.
	Git *sources.Git
	// Caches loads the stat cache and the plan cache from the state
	// directory, so files whose stat is unchanged are not hashed again
	// and unchanged templates are neither parsed nor evaluated again;
	// SaveCaches writes them back. Commands that must write nothing
	// (validate, images) leave it off.
	Caches bool
}

// Secrets returns the digester of sensitive values for this workspace,
// with key, sharing the plan cache's digests.
func (ws *Workspace) Secrets(key []byte) *Secrets { return NewSecrets(key, ws.planCache) }

// SaveCaches writes the caches loaded with LoadOptions.Caches back to the
// state directory, when they changed.
func (ws *Workspace) SaveCaches() error {
	if ws.statCache == nil {
		return nil
	}
	dir := filepath.Join(ws.Config.Dir, filepath.FromSlash(ws.Config.Settings.Dirs.State))
	return errors.Join(
		ws.statCache.Save(filepath.Join(dir, StatCacheFilename)),
		ws.planCache.Save(filepath.Join(dir, PlanCacheFilename)),
	)
}

// LoadWorkspaceWith is LoadWorkspace with options.
func LoadWorkspaceWith(dir string, in config.Inputs, opts LoadOptions) (*Workspace, hcl.Diagnostics) {
	start := time.Now()
	p := hclparse.NewParser()
	cfg, diags := config.Load(p, dir, in)
	logPhase("read hybrid.hcl", start)
	ws := &Workspace{Config: cfg, Parser: p, Templates: map[string]*templates.Template{}}
	if cfg == nil {
		return ws, diags
	}
	if opts.OnConfig != nil && !diags.HasErrors() {
		opts.OnConfig(cfg)
	}
	t := time.Now()
	diags = append(diags, checkSources(cfg)...)
	ws.openFiles(opts)
	dirDiags := ws.checkDirs()
	diags = append(diags, dirDiags...)
	if opts.Caches && !dirDiags.HasErrors() {
		ws.loadCaches()
	}
	// The sources open with the plan cache loaded, which holds their
	// listings.
	ws.Files.Prefetch()
	cfg.SetFiles(ws.Files)
	logPhase("open the lockfile, sources and caches", t, "sources", len(cfg.Sources))
	t = time.Now()
	diags = append(diags, ws.loadTemplates(opts)...)
	logPhase("read templates", t, "templates", len(ws.Templates))
	t = time.Now()
	// Undeclared values are reported once per layer that sets them, not once
	// per build: a shared var group would otherwise repeat for every image.
	type unused struct {
		vars, images []string
		rng          hcl.Range
		// near holds, for a variable that is likely a misspelling, the
		// template variable it was meant to set.
		near map[string]string
	}
	undeclared := map[string]*unused{}

	// Render and evaluate every image in every environment on all CPUs,
	// then merge the results in a fixed order so diagnostics and builds
	// stay deterministic.
	type job struct {
		b     *Build
		found []envDiag
	}
	var jobs []*job
	for _, name := range cfg.ImageNames() {
		img := cfg.Images[name]
		tmpl := ws.Templates[img.Template]
		if tmpl == nil || img.Builder == "" || (opts.SkipUnsynced && !ws.varFilesReadable(img)) {
			continue
		}
		only := img.Only()
		if ref, ok := tmpl.FindBuild(only); ok {
			only = ref.PackerName()
		} else if !tmpl.HasDynamicBuilds() {
			diags = append(diags, missingBuild(img, tmpl))
			continue
		}
		for _, env := range cfg.ImageEnvironments(img) {
			if !cfg.Complete(img, env) {
				continue // its errors are reported; its values mean nothing
			}
			jobs = append(jobs, &job{b: &Build{Image: img, Env: env, Template: tmpl, Only: only}})
		}
	}
	// What every build of a template checks its values against, once per
	// template.
	vars := map[*templates.Template]*templateVars{}
	for _, t := range ws.Templates {
		if t != nil {
			vars[t] = &templateVars{names: sortedKeys(t.Variables), auto: autoVarNames(t)}
		}
	}
	packerVersion := ""
	if ws.Lock != nil && ws.Lock.Packer != nil {
		packerVersion = ws.Lock.Packer.Version
	}
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		b := j.b
		img, env, tmpl := b.Image, b.Env, b.Template
		declared := func(n string) bool { _, ok := tmpl.Variables[n]; return ok }
		sensitive := func(n string) bool { return tmpl.Variables[n].Sensitive }
		types := tmpl.ProvisionerTypes(b.Only)
		b.Stack = provisioners.Choose(cfg, ws.Files, img, env, types)
		r, d := cfg.Render(img, env, []config.Layer{provisioners.Toggles(cfg, b.Stack, declared)}, sensitive, declared)
		for _, diag := range d {
			j.found = append(j.found, perEnv(diag, env))
		}
		for _, diag := range provisioners.Check(cfg, ws.Files, img, env, b.Stack, img.Template, declared, types) {
			j.found = append(j.found, perEnv(diag, env))
		}
		j.found = append(j.found, checkTemplateVariables(img, env, tmpl, vars[tmpl], r)...)
		b.Render = r
		b.Eval = ws.evaluate(tmpl, b.Only, templates.Scope{
			Files: ws.Files, Root: cfg.Dir, Dir: img.Template, PathRoot: filepath.Join(cfg.Dir, filepath.FromSlash(img.Template)),
			WorkingDir: img.WorkingDir, Values: r.Values, PackerVersion: packerVersion,
		})
		if !b.Eval.Found {
			j.found = append(j.found, missingBuildIn(img, tmpl, env, b.Eval))
		} else {
			b.Only = b.Eval.Build.PackerName()
		}
		b.Sources = ws.buildSources(b)
	})
	strictUses := map[string][]templates.SourceRef{}
	var found []envDiag
	for _, j := range jobs {
		found = append(found, j.found...)
		r := j.b.Render
		for _, v := range r.Undeclared {
			u := undeclared[r.Origins[v]]
			if u == nil {
				u = &unused{rng: originRange(r, v), near: map[string]string{}}
				undeclared[r.Origins[v]] = u
			}
			u.vars = appendUnique(u.vars, v)
			if near := suggest.Closest(v, sortedKeys(j.b.Template.Variables)); near != "" && u.near[v] == "" {
				u.near[v] = near
			}
			u.images = appendUnique(u.images, j.b.Image.Name)
		}
		if j.b.Eval.Found && j.b.Image.Naming == config.NamingStrict {
			strictUses[j.b.Image.Template] = append(strictUses[j.b.Image.Template], j.b.Eval.Build)
		}
		ws.Builds = append(ws.Builds, j.b)
	}
	diags = append(diags, mergeEnvDiags(found)...)
	for _, dir := range sortedKeys(strictUses) {
		diags = append(diags, templates.CheckNamingOf(ws.Templates[dir], strictUses[dir], cfg.Settings.OSFamilies)...)
	}
	for _, origin := range sortedKeys(undeclared) {
		u := undeclared[origin]
		sort.Strings(u.vars)
		shown := make([]string, len(u.vars))
		for i, v := range u.vars {
			shown[i] = v
			if near := u.near[v]; near != "" {
				shown[i] += fmt.Sprintf(" (did you mean %s?)", near)
			}
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Value for undeclared variable",
			Detail: fmt.Sprintf("%s sets %s, which the template of image %s does not declare; such values are left out of the rendered var files.",
				origin, strings.Join(shown, ", "), strings.Join(u.images, ", ")),
			Subject: u.rng.Ptr(),
		})
	}
	sort.Slice(ws.Builds, func(i, j int) bool { return ws.Builds[i].Address() < ws.Builds[j].Address() })
	logPhase("render and check every build", t, "builds", len(ws.Builds))
	logPhase("load the workspace", start)
	return ws, config.DedupeDiags(diags)
}

// openFiles reads the lockfile and opens the workspace view: every source
// the lockfile (or opts.Commits) pins is read from git objects at that
// commit.
func (ws *Workspace) openFiles(opts LoadOptions) {
	cfg := ws.Config
	path := filepath.Join(cfg.Dir, lock.DefaultFilename)
	ws.Lock, ws.LockDigest, ws.LockDiags = readLock(ws.Parser, cfg.Dir, path)
	commits := map[string]string{}
	if ws.Lock != nil {
		for name, pin := range ws.Lock.Sources {
			if s := cfg.Sources[name]; s != nil && pin.URL == s.URL && pin.Ref == s.Ref {
				commits[name] = pin.Commit
			}
		}
	}
	for name, c := range opts.Commits {
		commits[name] = c
	}
	dirs := map[string]string{}
	for name, s := range cfg.Sources {
		dirs[name] = s.Path
	}
	root := filepath.Join(cfg.Dir, filepath.FromSlash(cfg.Settings.Dirs.Sources))
	var gitOnce sync.Once
	g := opts.Git
	var gitErr error
	open := func(ctx context.Context, name, commit string) (SourceTree, error) {
		gitOnce.Do(func() {
			if g == nil {
				g, gitErr = sources.NewGit()
			}
		})
		if gitErr != nil {
			return nil, gitErr
		}
		// The store usually has the commit: open it there, from the
		// listing a plan saved (without running git) or at once, and
		// ask where else to look only when it does not.
		store := g.Store(root, name).Dir()
		if l := ws.planCache.listing(commit); l != nil {
			if t, err := g.OpenListed(ctx, store, l); err == nil {
				return t, nil
			}
		}
		t, err := g.OpenTree(ctx, store, commit)
		fromStore := err == nil
		if err != nil {
			gitDir, oerr := g.ObjectsFor(ctx, root, name, commit)
			if oerr != nil {
				return nil, oerr
			}
			if t, err = g.OpenTree(ctx, gitDir, commit); err != nil {
				return nil, err
			}
		}
		// A plan walks many directories of each source: read the whole
		// listing at once (if that fails, directories are read one by
		// one), and keep it for the next plan when the store has it.
		if err := t.LoadAll(); err == nil && fromStore {
			ws.planCache.putListing(t.Listing())
		}
		return t, nil
	}
	ws.Files = NewFiles(context.Background(), cfg.Dir, dirs, commits, open)
	ws.tmplKeys = map[string]string{}
	ws.Hasher = NewHasherFor(ws.Files, nil)
}

// loadCaches loads the stat and plan caches from the state directory, once
// checkDirs vouched that neither file is a link.
func (ws *Workspace) loadCaches() {
	dir := filepath.Join(ws.Config.Dir, filepath.FromSlash(ws.Config.Settings.Dirs.State))
	ws.statCache = LoadStatCache(filepath.Join(dir, StatCacheFilename))
	ws.planCache = LoadPlanCache(filepath.Join(dir, PlanCacheFilename))
	ws.Files.blobs = ws.planCache
	ws.Hasher = NewHasherFor(ws.Files, ws.statCache)
}

// readLock reads the lockfile at path (in the workspace dir) through
// os.Root, so a lockfile that is a link leading outside the workspace is
// refused without being read, and returns it with the digest of its bytes.
func readLock(p *hclparse.Parser, dir, path string) (*lock.File, string, hcl.Diagnostics) {
	root, err := wsroot.Open(dir)
	if err != nil {
		return &lock.File{}, "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the lockfile", Detail: fmt.Sprintf("%v.", err)}}
	}
	defer root.Close()
	src, err := root.ReadFile(lock.DefaultFilename)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &lock.File{Missing: true}, "", nil
	case err != nil:
		return &lock.File{}, "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the lockfile",
			Detail: fmt.Sprintf("%v. Make %s a regular file inside the workspace (hybrid lock writes it).", err, lock.DefaultFilename)}}
	}
	f, diags := lock.ParseWith(p, src, path)
	return f, Digest(src), diags
}

// observe says what a workspace path holds now, for template evaluations
// to record and the plan cache to check.
func (ws *Workspace) observe(kind, path string) string {
	switch kind {
	case "glob":
		t, err := ws.Hasher.Glob(path)
		if err != nil {
			return "error"
		}
		return t.Digest
	default:
		t, err := ws.Hasher.Files(path)
		if err != nil {
			return "error"
		}
		return t.Files[path]
	}
}

// templateKey digests the files packer loads from a template directory.
func (ws *Workspace) templateKey(dir string) (string, error) {
	packer, auto, err := templates.ListFiles(ws.Files, dir)
	if err != nil {
		return "", err
	}
	t, err := ws.Hasher.Files(append(packer, auto...)...)
	if err != nil {
		return "", err
	}
	return t.Digest, nil
}

// evaluate evaluates a build's template, through the plan cache when a
// cached evaluation's key and observations still hold.
func (ws *Workspace) evaluate(tmpl *templates.Template, only string, s templates.Scope) *templates.Evaluation {
	s.Observe = ws.observe
	tkey, cached := ws.tmplKeys[tmpl.Dir]
	if !cached || ws.planCache == nil {
		return tmpl.Evaluate(only, s)
	}
	key, ok := tmpl.EvalKey(only, s)
	if !ok {
		return tmpl.Evaluate(only, s)
	}
	key = tkey + "\x00" + key
	check := func(o templates.Observation) bool { return ws.observe(o.Kind, o.Path) == o.Value }
	if ev := ws.planCache.evaluation(key, check); ev != nil {
		return ev
	}
	ev := tmpl.Evaluate(only, s)
	ws.planCache.putEvaluation(key, ev)
	return ev
}

// checkDirs checks the directories hybrid writes into (sources, configs,
// state, logs): each that exists must be a real directory inside the
// workspace, so nothing hybrid writes lands elsewhere.
func (ws *Workspace) checkDirs() hcl.Diagnostics {
	root := ws.Files.Workspace()
	if root == nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot open the workspace",
			Detail: fmt.Sprintf("%s: %v.", ws.Config.Dir, ws.Files.wsErr)}}
	}
	d := ws.Config.Settings.Dirs
	var subject *hcl.Range
	if r := ws.Config.Settings.DeclRange; r.Filename != "" {
		subject = r.Ptr()
	}
	var diags hcl.Diagnostics
	for _, dir := range []string{d.Sources, d.Configs, d.State, d.Logs} {
		if err := root.CheckDir(dir); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Workspace directory is not a real directory",
				Detail:   fmt.Sprintf("%v.", err),
				Subject:  subject,
			})
		}
	}
	// The files hybrid writes in place (or reads back) must not be links
	// either: a write would follow one out of the workspace.
	state := path.Join(d.State, "packer-hybrid.json")
	for _, f := range []string{
		lock.DefaultFilename, state, state + ".backup", state + ".lock", state + ".lock.info", state + ".summary",
		path.Join(d.State, StatCacheFilename), path.Join(d.State, PlanCacheFilename), path.Join(d.State, DigestKeyFilename), path.Join(d.State, MemoFilename),
		path.Join(d.Logs, "hybrid.log"),
	} {
		if fi, err := root.Lstat(f); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "A file hybrid writes is a symbolic link",
				Detail:   fmt.Sprintf("%s is a symbolic link. hybrid writes this file and never follows a link out of the workspace: remove the link (hybrid makes the file).", f),
				Subject:  subject,
			})
		}
	}
	return diags
}

// varFilesReadable reports whether every var file an image's layers name
// inside a source can be read: commands that run before the sources are
// fetched leave out the images whose var files they cannot read yet.
func (ws *Workspace) varFilesReadable(img *config.Image) bool {
	cfg := ws.Config
	var refs []config.FileRef
	refs = append(refs, img.VarFiles...)
	for _, g := range img.VarGroups {
		if vg := cfg.VarGroups[g.Name]; vg != nil {
			refs = append(refs, vg.VarFiles...)
		}
	}
	for _, env := range cfg.ImageEnvironments(img) {
		for _, e := range cfg.EnvironmentChain(env) {
			refs = append(refs, e.VarFiles...)
		}
	}
	for _, f := range refs {
		if cfg.SourceOf(f.Path) == nil {
			continue
		}
		if _, err := ws.Files.Stat(f.Path); err != nil {
			return false
		}
	}
	return true
}

// loadTemplates reads each distinct template directory once.
func (ws *Workspace) loadTemplates(opts LoadOptions) hcl.Diagnostics {
	cfg := ws.Config
	var diags hcl.Diagnostics
	type load struct {
		img   *config.Image
		key   string
		tmpl  *templates.Template
		files map[string]*hcl.File
		diags hcl.Diagnostics
	}
	var loads []*load
	for _, name := range cfg.ImageNames() {
		img := cfg.Images[name]
		if img.Template == "" {
			continue // the template attribute had an error, reported
		}
		if _, seen := ws.Templates[img.Template]; seen {
			continue
		}
		ws.Templates[img.Template] = nil
		fi, err := ws.Files.Stat(img.Template)
		if err != nil && opts.SkipUnsynced && cfg.SourceOf(img.Template) != nil {
			continue
		}
		if err != nil || !fi.IsDir() {
			diags = append(diags, ws.missingTemplateDir(img, err))
			continue
		}
		loads = append(loads, &load{img: img})
	}
	// Parse the templates on all CPUs, each with its own parser (a parser
	// is not safe for concurrent use), then add their files to the
	// workspace's parser so diagnostics print with snippets. A template
	// whose packer files are unchanged since a cached plan is restored
	// from its snapshot instead; one that loads cleanly is cached.
	parallel(len(loads), func(i int) {
		l := loads[i]
		dir := l.img.Template
		if ws.planCache != nil {
			if key, err := ws.templateKey(dir); err == nil {
				l.key = key
				if snap := ws.planCache.template(dir, key); snap != nil {
					if t, err := templates.Restore(snap, ws.Files); err == nil {
						l.tmpl = t
						return
					}
				}
			}
		}
		p := hclparse.NewParser()
		l.tmpl, l.diags = templates.LoadFrom(p, ws.Files, dir)
		l.files = p.Files()
		if l.key != "" && len(l.diags) == 0 && len(l.tmpl.Files()) > 0 {
			if snap, err := l.tmpl.Snapshot(); err == nil {
				ws.planCache.putTemplate(dir, l.key, snap)
			}
		}
	})
	for _, l := range loads {
		if l.key != "" {
			ws.tmplKeys[l.img.Template] = l.key
		}
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
	return diags
}

func (ws *Workspace) missingTemplateDir(img *config.Image, err error) *hcl.Diagnostic {
	cfg := ws.Config
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Template directory not found",
		Detail:   fmt.Sprintf("Image %q points at %s, which is not a directory.%s", img.Name, img.Template, ws.nearDir(img.Template)),
		Subject:  img.TemplateRange.Ptr(),
	}
	s := cfg.SourceOf(img.Template)
	if s == nil {
		return d
	}
	var nf *sources.NotFetchedError
	switch {
	case errors.As(err, &nf):
		d.Summary = "Source not fetched"
		d.Detail = fmt.Sprintf("Image %q uses a template in source %q: %v.", img.Name, s.Name, nf)
	case ws.Lock == nil || ws.Lock.Sources[s.Name] == nil:
		if _, serr := os.Stat(filepath.Join(cfg.Dir, filepath.FromSlash(s.Path))); serr != nil {
			d.Summary = "Source not checked out"
			d.Detail = fmt.Sprintf("Image %q uses a template in source %q, which is not locked nor checked out at %s yet. Run \"hybrid init\" to pin and fetch the sources.", img.Name, s.Name, s.Path)
		}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		d.Summary = "Cannot read source"
		d.Detail = fmt.Sprintf("Image %q uses a template in source %q: %v.", img.Name, s.Name, err)
	default:
		d.Detail = fmt.Sprintf("Image %q points at %s, which is not a directory at the locked commit %s of source %q.", img.Name, img.Template, shortCommit(ws.Lock.Sources[s.Name].Commit), s.Name)
	}
	return d
}

// nearDir is " Did you mean DIR?" for the directory next to dir whose name
// is nearest to its own, or "" when none is near (or dir's parent cannot be
// read).
func (ws *Workspace) nearDir(dir string) string {
	parent, base := path.Split(dir)
	parent = strings.TrimSuffix(parent, "/")
	if parent == "" {
		parent = "."
	}
	entries, err := ws.Files.ReadDir(parent)
	if err != nil {
		return ""
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs)
	near := suggest.Closest(base, dirs)
	if near == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", path.Join(parent, near))
}

// missingBuild reports an image whose build no build block of its template
// starts, as the template is written.
func missingBuild(img *config.Image, tmpl *templates.Template) *hcl.Diagnostic {
	var have []string
	for _, ref := range tmpl.BuildSources() {
		have = append(have, ref.PackerName())
	}
	return buildNotFound(img, tmpl, "", have, "")
}

// missingBuildIn reports an image whose build no build block starts once
// the template is evaluated with the image's values in env.
func missingBuildIn(img *config.Image, tmpl *templates.Template, env string, ev *templates.Evaluation) envDiag {
	unresolved := ""
	if len(ev.Unresolved) > 0 {
		unresolved = fmt.Sprintf("; the sources of a build block are not known before the build (%s), so hybrid cannot tell which it starts", ev.Unresolved[0])
	}
	return envDiag{
		key: "build not found\x00" + img.Name + "\x00" + strings.Join(ev.Builds, "\x00") + "\x00" + unresolved,
		env: env,
		diag: func(envs, _ []string) *hcl.Diagnostic {
			return buildNotFound(img, tmpl, " with the values of "+envMention(envs), ev.Builds, unresolved)
		},
	}
}

// buildNotFound is the diagnostic of missingBuild and missingBuildIn: where
// says in which environments, have lists the builds the template starts.
func buildNotFound(img *config.Image, tmpl *templates.Template, where string, have []string, unresolved string) *hcl.Diagnostic {
	list := "it has no build block using a source"
	if len(have) > 0 {
		list = "its builds are: " + strings.Join(have, ", ")
	}
	list += unresolved
	hint := ""
	if near := suggest.Closest(img.Only(), have); near != "" {
		hint = fmt.Sprintf(" Did you mean build = %q?", near)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Build not found in template",
		Detail:   fmt.Sprintf("Image %q builds %q, but%s no build block in %s uses that source; %s.%s", img.Name, img.Only(), where, img.Template, list, hint),
		Subject:  img.BuildRange.Ptr(),
	}
}

// checkTemplateVariables checks a render against the template's declared
// variables: every variable without default has a value, and every value
// fits its variable's type.
func checkTemplateVariables(img *config.Image, env string, tmpl *templates.Template, tv *templateVars, r *config.Render) []envDiag {
	var found []envDiag
	if tv == nil {
		tv = &templateVars{names: sortedKeys(tmpl.Variables), auto: autoVarNames(tmpl)}
	}
	autoSet := tv.auto
	for _, name := range tv.names {
		v := tmpl.Variables[name]
		val, ok := r.Values[name]
		if !ok {
			if v.HasDefault || autoSet[name] || name == UpstreamVariable {
				continue
			}
			found = append(found, envDiag{
				key:    "no value\x00" + img.Name + "\x00" + name,
				env:    env,
				layers: layerNames(r),
				diag: func(envs, layers []string) *hcl.Diagnostic {
					searched := "none (the image has no var_files, var_groups or values)"
					if len(layers) > 0 {
						searched = strings.Join(layers, ", ")
					}
					return &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "No value for required template variable",
						Detail: fmt.Sprintf("Template variable %q (declared without default at %s) has no value for image %q in %s. Layers searched: %s. Set it in one of them, e.g. values = { %s = ... } in the image or environment block.",
							name, relRange(img, v.DeclRange), img.Name, envMention(envs), searched, name),
						Subject: img.NameRange.Ptr(),
					}
				},
			})
			continue
		}
		if err := templates.CheckValue(v, val); err != nil {
			origin, rng := r.Origins[name], originRange(r, name)
			found = append(found, envDiag{
				key: "invalid value\x00" + img.Name + "\x00" + name + "\x00" + origin + "\x00" + rng.String() + "\x00" + err.Error(),
				env: env,
				diag: func(envs, _ []string) *hcl.Diagnostic {
					return &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Invalid value for template variable",
						Detail:   fmt.Sprintf("For image %q in %s, %s (the value comes from %s).", img.Name, envMention(envs), err, origin),
						Subject:  rng.Ptr(),
					}
				},
			})
		}
	}
	return found
}

// templateVars is what checkTemplateVariables needs of a template for
// every build: its variable names, sorted, and those its auto var files
// set.
type templateVars struct {
	names []string
	auto  map[string]bool
}

// UpstreamVariable is the template variable through which a derived image
// receives its base images' artifacts at build time.
const UpstreamVariable = "hybrid_upstream"

// autoVarNames returns the variables the template's *.auto.pkrvars files
// set, which packer loads by itself.
func autoVarNames(tmpl *templates.Template) map[string]bool {
	out := map[string]bool{}
	for n := range tmpl.AutoValues() {
		out[n] = true
	}
	return out
}

// layerNames lists the names of a render's layers, in order.
func layerNames(r *config.Render) []string {
	names := make([]string, len(r.Layers))
	for i, l := range r.Layers {
		names[i] = l.Name
	}
	return names
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
// working directory, var files, inputs, provisioner assets and every path
// its template reads.
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
	if b.Eval != nil {
		for _, in := range b.Eval.Inputs {
			p := in.Path
			if in.Kind == templates.InputGlob {
				p = globBase(p)
			}
			paths = append(paths, p)
		}
	}
	var out []string
	for _, p := range paths {
		// Builds share most paths: each is looked up once per plan.
		name, ok := ws.sourceOf.Load(p)
		if !ok {
			n := ""
			if s := cfg.SourceOf(p); s != nil {
				n = s.Name
			}
			ws.sourceOf.Store(p, n)
			name = n
		}
		if n := name.(string); n != "" {
			out = appendUnique(out, n)
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
