package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/rogpeppe/go-internal/diff"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/internal/hclguard"
)

// fmtCommand rewrites hybrid.hcl files in the canonical HCL style.
type fmtCommand struct{ s streams }

type fmtArgs struct {
	Check     bool
	Diff      bool
	List      bool
	Recursive bool
	NoColor   bool
	// Templates also runs "packer fmt" on the template directories the
	// workspaces' images use; Inputs are the variables hybrid.hcl is read
	// with to find them.
	Templates bool
	Inputs    config.Inputs
	Targets   []string
}

func (c *fmtCommand) Synopsis() string { return "Format hybrid.hcl in the canonical style" }

func (c *fmtCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid fmt [options] [FILE|DIR...]

  Rewrites hybrid configuration files in the canonical HCL format and
  style. Given a directory (default: the current one) it formats the
  hybrid.hcl there; given a file, that file (any .hcl file, such as a
  -var-file). It prints the name of every file it changed.

Options:
  -check        Change nothing; exit with status 3 if any file is not
                formatted (0 when all are), as packer fmt -check does.
  -diff         Print the changes as a unified diff.
  -list=false   Do not print the names of files that changed.
  -recursive    Also format hybrid.hcl files in subdirectories.
  -no-color     Do not colour the output.
  -templates    Also run "packer fmt" on every template directory the
                images of each hybrid.hcl use, except those inside
                sources (-check and -diff are passed on). With -check,
                the exit status is 3 when a template or hybrid.hcl needs
                formatting. Needs packer.
  -var 'NAME=VALUE', -var-file=FILE
                Variables to read hybrid.hcl with, for -templates.
`)
}

func parseFmtArgs(args []string) (*fmtArgs, hcl.Diagnostics) {
	a := &fmtArgs{}
	fs := newFlagSet("fmt")
	fs.BoolVar(&a.Check, "check", false, "")
	fs.BoolVar(&a.Diff, "diff", false, "")
	fs.BoolVar(&a.List, "list", true, "")
	fs.BoolVar(&a.Recursive, "recursive", false, "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	fs.BoolVar(&a.Templates, "templates", false, "")
	varFlags(fs, &a.Inputs)
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("fmt", err)
	}
	a.Targets = fs.Args()
	if len(a.Targets) == 0 {
		a.Targets = []string{"."}
	}
	return a, nil
}

func (c *fmtCommand) Run(args []string) int {
	a, diags := parseFmtArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ctx, _, stop := signalContext(context.Background(), nil)
	defer stop()
	return c.run(ctx, a, v)
}

func (c *fmtCommand) run(ctx context.Context, a *fmtArgs, v *view) int {
	files, err := fmtFiles(a.Targets, a.Recursive)
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	p := hclparse.NewParser()
	var diags hcl.Diagnostics
	unformatted := 0
	for _, name := range files {
		src, err := hclguard.ReadFile(name)
		if err != nil {
			v.errorf("cannot read %s: %v", name, err)
			return 1
		}
		// Refuse to format what does not parse (hclwrite would keep the
		// broken tokens, and the user needs the syntax error instead), or
		// what is nested too deep to parse safely.
		if d := hclguard.Check(src, name, hclguard.Native); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		if _, d := p.ParseHCL(src, name); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		out := hclwrite.Format(src)
		if bytes.Equal(src, out) {
			continue
		}
		unformatted++
		if a.List {
			fmt.Fprintln(c.s.Out, name)
		}
		if a.Diff {
			c.s.Out.Write(diff.Diff(name, src, name+" (formatted)", out))
		}
		if a.Check {
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			v.errorf("%v", err)
			return 1
		}
		if err := atomicfile.Write(name, out, fi.Mode().Perm()); err != nil {
			v.errorf("%v", err)
			return 1
		}
	}
	if diags.HasErrors() {
		v.diagnostics(p.Files(), diags)
		return 1
	}
	if a.Templates {
		n, ok := c.fmtTemplates(ctx, a, v, workspaceDirs(files))
		if !ok {
			return 1
		}
		unformatted += n
	}
	if a.Check && unformatted > 0 {
		return 3
	}
	return 0
}

// fmtFiles expands the targets: a file is itself, a directory its
// hybrid.hcl (and those below it with recursive).
func fmtFiles(targets []string, recursive bool) ([]string, error) {
	var out []string
	for _, t := range targets {
		fi, err := os.Stat(t)
		if err != nil {
			return nil, fmt.Errorf("cannot format %s: %v", t, unwrap(err))
		}
		if !fi.IsDir() {
			out = append(out, t)
			continue
		}
		if !recursive {
			p := filepath.Join(t, config.Filename)
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("there is no %s in %s; give a file or a directory holding one", config.Filename, t)
			}
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(t, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != t && (strings.HasPrefix(d.Name(), ".") || d.Name() == "sources") {
				return filepath.SkipDir
			}
			if !d.IsDir() && d.Name() == config.Filename {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

func unwrap(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
