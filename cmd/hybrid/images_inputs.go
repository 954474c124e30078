package main

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/templates"
)

// inputsFormatVersion versions the document "hybrid images -inputs -json"
// prints; fields are stable within a major version.
const inputsFormatVersion = "1.0"

// The kinds of build input, as "images -inputs" names them. Most are the
// prefix of the fingerprint input they count under (plan -json's
// changes[].inputs); kindGit and kindUntracked are read by the build but
// are not in its fingerprint.
const (
	kindTemplate    = "template"     // a packer file of the template directory
	kindRead        = "read"         // a file or directory the evaluated template reads
	kindGlob        = "glob"         // a pattern the evaluated template reads
	kindTemplateDir = "template_dir" // the whole template directory, for an expression not known before the build
	kindInputs      = "inputs"       // an image's inputs glob in hybrid.hcl
	kindProvisioner = "provisioner"  // the asset directory of the build's provisioning stack
	kindVarFile     = "var_file"     // the var file hybrid renders for the build
	kindSensitive   = "sensitive"    // a sensitive value, by a salted digest
	kindSource      = "source"       // a source's locked commit
	kindPacker      = "packer"       // the locked packer version
	kindPlugin      = "plugin"       // a locked plugin version
	kindUpstream    = "upstream"     // a base image's fingerprint
	kindGit         = "git_metadata" // git metadata read outside any source: not an input
	kindUntracked   = "untracked"    // a path outside the workspace: not an input
)

// inputsDoc is what "hybrid images -inputs" shows: every build in scope
// with every input of its fingerprint and why it is one.
type inputsDoc struct {
	FormatVersion string        `json:"format_version"`
	Builds        []buildInputs `json:"builds"`
	// Diagnostics are the run's warnings, when there are any.
	Diagnostics []jsonDiagnostic `json:"diagnostics,omitempty"`
}

// buildInputs is one build and its inputs, in the order the fingerprint
// takes them, then what the build reads that is not fingerprinted.
type buildInputs struct {
	Address     string       `json:"address"`
	Image       string       `json:"image"`
	Environment string       `json:"environment"`
	Template    string       `json:"template"`
	Build       string       `json:"build"`
	WorkingDir  string       `json:"working_dir"`
	Stack       stackInfo    `json:"stack"`
	Inputs      []buildInput `json:"inputs"`
}

// stackInfo says which provisioning stack a build uses and who chose it.
type stackInfo struct {
	Name string `json:"name"`
	// Explicit is true when hybrid.hcl chose the stack, false when it was
	// inferred from the template's provisioners.
	Explicit bool `json:"explicit"`
	// ChosenBy is "image NAME" or "environment NAME" when explicit,
	// "template" when inferred.
	ChosenBy string `json:"chosen_by"`
	// Assets is the stack's asset directory when it is an input, else "".
	Assets string `json:"assets"`
	// Note says in words what the fields say, for people.
	Note string `json:"note"`
}

// buildInput is one input of a build.
type buildInput struct {
	Kind string `json:"kind"`
	// Path is the workspace-relative path of a file input (as written, for
	// an untracked one), "" for the others.
	Path string `json:"path"`
	// Directory is true for a path read as a whole directory.
	Directory bool `json:"directory"`
	// Name and Value identify an input that is not a file: a variable, a
	// source and its locked commit, packer or a plugin and its version, a
	// base image's address.
	Name  string `json:"name"`
	Value string `json:"value"`
	// Fingerprinted is false for what the build reads but hybrid cannot
	// fingerprint; FingerprintKey is the input's key in the fingerprint
	// (plan -json's changes[].inputs), "" when not fingerprinted.
	Fingerprinted  bool   `json:"fingerprinted"`
	FingerprintKey string `json:"fingerprint_key"`
	// Reason says why it is an input, in words.
	Reason string `json:"reason"`
	// Reads are the places that make it one (template lines, hybrid.hcl
	// lines).
	Reads []inputRead `json:"reads"`
}

