package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/plan"
)

// imagesCommand prints the matrix of images and environments.
type imagesCommand struct{ s streams }

type imagesArgs struct {
	JSON    bool
	NoColor bool
	Inputs  config.Inputs
}

func (c *imagesCommand) Synopsis() string { return "List the images x environments matrix" }

func (c *imagesCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid images [options]

  Lists every image in every environment it is built in, grouped by OS
  family and platform, with the packer build it selects, its template
  directory, its provisioning stack, and the files packer reads for it
  (the template's packer files, then the rendered var file).

Options:
  -json                Print a JSON document.
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
	varFlags(fs, &a.Inputs)
	if err := fs.Parse(args); err != nil {
		return nil, flagError("images", err)
	}
	if fs.NArg() > 0 {
		return nil, flagError("images", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
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
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ws, diags := plan.LoadWorkspace(".", a.Inputs)
	defer ws.Close()
	if diags.HasErrors() {
		v.diagnostics(ws.Parser.Files(), diags)
		return 1
	}
	rows := make([]imageRow, 0, len(ws.Builds))
	for _, b := range ws.Builds {
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
	if a.JSON {
		writeJSON(c.s.Out, map[string]any{"format_version": "1.0", "images": rows})
		return 0
	}
	v.diagnostics(ws.Parser.Files(), diags)
	// Align each group's table, then print every row with its file list
	// below it, indented, so long paths do not widen the columns.
	for start := 0; start < len(rows); {
		end := start
		for end < len(rows) && rows[end].OS == rows[start].OS && rows[end].Platform == rows[start].Platform {
			end++
		}
		if start > 0 {
			fmt.Fprintln(c.s.Out)
		}
		fmt.Fprintln(c.s.Out, v.bold(rows[start].OS+" / "+rows[start].Platform))
		var buf strings.Builder
		tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "IMAGE\tENV\tBUILD\tPROVISIONER\tTEMPLATE\tDEPENDS ON")
		for _, r := range rows[start:end] {
			deps := strings.Join(r.DependsOn, ",")
			if deps == "" {
				deps = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Image, r.Environment, r.Build, r.Provisioner, r.Template, deps)
		}
		tw.Flush()
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		fmt.Fprintf(c.s.Out, "  %s\n", strings.TrimRight(lines[0], " "))
		for i, r := range rows[start:end] {
			fmt.Fprintf(c.s.Out, "  %s\n", strings.TrimRight(lines[i+1], " "))
			fmt.Fprintf(c.s.Out, "      files: %s\n", strings.Join(r.Files, " "))
		}
		start = end
	}
	fmt.Fprintf(c.s.Out, "\n%d images, %d builds across %d environments.\n", len(ws.Config.Images), len(rows), len(ws.Config.Environments))
	return 0
}
