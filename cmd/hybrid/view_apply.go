package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/plan"
)

// applyHuman prints apply's progress for people: each build's output lines
// prefixed with its address, as they stream.
type applyHuman struct {
	v  *view
	w  io.Writer
	mu sync.Mutex
}

var _ apply.Sink = (*applyHuman)(nil)

func (h *applyHuman) line(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.w, format+"\n", args...)
}

func (h *applyHuman) NodeStarted(addr string, action plan.Action) {
	var what string
	switch {
	case action == plan.Delete:
		what = "Forgetting..."
	case strings.HasPrefix(addr, "source."):
		what = "Syncing..."
	case strings.HasPrefix(addr, "render."):
		what = "Rendering..."
	default:
		what = "Building..."
	}
	h.line("%s: %s", h.v.bold(addr), what)
}

func (h *applyHuman) Output(addr, line string) {
	for _, l := range strings.Split(line, "\n") {
		h.line("%s: %s", addr, l)
	}
}

func (h *applyHuman) StillRunning(addr string, elapsed time.Duration) {
	h.line("%s: still building (%s elapsed)", h.v.bold(addr), elapsed)
}

func (h *applyHuman) NodeFinished(r apply.NodeResult) {
	switch r.Outcome {
	case apply.Succeeded:
		h.line("%s: %s", h.v.bold(r.Address), h.v.paint("32", fmt.Sprintf("done after %s", r.Duration.Round(time.Millisecond*100))))
	case apply.Failed:
		h.line("%s: %s", h.v.bold(r.Address), h.v.paint("31", "failed: "+r.Err.Error()))
	case apply.Skipped:
		h.line("%s: skipped because %s failed", h.v.bold(r.Address), strings.Join(r.RootCauses, ", "))
	case apply.Cancelled:
		h.line("%s: cancelled", h.v.bold(r.Address))
	case apply.TimedOut:
		h.line("%s: %s", h.v.bold(r.Address), h.v.paint("31", r.Err.Error()))
	}
}

// summary prints the closing line and the table of builds.
func (h *applyHuman) summary(res *apply.Result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.w
	fmt.Fprintln(w)
	var rows []apply.NodeResult
	for _, n := range res.Nodes {
		if n.Type == plan.TypeBuild && n.Action != plan.NoOp && n.Action != plan.Delete {
			rows = append(rows, n)
		}
	}
	if len(rows) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "BUILD\tSTATUS\tDURATION\tARTIFACT")
		for _, n := range rows {
			art := "-"
			if len(n.Artifacts) > 0 {
				a := n.Artifacts[0]
				art = a.ID
				if len(a.Files) > 0 {
					art += " (" + strings.Join(a.Files, ", ") + ")"
				}
			}
			dur := "-"
			if n.Duration > 0 {
				dur = n.Duration.Round(100 * time.Millisecond).String()
			}
			status := string(n.Outcome)
			if n.Outcome == apply.TimedOut && n.Err != nil {
				status = n.Err.Error() // "timed out after 2h0m0s"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Address, status, dur, art)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, h.v.bold(applySummary(res)))
}

// applySummary is apply's closing sentence.
func applySummary(res *apply.Result) string {
	built := res.Count(plan.TypeBuild, apply.Succeeded)
	rendered := res.Count(plan.TypeRender, apply.Succeeded)
	failed := res.Count("", apply.Failed)
	skipped := res.Count("", apply.Skipped)
	cancelled := res.Count("", apply.Cancelled)
	synced := res.Count(plan.TypeSource, apply.Succeeded)
	// Forgotten nodes are counted apart: they are deletes of any type.
	built -= countDeletes(res, plan.TypeBuild)
	rendered -= countDeletes(res, plan.TypeRender)
	synced -= countDeletes(res, plan.TypeSource)
	var b strings.Builder
	b.WriteString("Apply complete! ")
	if !res.OK() {
		b.Reset()
		b.WriteString("Apply finished with errors! ")
	}
	if synced > 0 {
		fmt.Fprintf(&b, "%d synced, ", synced)
	}
	fmt.Fprintf(&b, "%d built, %d rendered, %d failed, ", built, rendered, failed)
	if skipped > 0 {
		fmt.Fprintf(&b, "%d skipped, ", skipped)
	}
	if cancelled > 0 {
		fmt.Fprintf(&b, "%d cancelled, ", cancelled)
	}
	if timedOut := res.Count("", apply.TimedOut); timedOut > 0 {
		fmt.Fprintf(&b, "%d timed out, ", timedOut)
	}
	fmt.Fprintf(&b, "%d forgotten.", res.Forgotten())
	return b.String()
}

func countDeletes(res *apply.Result, typ string) int {
	n := 0
	for _, r := range res.Nodes {
		if r.Type == typ && r.Action == plan.Delete && r.Outcome == apply.Succeeded {
			n++
		}
	}
	return n
}
