package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/plan"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// screen replays what was written to a terminal and returns the lines it
// shows: "\r" returns to the start of the row, "\x1b[K" erases to its end,
// "\n" moves to the next row, and colour codes are dropped.
func screen(t *testing.T, out string) []string {
	t.Helper()
	rows := [][]rune{nil}
	col := 0
	in := []rune(out)
	for i := 0; i < len(in); i++ {
		row := &rows[len(rows)-1]
		switch c := in[i]; c {
		case '\r':
			col = 0
		case '\n':
			rows = append(rows, nil)
			col = 0
		case 0x1b:
			end := strings.IndexAny(string(in[i:]), "Km")
			if end < 0 {
				t.Fatalf("unterminated escape sequence at %q", string(in[i:]))
			}
			end = len([]rune(string(in[i:])[:end]))
			if in[i+end] == 'K' {
				*row = (*row)[:col]
			}
			i += end
		default:
			if col < len(*row) {
				(*row)[col] = c
			} else {
				*row = append(*row, c)
			}
			col++
		}
	}
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = string(r)
	}
	return lines
}

func TestProgressLineText(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	width := 200
	p := newProgressLine(&bytes.Buffer{}, 9, func() int { return width }, clock.now)
	p.nodeStarted("build.dev.base")
	clock.advance(5 * time.Second)
	p.nodeStarted("build.prod.app")
	p.nodeStarted("build.dev.app")
	p.nodeStarted("render.dev.base")
	p.nodeFinished("render.dev.base", apply.Succeeded)
	p.nodeStarted("build.dev.broken")
	p.nodeFinished("build.dev.broken", apply.Failed)
	p.nodeFinished("build.dev.after-broken", apply.Skipped)
	clock.advance(60 * time.Second)

	want := "Applying: 3 running, 1 done, 1 failed, 1 skipped, 3 queued · build.dev.base 1m05s, build.dev.app 1m00s, build.prod.app 1m00s"
	if got := p.text(); got != want {
		t.Errorf("status line:\n got %q\nwant %q", got, want)
	}

	// Cut to the terminal, one column short of its edge.
	width = 40
	want = "Applying: 3 running, 1 done, 1 failed,…"
	if got := p.text(); got != want {
		t.Errorf("status line in 40 columns:\n got %q\nwant %q", got, want)
	}

	// Timed out counts as failed; cancelled is counted apart.
	width = 200
	p.nodeFinished("build.dev.base", apply.TimedOut)
	p.nodeFinished("build.dev.app", apply.Cancelled)
	p.nodeFinished("build.prod.app", apply.Succeeded)
	want = "Applying: 0 running, 2 done, 2 failed, 1 skipped, 1 cancelled, 3 queued"
	if got := p.text(); got != want {
		t.Errorf("status line:\n got %q\nwant %q", got, want)
	}
}

// TestProgressLineDrawing checks the bytes written: output goes above the
// status line, which is erased and drawn again below it, and close leaves
// no trace of it.
func TestProgressLineDrawing(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	var out bytes.Buffer
	p := newProgressLine(&out, 2, func() int { return 80 }, clock.now)
	p.nodeStarted("build.dev.base")
	p.println("build.dev.base: Building...")
	clock.advance(2 * time.Second)
	p.println("build.dev.base: ==> null.base: Running")
	p.close()
	want := "build.dev.base: Building...\n" +
		"\r\x1b[KApplying: 1 running, 0 done, 1 queued · build.dev.base 0s" +
		"\r\x1b[K" + "build.dev.base: ==> null.base: Running\n" +
		"\r\x1b[KApplying: 1 running, 0 done, 1 queued · build.dev.base 2s" +
		"\r\x1b[K"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("wrong output (-want +got):\n%s", diff)
	}
	// Closing twice (summary, then the command's deferred close) is safe,
	// and a notice printed after the close does not bring the line back.
	p.close()
	p.println("Interrupt received")
	if got, after := out.String()[len(want):], "Interrupt received\n"; got != after {
		t.Errorf("after close: wrote %q, want %q", got, after)
	}
}

