package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hybridcore/hybrid/plan"
)

// typeOrder lists node types in pipeline order, the order plan output uses.
var typeOrder = map[string]int{plan.TypeSource: 0, plan.TypeRender: 1, plan.TypeBuild: 2}

// writePlan prints a plan: its versioned JSON document, or the text for
// people.
func (v *view) writePlan(w io.Writer, p *plan.Plan, asJSON bool) error {
	if !asJSON {
		v.renderPlan(w, p)
		return nil
	}
	return writePlanJSON(w, p, nil, nil)
}

// renderPlan prints a plan for people, one block per change in pipeline
// order (sources, renders, builds), then the summary line.
func (v *view) renderPlan(w io.Writer, p *plan.Plan) {
	changes := make([]*plan.Change, 0, len(p.Changes))
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			changes = append(changes, c)
		}
	}
	sort.SliceStable(changes, func(i, j int) bool {
		a, b := changes[i], changes[j]
		if typeOrder[a.Type] != typeOrder[b.Type] {
			return typeOrder[a.Type] < typeOrder[b.Type]
		}
		return a.Address < b.Address
	})
	defer v.planNotes(w, p)
	if len(changes) == 0 {
		fmt.Fprintf(w, "%s The workspace is up to date: every render and build matches its inputs.\n", v.paint("32;1", "No changes."))
		return
	}
	fmt.Fprintln(w, "hybrid will perform the following actions:")
	for _, c := range changes {
		fmt.Fprintln(w)
		header := "# " + c.Address + " " + verb(c)
		if d := lastDuration(c); d != "" && c.Action != plan.Delete {
			header += " (last build took " + d + ")"
		}
		fmt.Fprintf(w, "  %s\n", v.paint("1", header))
		fmt.Fprintf(w, "  %s %s\n", v.symbol(c.Action), c.Address)
		for _, r := range c.Reasons {
			line := reasonText(r)
			if c.Type == plan.TypeRender && r.Kind == plan.ReasonVariable {
				line = v.variableLine(r)
			}
			fmt.Fprintf(w, "      %s\n", indentLines(line, "        "))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, v.bold(p.Summary.String()))
	if e := estimateSentence(p); e != "" {
		fmt.Fprintf(w, "Estimate: %s.\n", e)
	}
}

// indentLines indents every line of text after the first with prefix, and
// leaves blank lines blank: a reason that quotes packer's error keeps its
// shape under the change it explains.
func indentLines(text, prefix string) string {
	lines := strings.Split(text, "\n")
	for i := 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" {
			lines[i] = prefix + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// planNotes prints what a plan leaves alone on purpose: source checkouts
// that differ from the lock while no build that reads them runs.
func (v *view) planNotes(w io.Writer, p *plan.Plan) {
	first := true
	for _, c := range p.Changes {
		if c.Note == "" {
			continue
		}
		if first {
			fmt.Fprintln(w)
			first = false
		}
		fmt.Fprintf(w, "Note: %s: %s.\n", c.Address, c.Note)
	}
}

// reasonText is a reason as people read it: its message, with the
// digests of a changed file when the message does not give them.
func reasonText(r plan.Reason) string {
	if r.Kind == plan.ReasonFile && r.Before != "" && r.After != "" && !strings.Contains(r.Message, r.Before+" -> ") {
		return fmt.Sprintf("%s (%s -> %s)", r.Message, r.Before, r.After)
	}
	return r.Message
}

// verb says what apply does to the change's node: "will be rebuilt".
func verb(c *plan.Change) string {
	switch c.Action {
	case plan.Delete:
		return "will be forgotten"
	case plan.Create:
		switch c.Type {
		case plan.TypeSource:
			return "will be checked out"
		case plan.TypeRender:
			return "will be rendered"
		}
		return "will be built"
	}
	switch c.Type {
	case plan.TypeSource:
		return "will be synced"
	case plan.TypeRender:
		return "will be re-rendered"
	}
	return "will be rebuilt"
}

func (v *view) symbol(a plan.Action) string {
	switch a {
	case plan.Create:
		return v.paint("32", "+")
	case plan.Update:
		return v.paint("33", "~")
	case plan.Delete:
		return v.paint("31", "-")
	}
	return " "
}

// variableLine shows one variable of a render diff, terraform style.
func (v *view) variableLine(r plan.Reason) string {
	name := strings.TrimPrefix(r.Input, "var ")
	switch {
	case r.Before == "":
		return fmt.Sprintf("%s %s = %s", v.paint("32", "+"), name, r.After)
	case r.After == "":
		return fmt.Sprintf("%s %s = %s", v.paint("31", "-"), name, r.Before)
	}
	return fmt.Sprintf("%s %s = %s -> %s", v.paint("33", "~"), name, r.Before, r.After)
}
