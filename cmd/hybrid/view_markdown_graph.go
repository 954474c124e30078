package main

import (
	"fmt"
	"sort"

	"github.com/hybridcore/hybrid/graph"
	"github.com/hybridcore/hybrid/plan"
)

// graph returns the comment's drawing of the changed part of the plan's
// graph at a given budget: the nodes the plan changes and every node on a
// path between two of them, as a Mermaid flowchart coloured by action, in
// at most budget bytes with the diagram itself within graphLimit and
// Mermaid's edge limit.
//
// The most detailed drawing that fits is chosen: every node of the changed
// part; else only its builds (renders and syncs take no time and add a node
// per build); else the first builds in address order, as many as fit. The
// text under the diagram says what it leaves out. When not even one build
// fits, only that sentence is left, or nothing.
func (pc *planComment) graph() func(budget int) string {
	g := pc.p.Graph()
	var changed []graph.Vertex
	for _, c := range pc.p.Changes {
		if c.Runs() {
			changed = append(changed, c)
		}
	}
	keep := map[string]bool{}
	for _, v := range g.Between(changed...) {
		keep[v.Name()] = true
	}
	part := g.Subgraph(func(v graph.Vertex) bool { return keep[v.Name()] })
	isBuild := func(v graph.Vertex) bool { return v.(*plan.Change).Type == plan.TypeBuild }
	builds := part.Subgraph(isBuild)
	others := tally{}
	var names []string
	for _, v := range part.Vertices() {
		if isBuild(v) {
			names = append(names, v.Name())
		} else {
			others[v.(*plan.Change).Type]++
		}
	}
	first := func(n int) *graph.Graph {
		in := make(map[string]bool, n)
		for _, name := range names[:n] {
			in[name] = true
		}
		return builds.Subgraph(func(v graph.Vertex) bool { return in[v.Name()] })
	}
	firstNote := func(n int) string {
		s := fmt.Sprintf("_The graph shows %d of %d changed builds: %s not drawn", n, len(names), quantity(len(names)-n, "build is", "builds are"))
		if len(others) > 0 {
			s += ", nor the " + others.nodes()
		}
		return s + "; " + pc.graphHint() + " for all of it._\n\n"
	}
	const heading = "### Graph of the changes\n\n"

	return func(budget int) string {
		if part.Len() == 0 {
			return ""
		}
		if text, ok := pc.drawing(part, budget, heading, ""); ok {
			return text
		}
		if len(others) > 0 {
			note := fmt.Sprintf("_Only builds are drawn, not the %s on paths between them; %s for all of it._\n\n", others.nodes(), pc.graphHint())
			if text, ok := pc.drawing(builds, budget, heading, note); ok {
				return text
			}
		}
		// As many builds as fit: the text grows with every build, so the
		// largest count that fits is found by bisection. All of them did
		// not fit (above), so n < len(names).
		n := sort.Search(len(names), func(n int) bool {
			_, ok := pc.drawing(first(n+1), budget, heading, firstNote(n+1))
			return !ok
		})
		if n > 0 {
			text, _ := pc.drawing(first(n), budget, heading, firstNote(n))
			return text
		}
		none := fmt.Sprintf("_The graph of the changes does not fit in this comment; %s to draw it._\n\n", pc.graphHint())
		if len(heading)+len(none) <= budget {
			return heading + none
		}
		return ""
	}
}

// drawing renders g as the graph section with its heading and note, and
// reports whether it fits: the section within budget, the diagram within
// graphLimit and Mermaid's edge limit.
func (pc *planComment) drawing(g *graph.Graph, budget int, heading, note string) (string, bool) {
	if len(g.Edges()) > mermaidEdgeLimit {
		return "", false
	}
	diagram := g.Mermaid(graph.RenderOptions{
		ShortIDs: true,
		Classes:  actionStyles,
		Class:    func(v graph.Vertex) string { return v.(*plan.Change).Action.String() },
	})
	if len(diagram) > pc.graphLimit {
		return "", false
	}
	text := heading + "```mermaid\n" + diagram + "```\n\n" + note
	return text, len(text) <= budget
}

// graphHint is the command that draws the whole changed part of the graph.
func (pc *planComment) graphHint() string {
	if pc.planFile == "" {
		return "save the plan with " + mdCode("hybrid plan -out=FILE") + " and run " + mdCode("hybrid graph -changed -plan=FILE -format=mermaid")
	}
	return "run " + mdCode("hybrid graph -changed -plan="+pc.planFile+" -format=mermaid")
}
