package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/hybridcore/hybrid/internal/version"
)

// versionCommand prints hybrid's version, and packer's when it can be found.
type versionCommand struct{ s streams }

func (c *versionCommand) Synopsis() string { return "Show the hybrid and packer versions" }

func (c *versionCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid version [-json]

  Shows hybrid's version and the version of the packer binary hybrid would
  run (HYBRID_PACKER, the pinned build in .tools/bin, or packer on PATH).

Options:
  -json   Print a JSON object.
`)
}

func (c *versionCommand) Run(args []string) int {
	fs := newFlagSet("version")
	jsonOut := fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil {
		v := newView(c.s, false)
		if wantsJSON(args) {
			v.useJSON()
		}
		v.diagnostics(nil, flagError("version", err))
		return 1
	}
	packerVersion, packerPath := packerVersion(context.Background())
	if *jsonOut {
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
