package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/hclguard"
	"github.com/hybridcore/hybrid/packer"
)

// workspaceDirs returns the directories of the hybrid.hcl files among the
// files fmt formats, in order: the workspaces whose templates
// "hybrid fmt -templates" formats too.
func workspaceDirs(files []string) []string {
	var dirs []string
	for _, f := range files {
		if filepath.Base(f) != config.Filename {
			continue
		}
		if d := filepath.Dir(f); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// fmtTemplates runs "packer fmt" on the template directories of the
// workspaces in dirs, with fmt's -check and -diff, and prints what packer
// printed. It returns how many directories need formatting (with -check)
// and false when it could not do its job: no workspace among the targets,
// a hybrid.hcl that does not load, no packer, or a template packer cannot
// format (reported with the file and line that do not parse).
func (c *fmtCommand) fmtTemplates(ctx context.Context, a *fmtArgs, v *view, dirs []string) (int, bool) {
	if len(dirs) == 0 {
		v.errorf("-templates formats the templates a hybrid.hcl uses, and no target is a workspace: give a directory holding %s, or the file itself", config.Filename)
		return 0, false
	}
	var templates []string
	for _, dir := range dirs {
		p := hclparse.NewParser()
		cfg, diags := config.Load(p, dir, a.Inputs)
		if diags.HasErrors() {
			v.diagnostics(p.Files(), diags)
			v.errorf("%s cannot be read, so its template directories are unknown; fix it, then run hybrid fmt -templates again", filepath.Join(dir, config.Filename))
			return 0, false
		}
		for _, t := range ownTemplates(cfg) {
			if t = filepath.Join(dir, filepath.FromSlash(t)); !slices.Contains(templates, t) {
				templates = append(templates, t)
			}
		}
	}
	if len(templates) == 0 {
		return 0, true
	}
	bin, err := findPacker()
	if err != nil {
		v.diagnostics(nil, errDiag("Cannot format the templates", err, "hybrid fmt -templates runs packer fmt on them: install packer, or leave -templates out to format hybrid.hcl alone"))
		return 0, false
	}
	unformatted := 0
	for _, dir := range templates {
		res, err := packer.Fmt(ctx, bin, dir, packer.FmtOptions{Check: a.Check, Diff: a.Diff})
		if err != nil {
			v.diagnostics(templateSyntax(dir, err))
			return unformatted, false
		}
		if res.Unformatted {
			unformatted++
		}
		c.s.Out.Write(packerFmtOutput(res.Output, dir, a.List))
	}
	return unformatted, true
}

// ownTemplates returns the template directories of the configuration's
// images that belong to the workspace, sorted: those inside a source's
// checkout (or anywhere under the sources directory) are another
// repository's, formatted there.
func ownTemplates(cfg *config.Config) []string {
	sourcesDir := cfg.Settings.Dirs.Sources
	var out []string
	for _, name := range cfg.ImageNames() {
		t := cfg.Images[name].Template
		if t == "" || cfg.SourceOf(t) != nil || t == sourcesDir || strings.HasPrefix(t, sourcesDir+"/") {
			continue
		}
		if t = path.Clean(t); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

// packerFmtOutput is what fmt prints of packer's output for the templates
// in dir: all of it, or with -list=false only the diffs, without the lines
// that name the files.
func packerFmtOutput(out []byte, dir string, list bool) []byte {
	if list {
		return out
	}
	var kept bytes.Buffer
	prefix := filepath.Clean(dir) + string(filepath.Separator)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, len(out)+1)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(filepath.Clean(line), prefix) {
			continue
		}
		kept.WriteString(line)
		kept.WriteByte('\n')
	}
	return kept.Bytes()
}

// templateSyntax turns a failed "packer fmt" into diagnostics. Packer names
// the file it could not parse but not the line, so the templates of dir are
// parsed here to point at it; when none fails to parse, packer's own
// message is the error.
func templateSyntax(dir string, fmtErr error) (map[string]*hcl.File, hcl.Diagnostics) {
	p := hclparse.NewParser()
	var diags hcl.Diagnostics
	var ce *packer.CommandError
	if errors.As(fmtErr, &ce) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !(strings.HasSuffix(name, ".pkr.hcl") || strings.HasSuffix(name, ".pkrvars.hcl")) {
				continue
			}
			file := filepath.Join(dir, name)
			src, err := hclguard.ReadFile(file)
			if err != nil {
				continue
			}
			if d := hclguard.Check(src, file, hclguard.Native); d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
			_, d := p.ParseHCL(src, file)
			diags = append(diags, d...)
		}
	}
	if !diags.HasErrors() {
		detail := fmtErr.Error()
		if ce != nil {
			detail = fmt.Sprintf("packer fmt exited with status %d: %s.", ce.ExitCode, trimDot(ce.Detail))
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot format the templates in " + dir, Detail: detail})
	}
	return p.Files(), diags
}
