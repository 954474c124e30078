package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hybridcore/hybrid/plan"
)

// The size limits a plan comment keeps, whatever the plan's size.
const (
	// commentLimit is the most a plan comment holds, in bytes. GitHub
	// refuses comments over 65,536 characters; a byte count is never
	// below the character count, and the margin leaves room for what a
	// workflow adds around the comment.
	commentLimit = 65000
	// mermaidLimit is Mermaid's default maxTextSize, in characters: a
	// longer diagram is not drawn at all. The diagram is counted in bytes.
	mermaidLimit = 50000
	// mermaidEdgeLimit is Mermaid's default maxEdges: a flowchart with
	// more edges is not drawn at all.
	mermaidEdgeLimit = 500
	// cellLimit is the most characters of a reason a table cell shows.
	cellLimit = 160
	// entryReasonLimit is the most reasons the details list for a node,
	// and entryDiffLimit the most lines of one variable diff.
	entryReasonLimit = 20
	entryDiffLimit   = 40
	// scopeLimit is the most -target and -env options the heading names,
	// so that the heading stays small however many were given.
	scopeLimit = 20
)

// commentMarker opens every plan comment, so a workflow can find the
// comment it posted before and edit it instead of adding another.
const commentMarker = "<!-- hybrid plan -->"

// planComment renders a plan as a Markdown comment for a pull or merge
// request (plan -markdown, show -markdown): the summary and the estimate,
// a table per image with one row per build across environments (its action,
// first reason and last duration), each image's full reasons and variable
// diffs in a collapsed <details>, and the changed part of the graph as a
// Mermaid flowchart. It is made from the plan alone, so a saved plan gives
// the same comment as the plan that saved it.
//
// The comment never exceeds limit bytes, nor its diagram graphLimit, and it
// says what it left out. The body's sections are filled by importance:
// the header always; then the tables, the details and the graph share
// what is left in proportion 3:1:1, a section that needs less than its
// share handing the rest to the others (see share). The tables come first
// because they are the one place that names every build: at 3:1:1 a
// plan of 300 builds still gets a row for each. A section that does
// not fit stops at a whole row, node or diagram and says how many it did
// not show and which command shows them.
type planComment struct {
	p *plan.Plan
	// planFile is the saved plan the comment sends readers to for what it
	// leaves out; "" when the plan was not saved.
	planFile   string
	limit      int
	graphLimit int
}

// newPlanComment returns the comment of p at the standard limits.
func newPlanComment(p *plan.Plan, planFile string) *planComment {
	return &planComment{p: p, planFile: planFile, limit: commentLimit, graphLimit: mermaidLimit}
}

// writePlanMarkdown prints the plan's comment.
func writePlanMarkdown(w io.Writer, p *plan.Plan, planFile string) error {
	_, err := io.WriteString(w, newPlanComment(p, planFile).String())
	return err
}

// String renders the comment.
func (pc *planComment) String() string {
	head := pc.head()
	if !pc.p.HasChanges() {
		return head
	}
	groups := pc.imageGroups()
	tables, details := pc.tableGroups(groups), pc.detailGroups(groups)
	sections := []func(budget int) string{
		func(budget int) string { return pack(tables, budget, pc.tablesNote) },
		func(budget int) string { return pack(details, budget, pc.detailsNote) },
		pc.graph(),
	}
	weights := []int{3, 1, 1}
	avail := max(pc.limit-len(head), 0)
	demands := make([]int, len(sections))
	for i, render := range sections {
		demands[i] = len(render(avail))
	}
	var b strings.Builder
	b.WriteString(head)
	for i, budget := range share(avail, demands, weights) {
		b.WriteString(sections[i](budget))
	}
	return b.String()
}