// inputRead is one place that makes a path an input.
type inputRead struct {
	What string `json:"what"`
	File string `json:"file"`
	Line int    `json:"line"`
}

// String is "WHAT at FILE:LINE", as plan's reasons say it.
func (r inputRead) String() string {
	if r.File == "" {
		return r.What
	}
	return fmt.Sprintf("%s at %s:%d", r.What, r.File, r.Line)
}

// collectInputs lists the inputs of each build, in the order and under the
// keys plan's fingerprint takes them (plan.(*planner).build), with the
// places in the template and hybrid.hcl that make each one an input.
func collectInputs(ws *plan.Workspace, builds []*plan.Build) *inputsDoc {
	doc := &inputsDoc{FormatVersion: inputsFormatVersion, Builds: []buildInputs{}}
	inScope := map[string]bool{}
	for _, b := range ws.Builds {
		inScope[b.Address()] = true
	}
	for _, b := range builds {
		doc.Builds = append(doc.Builds, buildInputsOf(ws, b, inScope))
	}
	return doc
}

func buildInputsOf(ws *plan.Workspace, b *plan.Build, exists map[string]bool) buildInputs {
	cfg := ws.Config
	img := b.Image
	out := buildInputs{
		Address: b.Address(), Image: img.Name, Environment: b.Env,
		Template: img.Template, Build: b.Only, WorkingDir: img.WorkingDir,
		Stack: stackOf(cfg, b), Inputs: []buildInput{},
	}
	add := func(in buildInput) {
		if in.Reads == nil {
			in.Reads = []inputRead{}
		}
		if in.FingerprintKey != "" {
			in.Fingerprinted = true
		}
		out.Inputs = append(out.Inputs, in)
	}
	rel := func(r hcl.Range) inputRead {
		return inputRead{File: wsRel(cfg.Dir, r.Filename), Line: r.Start.Line}
	}
	reads := func(rs []templates.Read) []inputRead {
		var list []inputRead
		for _, r := range rs {
			ir := rel(r.Range)
			ir.What = r.What
			list = append(list, ir)
		}
		return list
	}

	for _, f := range b.Template.Files() {
		add(buildInput{Kind: kindTemplate, Path: f, FingerprintKey: "template",
			Reason: "packer loads it from the template directory"})
	}
	for _, f := range b.Template.AutoVarFiles() {
		add(buildInput{Kind: kindTemplate, Path: f, FingerprintKey: "template",
			Reason: "packer loads its values from the template directory"})
	}
	if b.Eval != nil {
		for _, in := range b.Eval.Inputs {
			if in.Kind == templates.InputGlob {
				add(buildInput{Kind: kindGlob, Path: in.Path, FingerprintKey: "glob:" + in.Path,
					Reason: "the template reads the files matching it", Reads: reads(in.Reads)})
				continue
			}
			dir := false
			if fi, err := ws.Files.Stat(in.Path); err == nil && fi.IsDir() {
				dir = true
			}
			reason := "the template reads it"
			if dir {
				reason = "the template reads the whole directory"
			}
			add(buildInput{Kind: kindRead, Path: in.Path, Directory: dir, FingerprintKey: "read:" + in.Path,
				Reason: reason, Reads: reads(in.Reads)})
		}
		if len(b.Eval.Widened) > 0 {
			add(buildInput{Kind: kindTemplateDir, Path: img.Template, Directory: true, FingerprintKey: "template_dir",
				Reason: "an expression is not known before the build, so every file of the template directory is an input",
				Reads:  reads(b.Eval.Widened)})
		}
	}
	for _, in := range img.Inputs {
		r := rel(in.Range)
		r.What = fmt.Sprintf("inputs of image %s", img.Name)
		add(buildInput{Kind: kindInputs, Path: in.Path, FingerprintKey: "inputs:" + in.Path,
			Reason: "the image lists it in inputs", Reads: []inputRead{r}})
	}
	if p := b.Stack.Provisioner; p != nil {
		add(buildInput{Kind: kindProvisioner, Path: p.Dir, Directory: true, Name: b.Stack.Name,
			FingerprintKey: "provisioner:" + b.Stack.Name,
			Reason:         fmt.Sprintf("the assets of the %s stack the build uses", b.Stack.Name)})
	}
	add(buildInput{Kind: kindVarFile, Path: b.Render.Path, FingerprintKey: "var_file",
		Reason: fmt.Sprintf("the var file hybrid renders for the build (%s)", b.RenderAddress())})
	sensitive := make([]string, 0, len(b.Render.Sensitive))
	for name := range b.Render.Sensitive {
		sensitive = append(sensitive, name)
	}
	sort.Strings(sensitive)
	for _, name := range sensitive {
		add(buildInput{Kind: kindSensitive, Name: "var." + name, FingerprintKey: "sensitive:" + name,
			Reason: fmt.Sprintf("a salted digest of the sensitive value; packer gets it as PKR_VAR_%s", name)})
	}

	// Git metadata: the commit of the template's source is an input when
	// the template reads git metadata or the source asks for it.
	var gitReads []inputRead
	if b.Eval != nil {
		for _, r := range b.Eval.GitReads {
			ir := rel(r.Range)
			ir.What = r.What
			if what, p := splitQuotedPath(r.What); p != "" {
				ir.What = what + " reads " + resolveRead(cfg.Dir, img.WorkingDir, p)
			}
			gitReads = append(gitReads, ir)
		}
	}
	src := cfg.SourceOf(img.Template)
	if src != nil && (len(gitReads) > 0 || src.RebuildOnCommit) {
		in := buildInput{Kind: kindSource, Name: src.Name, Reads: gitReads}
		if ws.Lock != nil && ws.Lock.Sources[src.Name] != nil {
			in.Value = ws.Lock.Sources[src.Name].Commit
			in.FingerprintKey = "source:" + src.Name
		}
		switch {
		case len(gitReads) > 0:
			in.Reason = fmt.Sprintf("the template reads git metadata, so the commit of source %s is an input", src.Name)
		default:
			in.Reason = fmt.Sprintf("source %s sets rebuild_on_commit = true, so its commit is an input", src.Name)
		}
		if src.RebuildOnCommit {
			r := rel(src.DeclRange)
			r.What = fmt.Sprintf("rebuild_on_commit = true in source %q", src.Name)
			in.Reads = append(in.Reads, r)
		}
		if in.Value == "" {
			in.Reason += fmt.Sprintf("; %s does not pin it yet (run hybrid lock)", lock.DefaultFilename)
		}
		add(in)
	}

	if ws.Lock != nil && ws.Lock.Packer != nil && ws.Lock.Packer.Version != "" {
		add(buildInput{Kind: kindPacker, Name: "packer", Value: ws.Lock.Packer.Version, FingerprintKey: "packer",
			Reason: fmt.Sprintf("the packer version %s pins", lock.DefaultFilename)})
	}
	pluginNames := make([]string, 0, len(b.Template.RequiredPlugins))
	for name := range b.Template.RequiredPlugins {
		pluginNames = append(pluginNames, name)
	}
	sort.Strings(pluginNames)
	for _, name := range pluginNames {
		rp := b.Template.RequiredPlugins[name]
		r := rel(rp.Range)
		r.What = fmt.Sprintf("required_plugins %s", name)
		in := buildInput{Kind: kindPlugin, Name: rp.Source, Reads: []inputRead{r}}
		if ws.Lock != nil && ws.Lock.Plugins[rp.Source] != nil {
			in.Value = ws.Lock.Plugins[rp.Source].Version
			in.FingerprintKey = "plugin:" + rp.Source
			in.Reason = fmt.Sprintf("the template requires it; the version %s pins", lock.DefaultFilename)
		} else {
			in.Reason = fmt.Sprintf("the template requires it, but %s does not pin it yet (run hybrid lock)", lock.DefaultFilename)
		}
		add(in)
	}
	for _, dep := range img.DependsOn {
		addr := state.BuildAddr(b.Env, dep.Name)
		if !exists[addr] {
			continue
		}
		add(buildInput{Kind: kindUpstream, Name: addr, FingerprintKey: "upstream:" + addr,
			Reason: fmt.Sprintf("the image depends on %s and is built from its artifact: a rebuild of it rebuilds this one", dep.Name)})
	}

	// What the build reads that hybrid cannot fingerprint.
	if src == nil && b.Eval != nil {
		for _, r := range b.Eval.GitReads {
			what, p := splitQuotedPath(r.What)
			ir := rel(r.Range)
			ir.What = what
			add(buildInput{Kind: kindGit, Path: resolveRead(cfg.Dir, img.WorkingDir, p),
				Reason: "the template reads git metadata, but it is not inside a source: no commit is an input, and a commit rebuilds nothing",
				Reads:  []inputRead{ir}})
		}
	}
	if b.Eval != nil {
		for _, r := range b.Eval.Untracked {
			what, p := splitQuotedPath(r.What)
			ir := rel(r.Range)
			ir.What = what
			add(buildInput{Kind: kindUntracked, Path: p,
				Reason: "outside the workspace: hybrid cannot fingerprint it, so a change to it rebuilds nothing",
				Reads:  []inputRead{ir}})
		}
	}
	return out
}

