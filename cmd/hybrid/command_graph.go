package main

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/graph"
	"github.com/hybridcore/hybrid/plan"
)

// graphCommand draws the dependency graph.
type graphCommand struct{ s streams }

type graphArgs struct {
	Format   string
	PlanFile string
	// Changed draws only the plan's changes and the paths between them.
	Changed bool
	Envs    []string
	Inputs  config.Inputs
	NoColor bool
}

func (c *graphCommand) Synopsis() string { return "Draw the dependency graph (DOT or Mermaid)" }

func (c *graphCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid graph [options]

  Prints the graph of sources, renders and builds with their dependencies:
  a build depends on its render, on the sources it reads and on its base
  images; a render depends on the sources holding its var files. Arrows
  point from a node to what it needs.

  Mermaid output renders in GitHub pull requests inside a mermaid code block.

Options:
  -format=dot|mermaid  Output format (default dot).
  -plan=FILE           Mark each node with its action in a saved plan
                       (create, update, delete, no-op) and its first reason.
  -changed             With -plan, draw only the nodes the plan changes and
                       the nodes on paths between them.
  -env=NAME            Only this environment's renders and builds; may be
                       repeated.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
  -no-color            Do not colour the output.
`)
}

func parseGraphArgs(args []string) (*graphArgs, hcl.Diagnostics) {
	a := &graphArgs{}
	fs := newFlagSet("graph")
	fs.StringVar(&a.Format, "format", "dot", "")
	fs.StringVar(&a.PlanFile, "plan", "", "")
	fs.BoolVar(&a.Changed, "changed", false, "")
	fs.Var((*stringsFlag)(&a.Envs), "env", "")
	varFlags(fs, &a.Inputs)
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("graph", err)
	}
	if a.Format != "dot" && a.Format != "mermaid" {
		return nil, flagError("graph", fmt.Errorf("-format must be dot or mermaid, not %q", a.Format))
	}
	if fs.NArg() > 0 {
		return nil, flagError("graph", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if a.Changed && a.PlanFile == "" {
		return nil, flagError("graph", fmt.Errorf("-changed needs a saved plan: give -plan=FILE, made with hybrid plan -out=FILE"))
	}
	return a, nil
}

// actionStyles colour nodes by planned action, as plan output does.
var actionStyles = map[string]graph.Style{
	"create": {Fill: "#d4edda", Stroke: "#28a745"},
	"update": {Fill: "#fff3cd", Stroke: "#d39e00"},
	"delete": {Fill: "#f8d7da", Stroke: "#c82333", Dashed: true},
	"no-op":  {Fill: "#f1f3f5", Stroke: "#adb5bd"},
}

func (c *graphCommand) Run(args []string) int {
	a, diags := parseGraphArgs(args)
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
	g := ws.Graph(a.Envs)
	opts := graph.RenderOptions{Title: "hybrid"}
	if a.PlanFile != "" {
		p, err := plan.ReadFile(a.PlanFile)
		if err != nil {
			v.errorf("%v", err)
			return 1
		}
		for _, ch := range p.Changes {
			if ch.Action == plan.Delete {
				g.Add(graph.String(ch.Address))
			}
		}
		opts.Classes = actionStyles
		opts.Class = func(vx graph.Vertex) string {
			if ch := p.Change(vx.Name()); ch != nil {
				return ch.Action.String()
			}
			return ""
		}
		opts.Annotate = func(vx graph.Vertex) string {
			ch := p.Change(vx.Name())
			if ch == nil || ch.Action == plan.NoOp {
				return ""
			}
			if len(ch.Reasons) > 0 {
				return ch.Action.String() + ": " + ch.Reasons[0].Message
			}
			return ch.Action.String()
		}
		if a.Changed {
			g = changedPart(g, p)
		}
	}
	if a.Format == "mermaid" {
		fmt.Fprint(c.s.Out, g.Mermaid(opts))
	} else {
		fmt.Fprint(c.s.Out, g.DOT(opts))
	}
	return 0
}

// changedPart narrows g to the nodes the plan changes and every node on a
// path between two of them: what a reviewer needs to see of a change.
func changedPart(g *graph.Graph, p *plan.Plan) *graph.Graph {
	var changed []graph.Vertex
	for _, v := range g.Vertices() {
		if ch := p.Change(v.Name()); ch != nil && ch.Runs() {
			changed = append(changed, v)
		}
	}
	keep := map[string]bool{}
	for _, v := range g.Between(changed...) {
		keep[v.Name()] = true
	}
	return g.Subgraph(func(v graph.Vertex) bool { return keep[v.Name()] })
}
