package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/hybridcore/hybrid/apply"
)

// defaultProgressInterval is how often apply, without a terminal, prints a
// "still building" line for each running build.
const defaultProgressInterval = 30 * time.Second

// progressInterval is the interval of apply's "still building" lines:
// HYBRID_PROGRESS_INTERVAL (a duration such as 10s) when set, so tests and
// impatient pipelines can shorten it, else defaultProgressInterval.
func progressInterval(getenv func(string) string) (time.Duration, error) {
	s := getenv("HYBRID_PROGRESS_INTERVAL")
	if s == "" {
		return defaultProgressInterval, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("HYBRID_PROGRESS_INTERVAL must be a positive duration, such as 10s or 1m")
	}
	return d, nil
}

// liveProgress reports whether apply draws a live status line: only on a
// terminal that understands cursor movement, and never under -json.
func liveProgress(s streams, jsonOut bool, getenv func(string) string) bool {
	return s.OutTTY && !jsonOut && getenv("TERM") != "dumb"
}

// terminalWidth returns a function giving the width of the terminal w is,
// asked again at every redraw so a resized window is followed; 0 when it
// cannot tell.
func terminalWidth(w io.Writer) func() int {
	f, ok := w.(*os.File)
	return func() int {
		if !ok {
			return 0
		}
		cols, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return cols
	}
}

// progressLine is apply's live status line on a terminal: the last line of
// the output, redrawn in place, counting the nodes running, done, failed,
// skipped and queued, then naming the running ones with how long each has
// run, longest first:
//
//	Applying: 2 running, 3 done, 1 failed, 4 queued · build.dev.base 1m05s, build.prod.app 12s
//
// Lines printed while it is shown go above it: println erases it, writes
// the line and draws it again below. It is cut to the terminal's width, so
// that it never wraps (a wrapped line could not be erased in place).
type progressLine struct {
	w     io.Writer
	width func() int // terminal columns; 0 or less means 80
	now   func() time.Time
	total int // the nodes the apply will do: every change but no-ops

	mu        sync.Mutex
	running   map[string]time.Time // started, not finished, with their start
	done      int
	failed    int // failed or timed out
	skipped   int
	cancelled int
	shown     bool // the line is on the screen
	closed    bool // the line is gone for good: close was called

	stop    chan struct{}
	stopped chan struct{}
}

// newProgressLine returns a status line for an apply of total nodes,
// drawn on w; nothing is drawn before the first event or start's first tick.
func newProgressLine(w io.Writer, total int, width func() int, now func() time.Time) *progressLine {
	return &progressLine{w: w, width: width, now: now, total: total, running: map[string]time.Time{}}
}

// start redraws the line every tick, so the elapsed times move, until
// close.
func (p *progressLine) start(tick time.Duration) {
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.stopped)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.draw()
				p.mu.Unlock()
			}
		}
	}()
}

// close stops the redraws and erases the line, leaving the screen as if it
// had never been there.
func (p *progressLine) close() {
	if p.stop != nil {
		close(p.stop)
		<-p.stopped
		p.stop = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	p.closed = true
}

// println prints a line of output above the status line.
func (p *progressLine) println(line string) { p.printlnTo(p.w, line) }

// printlnTo prints a line on w, another stream to the same terminal (a
// notice on stderr), above the status line.
func (p *progressLine) printlnTo(w io.Writer, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	fmt.Fprintln(w, line)
	p.draw()
}

// nodeStarted counts a node as running from now.
func (p *progressLine) nodeStarted(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[addr] = p.now()
}

// nodeFinished counts a node as done, failed, skipped or cancelled.
func (p *progressLine) nodeFinished(addr string, o apply.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, addr)
	switch o {
	case apply.Succeeded:
		p.done++
	case apply.Failed, apply.TimedOut:
		p.failed++
	case apply.Skipped:
		p.skipped++
	case apply.Cancelled:
		p.cancelled++
	}
}

// erase removes the line from the screen, leaving the cursor at the start
// of its row. The caller holds p.mu.
func (p *progressLine) erase() {
	if p.shown {
		io.WriteString(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// draw writes the line, replacing the one on the screen, unless it is
// closed. The caller holds p.mu.
func (p *progressLine) draw() {
	if p.closed {
		return
	}
	io.WriteString(p.w, "\r\x1b[K"+p.text())
	p.shown = true
}

// text is the status line, cut to the terminal's width. The caller holds
// p.mu.
func (p *progressLine) text() string {
	queued := p.total - len(p.running) - p.done - p.failed - p.skipped - p.cancelled
	counts := []string{fmt.Sprintf("%d running", len(p.running)), fmt.Sprintf("%d done", p.done)}
	for _, c := range []struct {
		n    int
		what string
	}{{p.failed, "failed"}, {p.skipped, "skipped"}, {p.cancelled, "cancelled"}} {
		if c.n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	counts = append(counts, fmt.Sprintf("%d queued", max(queued, 0)))
	line := "Applying: " + strings.Join(counts, ", ")

	addrs := make([]string, 0, len(p.running))
	for a := range p.running {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool {
		si, sj := p.running[addrs[i]], p.running[addrs[j]]
		if !si.Equal(sj) {
			return si.Before(sj)
		}
		return addrs[i] < addrs[j]
	})
	now := p.now()
	for i, a := range addrs {
		sep := ", "
		if i == 0 {
			sep = " · "
		}
		line += sep + a + " " + elapsedString(now.Sub(p.running[a]))
	}

	width := p.width()
	if width <= 0 {
		width = 80
	}
	// One column short of the edge: a line that fills the last column
	// moves some terminals' cursor to the next row.
	if limit := width - 1; utf8.RuneCountInString(line) > limit {
		line = string([]rune(line)[:limit-1]) + "…"
	}
	return line
}

// elapsedString is a running time as the status line shows it: 7s, 1m05s,
// 2h03m.
func elapsedString(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