// stackOf describes a build's provisioning stack and who chose it.
func stackOf(cfg *config.Config, b *plan.Build) stackInfo {
	st := b.Stack
	info := stackInfo{Name: st.Name, Explicit: st.Explicit, ChosenBy: "template"}
	inherited := ""
	if st.Explicit {
		if b.Image.Provisioner != "" {
			info.ChosenBy = "image " + b.Image.Name
		} else {
			chain := cfg.EnvironmentChain(b.Env)
			for i := len(chain) - 1; i >= 0; i-- {
				if chain[i].Provisioner != "" {
					info.ChosenBy = "environment " + chain[i].Name
					if chain[i].Name != b.Env {
						inherited = fmt.Sprintf(", which %s inherits from", b.Env)
					}
					break
				}
			}
		}
		info.Note = "chosen in hybrid.hcl by " + info.ChosenBy + inherited
	} else {
		info.Note = "inferred from the template's provisioners"
	}
	switch {
	case st.Provisioner != nil:
		info.Assets = st.Provisioner.Dir
	case st.Name == config.StackNone:
		info.Note += "; no provisioning assets are inputs"
	default:
		dir := ""
		if p := cfg.Provisioners[st.Name]; p != nil {
			dir = p.Dir + " "
		}
		info.Note += fmt.Sprintf("; its asset directory %sdoes not exist, so it is not an input", dir)
	}
	return info
}

