package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"
)

// view renders what a command has to say for people: diagnostics with
// source snippets, colour on a terminal. Engine packages never print; they
// return values and diagnostics for a view to show.
type view struct {
	s     streams
	color bool
	// events, under -json, carries diagnostics and errors to stdout as
	// JSON events instead (useJSON).
	events *jsonEvents
}

// newView returns the view of a command run with streams s; noColor is its
// -no-color option (see colorEnabled for the rest of the colour policy).
func newView(s streams, noColor bool) *view {
	return &view{s: s, color: colorEnabled(s.OutTTY, noColor, os.Getenv)}
}

// diagnostics prints diags to stderr (errors) and stdout (warnings), each
// with file, line and snippet when the file is in files; under -json, as
// events on stdout.
func (v *view) diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) {
	if v.events != nil {
		v.events.diagnostics(files, diags)
		return
	}
	width := 0
	if f, ok := v.s.Err.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			width = w - 1
		}
	}
	for _, d := range diags {
		w := v.s.Err
		if d.Severity == hcl.DiagWarning {
			w = v.s.Out
		}
		hcl.NewDiagnosticTextWriter(w, files, uint(width), v.color).WriteDiagnostic(d)
	}
}

// errorf prints a one-line cause and the next step, the shape of every error
// that is not about a line of configuration; under -json, as a diagnostic
// event whose summary is that line.
func (v *view) errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if v.events != nil {
		v.events.diagnostics(nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: msg}})
		return
	}
	if v.color {
		fmt.Fprintf(v.s.Err, "\x1b[31;1mError:\x1b[0m %s\n", msg)
		return
	}
	fmt.Fprintf(v.s.Err, "Error: %s\n", msg)
}

func (v *view) bold(s string) string {
	if !v.color {
		return s
	}
	return "\x1b[1m" + s + "\x1b[0m"
}

// paint wraps s in an ANSI colour code when colour is on.
func (v *view) paint(code, s string) string {
	if !v.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// writeJSON writes one indented JSON document.
func writeJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints nothing itself: the command's Help says how to use it.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// flagError turns a flag parsing error into a diagnostic that points at the
// command's help.
func flagError(cmd string, err error) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid command-line option",
		Detail:   fmt.Sprintf("%v. Run \"hybrid %s -help\" for the options.", strings.TrimSuffix(err.Error(), "."), cmd),
	}}
}