// TestApplyHumanOnATerminal runs apply's human view with a status line
// through a failure and its skipped dependent, and checks what a terminal
// shows at the end: every line of output, whole, then the closing table,
// and no status line left behind.
func TestApplyHumanOnATerminal(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
	var out bytes.Buffer
	h := &applyHuman{v: &view{}, w: &out}
	h.live = newProgressLine(&out, 3, func() int { return 60 }, clock.now)

	h.NodeStarted("build.dev.base", plan.Create)
	h.NodeStarted("build.dev.other", plan.Update)
	h.Output("build.dev.base", "==> null.base: provisioning")
	h.StillRunning("build.dev.other", 30*time.Second) // shown by the status line instead
	clock.advance(3 * time.Second)
	failed := apply.NodeResult{Address: "build.dev.base", Type: plan.TypeBuild, Action: plan.Create, Outcome: apply.Failed,
		Err: errors.New("packer exited with status 1: boom\nmore detail"), Duration: 3 * time.Second, LogPath: "logs/dev/base/1.log"}
	h.NodeFinished(failed)
	skipped := apply.NodeResult{Address: "build.dev.app", Type: plan.TypeBuild, Action: plan.Create, Outcome: apply.Skipped,
		RootCauses: []string{"build.dev.base"}}
	h.NodeFinished(skipped)
	if got, want := screen(t, out.String())[6], "Applying: 1 running, 0 done, 1 failed, 1 skipped, 0 queued…"; got != want {
		t.Errorf("status line while build.dev.other runs:\n got %q\nwant %q", got, want)
	}
	clock.advance(2 * time.Second)
	other := apply.NodeResult{Address: "build.dev.other", Type: plan.TypeBuild, Action: plan.Update, Outcome: apply.Succeeded,
		Duration: 5 * time.Second, LogPath: "logs/dev/other/1.log"}
	h.NodeFinished(other)
	h.summary(&apply.Result{Nodes: []apply.NodeResult{skipped, failed, other}})

	want := []string{
		"build.dev.base: Building...",
		"build.dev.other: Building...",
		"build.dev.base: ==> null.base: provisioning",
		"build.dev.base: failed: packer exited with status 1: boom",
		"more detail",
		"build.dev.app: skipped because build.dev.base failed",
		"build.dev.other: done after 5s",
		"",
		"NODE             OUTCOME    DURATION  LOG                   RESULT",
		"build.dev.app    skipped    -         -                     because build.dev.base failed",
		"build.dev.base   failed     3s        logs/dev/base/1.log   packer exited with status 1: boom",
		"build.dev.other  succeeded  5s        logs/dev/other/1.log  -",
		"",
		"Apply finished with errors! 1 built, 0 rendered, 1 failed, 1 skipped, 0 forgotten.",
		"",
	}
	if diff := cmp.Diff(want, screen(t, out.String())); diff != "" {
		t.Errorf("wrong screen (-want +got):\n%s", diff)
	}
}

func TestElapsedString(t *testing.T) {
	tests := map[time.Duration]string{
		0:                               "0s",
		1400 * time.Millisecond:         "1s",
		59 * time.Second:                "59s",
		65 * time.Second:                "1m05s",
		time.Hour + 3*time.Minute + 9e9: "1h03m",
		26*time.Hour + 59*time.Minute:   "26h59m",
	}
	for d, want := range tests {
		if got := elapsedString(d); got != want {
			t.Errorf("elapsedString(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestProgressInterval(t *testing.T) {
	tests := map[string]struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		"default":  {value: "", want: 30 * time.Second},
		"seconds":  {value: "2s", want: 2 * time.Second},
		"no unit":  {value: "5", wantErr: true},
		"zero":     {value: "0s", wantErr: true},
		"negative": {value: "-1s", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := progressInterval(func(string) string { return tc.value })
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error: %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("interval %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLiveProgress(t *testing.T) {
	tests := map[string]struct {
		tty, json bool
		term      string
		want      bool
	}{
		"terminal":      {tty: true, term: "xterm-256color", want: true},
		"pipe":          {tty: false, term: "xterm-256color", want: false},
		"json":          {tty: true, json: true, term: "xterm", want: false},
		"dumb terminal": {tty: true, term: "dumb", want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := liveProgress(streams{OutTTY: tc.tty}, tc.json, func(string) string { return tc.term })
			if got != tc.want {
				t.Errorf("liveProgress = %v, want %v", got, tc.want)
			}
		})
	}
}
