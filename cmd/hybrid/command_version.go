package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/internal/version"
)

// versionCommand prints hybrid's version, and packer's when it can be found.
type versionCommand struct{ s streams }

func (c *versionCommand) Synopsis() string { return "Show the hybrid and packer versions" }

func (c *versionCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid version [options]

  Shows hybrid's version and the version of the packer binary hybrid would
  run (HYBRID_PACKER, the pinned build in .tools/bin, or packer on PATH).
  "hybrid -version" prints the same.

Options:
  -json       Print a JSON object.
  -no-color   Do not colour the output.
`)
}

type versionArgs struct {
	JSON    bool
	NoColor bool
}

func parseVersionArgs(args []string) (*versionArgs, hcl.Diagnostics) {
	a := &versionArgs{}
	fs := newFlagSet("version")
	fs.BoolVar(&a.JSON, "json", false, "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("version", err)
	}
	if fs.NArg() > 0 {
		return nil, flagError("version", fmt.Errorf("unexpected argument %q: version takes none", fs.Arg(0)))
	}
	return a, nil
}

func (c *versionCommand) Run(args []string) int {
	a, diags := parseVersionArgs(args)
	if diags.HasErrors() {
		v := newView(c.s, false)
		if wantsJSON(args) {
			v.useJSON()
		}
		v.diagnostics(nil, diags)
		return 1
	}
	packerVersion, packerPath := packerVersion(context.Background())
	if a.JSON {
		writeJSON(c.s.Out, map[string]any{
			"format_version": "1.0",
			"hybrid_version": version.Version,
			"packer_version": packerVersion,
			"packer_path":    packerPath,
		})
		return 0
	}
	fmt.Fprintf(c.s.Out, "hybrid v%s\n", version.Version)
	if packerVersion != "" {
		fmt.Fprintf(c.s.Out, "packer v%s (%s)\n", packerVersion, packerPath)
	} else {
		fmt.Fprintln(c.s.Out, "packer: not found (set HYBRID_PACKER, run scripts/packer, or put packer on PATH)")
	}
	return 0
}
