package main

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// showCommand prints the state, or a saved plan.
type showCommand struct{ s streams }

type showArgs struct {
	// PlanFile is a plan saved with plan -out; empty shows the state.
	PlanFile string
	JSON     bool
	// Markdown prints the saved plan as a pull-request comment.
	Markdown bool
	NoColor  bool
}

func (c *showCommand) Synopsis() string { return "Show the state, or a saved plan" }

func (c *showCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid show [options] [PLANFILE]

  Without PLANFILE, shows the state: the sources checked out and their
  commits, the var files rendered, and the builds with their status,
  artifacts and finish times. With PLANFILE, a plan saved with
  "hybrid plan -out=PLANFILE", shows that plan as hybrid plan printed it.

  With -json, prints the state file's JSON document (its format_version is
  the state format), or the plan's JSON document as "hybrid plan -json"
  prints it. With -markdown, prints the saved plan as the pull-request
  comment "hybrid plan -markdown" prints.

Options:
  -json                Print a JSON document.
  -markdown            Print a saved plan as a Markdown comment.
  -no-color            Do not colour the output.
`)
}

func parseShowArgs(args []string) (*showArgs, hcl.Diagnostics) {
	a := &showArgs{}
	fs := newFlagSet("show")
	fs.BoolVar(&a.JSON, "json", false, "")
	fs.BoolVar(&a.Markdown, "markdown", false, "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("show", err)
	}
	switch fs.NArg() {
	case 0:
	case 1:
		a.PlanFile = fs.Arg(0)
	default:
		return nil, flagError("show", fmt.Errorf("unexpected argument %q: show takes at most one plan file", fs.Arg(1)))
	}
	switch {
	case a.Markdown && a.JSON:
		return nil, flagError("show", fmt.Errorf("-json and -markdown cannot be combined: choose one output"))
	case a.Markdown && a.PlanFile == "":
		return nil, flagError("show", fmt.Errorf("-markdown shows a saved plan: give PLANFILE, made with hybrid plan -out=PLANFILE"))
	}
	return a, nil
}

func (c *showCommand) Run(args []string) int {
	a, diags := parseShowArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if wantsJSON(args) {
		v.useJSON()
	}
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	if a.PlanFile != "" {
		return c.showPlan(a, v)
	}
	return c.showState(a, v)
}

func (c *showCommand) showState(a *showArgs, v *view) int {
	st, _, ok := readWorkspaceState(v)
	if !ok {
		return 1
	}
	if a.JSON {
		if st == nil {
			// No state file: the same document shape, with nothing in it.
			writeJSON(c.s.Out, map[string]any{
				"format_version": state.FormatVersion,
				"serial":         0,
				"sources":        map[string]any{},
				"renders":        map[string]any{},
				"builds":         map[string]any{},
			})
			return 0
		}
		b, err := state.Encode(st)
		if err != nil {
			v.errorf("%v", err)
			return 1
		}
		c.s.Out.Write(b)
		return 0
	}
	if st == nil {
		return 0
	}
	v.renderState(c.s.Out, st)
	return 0
}

func (c *showCommand) showPlan(a *showArgs, v *view) int {
	p, err := plan.ReadFile(a.PlanFile)
	if err != nil {
		v.diagnostics(nil, errDiag("Cannot read the plan file", err, "Save a plan with hybrid plan -out=FILE"))
		return 1
	}
	if a.Markdown {
		err = writePlanMarkdown(c.s.Out, p, a.PlanFile)
	} else {
		err = v.writePlan(c.s.Out, p, a.JSON)
	}
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	return 0
}