// splitQuotedPath splits a read's description that ends with the path it
// names, quoted (`provisioner "file" source "/etc/x"`), into the
// description without it and the path. A description without such a path
// (`data "git-commit" "head"`) is returned whole.
func splitQuotedPath(what string) (string, string) {
	if strings.HasPrefix(what, "data ") {
		return what, ""
	}
	// A quoted path holds no unescaped quote, so the last ` "` starts it.
	i := strings.LastIndex(what, ` "`)
	if i < 0 {
		return what, ""
	}
	p, err := strconv.Unquote(what[i+1:])
	if err != nil {
		return what, ""
	}
	return what[:i], p
}

// resolveRead turns a path a template reads (relative to packer's working
// directory, or absolute) into a workspace path where it can; others are
// returned as written.
func resolveRead(root, workingDir, p string) string {
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		if r, err := filepath.Rel(root, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return filepath.ToSlash(r)
		}
		return p
	}
	r := path.Clean(path.Join(workingDir, filepath.ToSlash(p)))
	if r == ".." || strings.HasPrefix(r, "../") {
		return p
	}
	return r
}

// wsRel returns a diagnostic file name relative to the workspace root:
// names hybrid reads are workspace-relative already, absolute ones inside
// the workspace are made so.
func wsRel(root, name string) string {
	if filepath.IsAbs(name) {
		if r, err := filepath.Rel(root, name); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.ToSlash(r)
		}
	}
	return filepath.ToSlash(name)
}
