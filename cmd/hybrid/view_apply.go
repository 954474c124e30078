package main

import (
	"errors"
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
// prefixed with its address, as they stream, and a line for every node that
// starts and ends. On a terminal a live status line stays below them (live);
// without one, every running build gets a "still building" line at each
// heartbeat instead.
type applyHuman struct {
	v    *view
	w    io.Writer
	live *progressLine // nil without a terminal
	mu   sync.Mutex
}

var _ apply.Sink = (*applyHuman)(nil)

func (h *applyHuman) line(format string, args ...any) {
	if h.live != nil {
		h.live.println(fmt.Sprintf(format, args...))
		return
	}
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
	if h.live != nil {
		h.live.nodeStarted(addr)
	}
	h.line("%s: %s", h.v.bold(addr), what)
}

func (h *applyHuman) Output(addr, line string) {
	for _, l := range strings.Split(line, "\n") {
		h.line("%s: %s", addr, l)
	}
}

func (h *applyHuman) StillRunning(addr string, elapsed time.Duration) {
	if h.live != nil {
		return // the status line shows how long each build has run
	}
	h.line("%s: still building (%s elapsed)", h.v.bold(addr), elapsed)
}

func (h *applyHuman) NodeFinished(r apply.NodeResult) {
	if h.live != nil {
		h.live.nodeFinished(r.Address, r.Outcome)
	}
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

// summary erases the status line, if any, then prints the closing table,
// one row for every node the apply did or meant to do, and the closing
// sentence. The table is what a pipeline log is read for after a long
// apply: each node's outcome, how long it took, the log of each build, and
// what it produced or the first line of its error.
func (h *applyHuman) summary(res *apply.Result) {
	if h.live != nil {
		h.live.close()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.w
	fmt.Fprintln(w)
	var rows []apply.NodeResult
	for _, n := range res.Nodes {
		if n.Action != plan.NoOp {
			rows = append(rows, n)
		}
	}
	if len(rows) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NODE\tOUTCOME\tDURATION\tLOG\tRESULT")
		for _, n := range rows {
			outcome := string(n.Outcome)
			if n.Action == plan.Delete && n.Outcome == apply.Succeeded {
				outcome = "forgotten"
			}
			dur := "-"
			if n.Duration > 0 {
				dur = n.Duration.Round(100 * time.Millisecond).String()
			}
			log := n.LogPath
			if log == "" {
				log = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Address, outcome, dur, log, resultText(n))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, h.v.bold(applySummary(res)))
}

// resultText is the last column of the closing table: what a node
// produced, or why it did not.
func resultText(n apply.NodeResult) string {
	switch {
	case n.Err != nil:
		text := n.Err.Error()
		var be *apply.BuildError
		if errors.As(n.Err, &be) {
			// The log has its own column.
			text = be.Message
		}
		first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
		return first
	case n.Outcome == apply.Skipped:
		return "because " + strings.Join(n.RootCauses, ", ") + " failed"
	case len(n.Artifacts) > 0:
		a := n.Artifacts[0]
		text := a.ID
		if len(a.Files) > 0 {
			text += " (" + strings.Join(a.Files, ", ") + ")"
		}
		return text
	}
	return "-"
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