// head is the comment's opening: the summary, the estimate, the plan's
// scope and its notes. It is small whatever the plan's size.
func (pc *planComment) head() string {
	p := pc.p
	var b strings.Builder
	b.WriteString(commentMarker + "\n## hybrid plan\n\n")
	if !p.HasChanges() {
		b.WriteString("**No changes.** The workspace is up to date: every render and build matches its inputs.\n\n")
	} else {
		fmt.Fprintf(&b, "**%s**\n\n", p.Summary.String())
		if e := estimateSentence(p); e != "" {
			fmt.Fprintf(&b, "Estimate: %s.\n\n", mdText(e))
		}
	}
	var scope []string
	for _, t := range p.Targets {
		scope = append(scope, mdCode("-target="+truncate(t, 200)))
	}
	for _, e := range p.Envs {
		scope = append(scope, mdCode("-env="+e))
	}
	if len(scope) > scopeLimit {
		scope = append(scope[:scopeLimit], fmt.Sprintf("and %d more", len(scope)-scopeLimit))
	}
	if len(scope) > 0 {
		fmt.Fprintf(&b, "Planned for %s only.\n\n", strings.Join(scope, " "))
	}
	if p.WithoutLock {
		b.WriteString("> Made without the state lock (`-lock=false`): another command may have been writing the state.\n\n")
	}
	var notes []string
	for _, c := range p.Changes {
		if c.Note != "" {
			notes = append(notes, fmt.Sprintf("- %s: %s\n", mdCode(c.Address), mdText(truncate(c.Note, 400))))
		}
	}
	if len(notes) > 0 {
		b.WriteString("Left as they are:\n\n")
		for i, n := range notes {
			if i == 10 {
				fmt.Fprintf(&b, "- … and %d more\n", len(notes)-i)
				break
			}
			b.WriteString(n)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// imageGroup is what a plan changes of one image across its environments,
// or of the sources (image "").
type imageGroup struct {
	image string
	// entries holds an entry per environment, or per source.
	entries []*entry
}

// entry is what a plan changes of one image in one environment: its
// build and its render, either of which may be unchanged (nil); or, in the
// sources' group, one source's change. An entry is a table row and a
// details entry.
type entry struct {
	build, render *plan.Change
	source        *plan.Change
}

// main is the change a table row and a details entry are about: the build,
// else the render or source.
func (e *entry) main() *plan.Change {
	switch {
	case e.build != nil:
		return e.build
	case e.render != nil:
		return e.render
	}
	return e.source
}

// imageGroups collects the plan's changes: the sources first, as a lock
// bump explains the builds it moves, then by image, images in name order
// and environments in name order within an image.
func (pc *planComment) imageGroups() []*imageGroup {
	byImage := map[string]*imageGroup{}
	byEnv := map[string]*entry{}
	var sources []*entry
	for _, c := range pc.p.Changes {
		if !c.Runs() {
			continue
		}
		if c.Type == plan.TypeSource {
			sources = append(sources, &entry{source: c})
			continue
		}
		g := byImage[c.Image]
		if g == nil {
			g = &imageGroup{image: c.Image}
			byImage[c.Image] = g
		}
		key := c.Env + "\x00" + c.Image
		e := byEnv[key]
		if e == nil {
			e = &entry{}
			byEnv[key] = e
			g.entries = append(g.entries, e)
		}
		if c.Type == plan.TypeBuild {
			e.build = c
		} else {
			e.render = c
		}
	}
	var out []*imageGroup
	if len(sources) > 0 {
		out = append(out, &imageGroup{entries: sources})
	}
	for _, g := range byImage {
		sort.Slice(g.entries, func(i, j int) bool { return g.entries[i].main().Env < g.entries[j].main().Env })
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].image < out[j].image })
	return out
}

// tableGroups are the summary tables: one per image, one row per changed
// build (or render, when its build does not change), and one for the
// sources.
func (pc *planComment) tableGroups(groups []*imageGroup) []group {
	var out []group
	for _, g := range groups {
		tg := group{close: "\n"}
		if g.image == "" {
			tg.open = "### Sources\n\n| Source | Action | Why |\n|:--|:--|:--|\n"
		} else {
			tg.open = fmt.Sprintf("### %s\n\n| Build | Action | Why | Last build |\n|:--|:--|:--|--:|\n", mdCode(g.image))
		}
		for _, e := range g.entries {
			c := e.main()
			row := fmt.Sprintf("| %s | %s | %s |", mdCode(c.Address), actionLabel(c), firstReason(c))
			if g.image != "" {
				row += " " + durationCell(e.build) + " |"
			}
			tg.items = append(tg.items, item{text: row + "\n", kind: c.Type})
		}
		out = append(out, tg)
	}
	return out
}

// tablesNote says how many rows the tables left out.
func (pc *planComment) tablesNote(left tally) string {
	return fmt.Sprintf("_… %s not shown; %s for the whole plan._\n\n", left, pc.showHint())
}

// detailGroups are each image's full reasons, collapsed: per environment,
// the build's reasons, its render's, and the variables that change as a
// diff.
func (pc *planComment) detailGroups(groups []*imageGroup) []group {
	var out []group
	for _, g := range groups {
		what := "the sources"
		if g.image != "" {
			what = "<code>" + htmlText(g.image) + "</code>"
		}
		dg := group{
			open:  fmt.Sprintf("<details><summary>Why %s changes</summary>\n\n", what),
			close: "</details>\n\n",
		}
		for _, e := range g.entries {
			dg.items = append(dg.items, item{text: detailEntry(e), kind: e.main().Type})
		}
		out = append(out, dg)
	}
	return out
}

// detailsNote says how many entries the details left out.
func (pc *planComment) detailsNote(left tally) string {
	return fmt.Sprintf("_The reasons of %s are not shown; %s for all of them._\n\n", left, pc.showHint())
}

// detailEntry is one node's full reasons: a line naming it, its reasons as
// a list (its render's too), and the variables that change as a diff, with
// sensitive values masked.
func detailEntry(e *entry) string {
	c := e.main()
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** %s", mdCode(c.Address), actionLabel(c))
	if d := lastDuration(c); d != "" && c.Action != plan.Delete {
		fmt.Fprintf(&b, " · last build took %s", d)
	}
	b.WriteString("\n\n")
	var bullets, diff []string
	for _, r := range c.Reasons {
		switch {
		case r.Kind == plan.ReasonSensitive && strings.HasPrefix(r.Input, "var "):
			diff = append(diff, variableDiff(strings.TrimPrefix(r.Input, "var "), r.Before, r.After)...)
		case r.Kind == plan.ReasonVariable && c.Type == plan.TypeRender:
			diff = append(diff, variableDiff(strings.TrimPrefix(r.Input, "var "), r.Before, r.After)...)
		default:
			bullets = append(bullets, reasonBullet(reasonText(r)))
		}
	}
	if e.render != nil && e.render != c {
		for _, r := range e.render.Reasons {
			if r.Kind == plan.ReasonVariable {
				diff = append(diff, variableDiff(strings.TrimPrefix(r.Input, "var "), r.Before, r.After)...)
				continue
			}
			bullets = append(bullets, mdCode(e.render.Address)+": "+reasonBullet(reasonText(r)))
		}
	}
	for i, line := range bullets {
		if i == entryReasonLimit {
			fmt.Fprintf(&b, "- … and %d more\n", len(bullets)-i)
			break
		}
		fmt.Fprintf(&b, "- %s\n", line)
	}
	if len(bullets) > 0 {
		b.WriteString("\n")
	}
	if len(diff) > 0 {
		if len(diff) > entryDiffLimit {
			diff = append(diff[:entryDiffLimit], fmt.Sprintf("# … and %d more lines", len(diff)-entryDiffLimit))
		}
		body := strings.Join(diff, "\n") + "\n"
		fence := codeFence(body)
		fmt.Fprintf(&b, "%sdiff\n%s%s\n\n", fence, body, fence)
	}
	return b.String()
}

// reasonBullet is a reason as the text of a list item: its first line,
// and the lines after it (packer's whole error, for a failed build) as a
// code block inside the item, each part at most 1,000 characters.
func reasonBullet(text string) string {
	first, rest, _ := strings.Cut(text, "\n")
	s := mdText(truncate(first, 1000))
	rest = strings.Trim(rest, "\n")
	if strings.TrimSpace(rest) == "" {
		return s
	}
	rest = truncate(rest, 1000)
	fence := codeFence(rest)
	return s + "\n\n  " + fence + "\n" + indentLines("  "+rest, "  ") + "\n  " + fence
}

// variableDiff shows a variable's change as diff lines: the old value
// removed, the new one added. Multi-line values keep the mark on every
// line. Values are the plan's, where sensitive values are already
// "(sensitive)".
func variableDiff(name, before, after string) []string {
	var out []string
	mark := func(sign, value string) {
		for i, line := range strings.Split(value, "\n") {
			if i == 0 {
				line = name + " = " + line
			}
			out = append(out, sign+" "+line)
		}
	}
	if before != "" {
		mark("-", before)
	}
	if after != "" {
		mark("+", after)
	}
	return out
}

// showHint is the command that shows all of the plan.
func (pc *planComment) showHint() string {
	if pc.planFile == "" {
		return "run " + mdCode("hybrid plan")
	}
	return "run " + mdCode("hybrid show "+pc.planFile)
}

// actionLabel is a change's action in a few words, with plan's mark.
func actionLabel(c *plan.Change) string {
	switch c.Action {
	case plan.Delete:
		return "- forget"
	case plan.Create:
		switch c.Type {
		case plan.TypeSource:
			return "+ check out"
		case plan.TypeRender:
			return "+ render"
		}
		return "+ build"
	}
	switch c.Type {
	case plan.TypeSource:
		return "~ sync"
	case plan.TypeRender:
		return "~ re-render"
	}
	return "~ rebuild"
}

// firstReason is a change's first reason for a table cell, without the
// digests the details give, saying how many more there are. Of a reason
// over several lines (packer's whole error), the cell takes the first.
func firstReason(c *plan.Change) string {
	if len(c.Reasons) == 0 {
		return ""
	}
	msg := c.Reasons[0].Message
	if first, _, more := strings.Cut(msg, "\n"); more {
		msg = first + " …"
	}
	s := mdText(truncate(msg, cellLimit))
	if n := len(c.Reasons) - 1; n > 0 {
		s += fmt.Sprintf(" (+%d more)", n)
	}
	return s
}

// durationCell is a build's last duration for the table: the duration,
// "never built" for a build that never ran, or "unknown".
func durationCell(c *plan.Change) string {
	switch {
	case c == nil || c.Action == plan.Delete:
		return ""
	case c.LastDurationSeconds != nil:
		return lastDuration(c)
	case c.Action == plan.Create:
		return "never built"
	}
	return "unknown"
}
