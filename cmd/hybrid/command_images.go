package main

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/plan"
)

// imagesCommand prints the matrix of images and environments, or with
// -inputs every input of every build.
type imagesCommand struct{ s streams }

type imagesArgs struct {
	JSON    bool
	NoColor bool
	// Inputs lists every build's inputs instead of the matrix.
	Inputs bool
	// Envs limits the builds to these environments.
	Envs []string
	// Image, when set, is a name or glob the images must match.
	Image string
	Vars  config.Inputs
}

func (c *imagesCommand) Synopsis() string {
	return "List the images x environments matrix, or every build's inputs"
}

func (c *imagesCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid images [options] [IMAGE]

  Lists every image in every environment it is built in, grouped by OS
  family and platform, with the packer build it selects, its template
  directory, its provisioning stack, and the files packer reads for it
  (the template's packer files, then the rendered var file).

  With -inputs, lists for each build everything its fingerprint covers
  and why: the template's packer files, each file, directory or glob the
  template reads once evaluated for the build (with every attribute that
  reads it, at its line), the whole template directory when an expression
  is not known before the build, the image's inputs globs, the stack's
  assets, the rendered var file, sensitive values, the source commit when
  the template reads git metadata or the source sets rebuild_on_commit,
  the packer and plugin versions and the base images. What the build reads
  but hybrid cannot fingerprint (paths outside the workspace, git metadata
  outside a source) is listed last. A change to anything listed as an
  input rebuilds the image; a change to anything else does not.

  IMAGE limits the list to one image, or to the images a glob matches
  (linux-*).

Options:
  -inputs              List every input of every build, and why.
  -env=NAME            Only builds of this environment; may be repeated.
  -json                Print a JSON document (format_version 1.0).
  -no-color            Do not colour the output.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
`)
}

func parseImagesArgs(args []string) (*imagesArgs, hcl.Diagnostics) {
	a := &imagesArgs{}
	fs := newFlagSet("images")
	fs.BoolVar(&a.JSON, "json", false, "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	fs.BoolVar(&a.Inputs, "inputs", false, "")
	fs.Var((*stringsFlag)(&a.Envs), "env", "")
	varFlags(fs, &a.Vars)
	// Options may come after the image too (images linux-* -inputs).
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("images", err)
	}
	rest := fs.Args()
	switch len(rest) {
	case 0:
	case 1:
		a.Image = rest[0]
		if _, err := path.Match(a.Image, ""); err != nil {
			return nil, flagError("images", fmt.Errorf("%q is not a valid image name or glob: %v", a.Image, err))
		}
	default:
		return nil, flagError("images", fmt.Errorf("unexpected argument %q: give at most one image name or glob", rest[1]))
	}
	return a, nil
}

// imageRow is one image in one environment, as images -json prints it.
type imageRow struct {
	Address     string   `json:"address"`
	Image       string   `json:"image"`
	Environment string   `json:"environment"`
	OS          string   `json:"os"`
	Platform    string   `json:"platform"`
	Build       string   `json:"build"`
	Template    string   `json:"template"`
	WorkingDir  string   `json:"working_dir"`
	Provisioner string   `json:"provisioner"`
	DependsOn   []string `json:"depends_on"`
	Files       []string `json:"files"`
	Layers      []string `json:"layers"`
}

func (c *imagesCommand) Run(args []string) int {
	a, diags := parseImagesArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if wantsJSON(args) {
		v.useJSON()
	}
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	return c.run(a, v)
}

func (c *imagesCommand) run(a *imagesArgs, v *view) int {
	ws, diags := plan.LoadWorkspace(".", a.Vars)
	defer ws.Close()
	if diags.HasErrors() {
		v.diagnostics(ws.Parser.Files(), diags)
		return 1
	}
	builds, d := selectBuilds(ws, a.Envs, a.Image)
	if d.HasErrors() {
		v.diagnostics(ws.Parser.Files(), d)
		return 1
	}
	// Under -json the warnings travel in the document.
	var warnings []jsonDiagnostic
	if !a.JSON {
		v.diagnostics(ws.Parser.Files(), diags)
	} else if w := warningsOf(diags); len(w) > 0 {
		warnings = jsonDiagnostics(ws.Parser.Files(), w)
	}
	var err error
	if a.Inputs {
		doc := collectInputs(ws, builds)
		doc.Diagnostics = warnings
		err = v.writeInputs(c.s.Out, doc, a.JSON)
	} else {
		images, envs := len(ws.Config.Images), len(ws.Config.Environments)
		if a.Image != "" || len(a.Envs) > 0 {
			// Count what the filters kept.
			seenImages, seenEnvs := map[string]bool{}, map[string]bool{}
			for _, b := range builds {
				seenImages[b.Image.Name], seenEnvs[b.Env] = true, true
			}
			images, envs = len(seenImages), len(seenEnvs)
		}
		err = v.writeImages(c.s.Out, imageRows(ws, builds), images, envs, a.JSON, warnings)
	}
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	return 0
}

// selectBuilds returns the workspace's builds (sorted by address) of the
// given environments (all when none) whose image matches the name or glob
// (all when empty); naming an environment or an image that does not exist
// is an error.
func selectBuilds(ws *plan.Workspace, envs []string, image string) ([]*plan.Build, hcl.Diagnostics) {
	cfg := ws.Config
	var diags hcl.Diagnostics
	for _, e := range envs {
		if _, ok := cfg.Environments[e]; !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unknown environment",
				Detail:   fmt.Sprintf("-env=%s names no environment of hybrid.hcl. Declared environments: %s.", e, strings.Join(cfg.EnvironmentNames(), ", ")),
			})
		}
	}
	if image != "" {
		matched := false
		for _, name := range cfg.ImageNames() {
			if ok, _ := path.Match(image, name); ok {
				matched = true
			}
		}
		if !matched {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "No image matches",
				Detail:   fmt.Sprintf("%q matches no image of hybrid.hcl. Declared images: %s.", image, strings.Join(cfg.ImageNames(), ", ")),
			})
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	var out []*plan.Build
	for _, b := range ws.Builds {
		if len(envs) > 0 && !slices.Contains(envs, b.Env) {
			continue
		}
		if image != "" {
			if ok, _ := path.Match(image, b.Image.Name); !ok {
				continue
			}
		}
		out = append(out, b)
	}
	return out, nil
}

// imageRows is the matrix: one row per build, grouped by OS family and
// platform, then by image and environment.
func imageRows(ws *plan.Workspace, builds []*plan.Build) []imageRow {
	rows := make([]imageRow, 0, len(builds))
	for _, b := range builds {
		r := imageRow{
			Address: b.Address(), Image: b.Image.Name, Environment: b.Env,
			OS: b.Image.OS, Platform: b.Image.Platform, Build: b.Only,
			Template: b.Image.Template, WorkingDir: b.Image.WorkingDir,
			Provisioner: b.Stack.Name, DependsOn: []string{},
			Files: b.CommandFiles(ws.Config.Dir), Layers: []string{},
		}
		for _, d := range b.Image.DependsOn {
			r.DependsOn = append(r.DependsOn, d.Name)
		}
		for _, l := range b.Render.Layers {
			r.Layers = append(r.Layers, l.Name)
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.OS != b.OS {
			return a.OS < b.OS
		}
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		if a.Image != b.Image {
			return a.Image < b.Image
		}
		return a.Environment < b.Environment
	})
	return rows
}
