package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/packer"
	"github.com/hybridcore/hybrid/plan"
)

// validateCommand checks the workspace without building anything.
type validateCommand struct{ s streams }

type validateArgs struct {
	Packer  bool
	JSON    bool
	NoColor bool
	Inputs  config.Inputs
}

func (c *validateCommand) Synopsis() string {
	return "Check hybrid.hcl, templates, variables and assets"
}

func (c *validateCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid validate [options]

  Checks the workspace without running packer or git and without writing
  anything: hybrid.hcl (blocks, attributes, references, cycles), every
  image's template (syntax, that the image's build exists, the naming
  rule), the merged variables of every image in every environment against
  the template's declared variables, and the provisioner assets.

  With -packer it then runs "packer validate" for every image in every
  environment, with the var file hybrid would render for it (written to a
  temporary directory, not to configs/) and its sensitive values in the
  environment, exactly as apply would run the build. What packer finds is
  reported at your files: a problem with a variable's value at the var
  file, var_group, environment or image that set it, a problem in a
  template at its file and line. A problem found for several builds is
  reported once, naming them.

Options:
  -packer              Also run packer validate for every build.
  -json                Print the result as a JSON document.
  -no-color            Do not colour the output.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
`)
}

func parseValidateArgs(args []string) (*validateArgs, hcl.Diagnostics) {
	a := &validateArgs{}
	fs := newFlagSet("validate")
	fs.BoolVar(&a.JSON, "json", false, "")
	fs.BoolVar(&a.Packer, "packer", false, "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	varFlags(fs, &a.Inputs)
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("validate", err)
	}
	if fs.NArg() > 0 {
		return nil, flagError("validate", fmt.Errorf("unexpected argument %q: validate checks the workspace in the current directory (use -chdir=DIR)", fs.Arg(0)))
	}
	return a, nil
}

func (c *validateCommand) Run(args []string) int {
	a, diags := parseValidateArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		// validate -json answers with its document whatever went wrong.
		if wantsJSON(args) {
			writeValidateJSON(c.s.Out, nil, diags)
		} else {
			v.diagnostics(nil, diags)
		}
		return 1
	}
	ws, diags := plan.LoadWorkspace(".", a.Inputs)
	defer ws.Close()
	registerSecrets(logRedactor, ws)
	if a.Packer && !diags.HasErrors() {
		ctx, _, stop := signalContext(context.Background(), nil)
		defer stop()
		diags = append(diags, packerValidate(ctx, ws)...)
	}
	if a.JSON {
		if err := writeValidateJSON(c.s.Out, ws.Parser.Files(), diags); err != nil {
			v.errorf("%v", err)
			return 1
		}
		if diags.HasErrors() {
			return 1
		}
		return 0
	}
	v.diagnostics(ws.Parser.Files(), diags)
	if diags.HasErrors() {
		return 1
	}
	images := 0
	if ws.Config != nil {
		images = len(ws.Config.Images)
	}
	fmt.Fprintf(c.s.Out, "%s The configuration is valid: %s, %s across %s.\n",
		v.paint("32;1", "Success!"), plural(images, "image"), plural(len(ws.Builds), "build"), plural(len(ws.Config.Environments), "environment"))
	return 0
}

func count(diags hcl.Diagnostics, sev hcl.DiagnosticSeverity) int {
	n := 0
	for _, d := range diags {
		if d.Severity == sev {
			n++
		}
	}
	return n
}

// packerValidate runs packer validate for every build, as apply would run
// packer build, and reports what packer found at the user's files (the
// layer that set a variable, the template's line), each distinct problem
// once with the builds it was found for.
func packerValidate(ctx context.Context, ws *plan.Workspace) hcl.Diagnostics {
	bin, err := findPacker()
	if err != nil {
		return errDiag("Packer not found", err, "")
	}
	tmp, err := os.MkdirTemp("", "hybrid-validate-")
	if err != nil {
		return errDiag("Cannot create a temporary directory", err, "")
	}
	defer os.RemoveAll(tmp)
	var diags hcl.Diagnostics
	var found plan.BuildFindings
	missing := map[string]bool{}
	for i, b := range ws.Builds {
		// packer reads the checkouts, which plans do not need: say so
		// once per source rather than letting packer fail on a path.
		skip := false
		for _, name := range b.Sources {
			s := ws.Config.Sources[name]
			if _, err := os.Stat(filepath.Join(ws.Config.Dir, filepath.FromSlash(s.Path))); err == nil {
				continue
			}
			skip = true
			if !missing[name] {
				missing[name] = true
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  fmt.Sprintf("Source %q not checked out", name),
					Detail:   fmt.Sprintf("packer validate runs on the checkout %s, which does not exist yet. Run \"hybrid init\" (or \"hybrid sources sync %s\"), then validate again.", s.Path, name),
					Subject:  s.DeclRange.Ptr(),
				})
			}
		}
		if skip {
			continue
		}
		varFile := filepath.Join(tmp, fmt.Sprintf("%d-%s-%s.pkrvars.hcl", i, b.Env, b.Image.Name))
		if err := os.WriteFile(varFile, b.Render.Bytes, 0o600); err != nil {
			return errDiag("Cannot write a temporary var file", err, "")
		}
		vars := map[string]string{}
		for name, v := range b.Render.Sensitive {
			vars[name] = config.EnvValue(v)
		}
		img := b.Image
		inv := packer.Invocation{
			Bin:      bin,
			WorkDir:  filepath.Join(ws.Config.Dir, filepath.FromSlash(img.WorkingDir)),
			Template: filepath.Join(ws.Config.Dir, filepath.FromSlash(img.Template)),
			Only:     []string{b.Only},
			VarFiles: []string{varFile},
			Vars:     vars,
			Secrets:  b.SecretStrings(),
		}
		out, err := packer.Validate(ctx, inv)
		if err == nil {
			continue
		}
		bd := ws.PackerDiagnostics(b, varFile, inv.WorkDir, packer.ParseDiagnostics(out))
		if !bd.HasErrors() {
			// packer failed without an Error: block (it crashed, or
			// could not start): its output, whole, at the image.
			detail := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(out, varFile, b.Render.Path), ws.Config.Dir+string(filepath.Separator), ""))
			if detail == "" {
				detail = err.Error()
			}
			bd = append(bd, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "packer validate failed",
				Detail:   detail,
				Subject:  img.NameRange.Ptr(),
			})
		}
		found.Add(b.Address(), bd)
	}
	for _, f := range found.List() {
		d := *f.Diag
		d.Detail = strings.TrimSpace(d.Detail + "\n\nFound by packer validate for " + andList(f.Builds, 10) + ".")
		diags = append(diags, &d)
	}
	return diags
}

// andList names items in a sentence, "a", "a and b", "a, b and c", the
// first n of them and how many more.
func andList(items []string, n int) string {
	if len(items) > n {
		return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
	}
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
