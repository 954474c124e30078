package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcled"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/internal/version"
	"github.com/hybridcore/hybrid/plan"
)

// This file is the machine-readable half of the view: what commands print
// under -json, described by the schemas in docs/schema (docs/json.md).
//
// A command that makes a document (plan, show, images, version) prints it
// when it succeeds, with its warnings inside; when it fails it prints its
// diagnostics instead, as events, one per line. apply prints events only.
// validate prints its document whatever the outcome, as terraform does.
// Whatever happens, stdout holds only JSON.

// jsonFormatVersion is the version of the event stream and of the
// validate document.
const jsonFormatVersion = "1.0"

// The levels of events, as terraform names them.
const (
	levelInfo  = "info"
	levelWarn  = "warn"
	levelError = "error"
)

// wantsJSON reports whether a command line asks for -json, read before the
// command parses it, so that even a command line that does not parse is
// answered in the form its caller reads. As with flags, the last -json
// wins.
func wantsJSON(args []string) bool {
	want := false
	for _, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "json" {
			continue
		}
		b, err := strconv.ParseBool(value)
		want = !hasValue || (err == nil && b)
	}
	return want
}

// useJSON makes v machine-readable: its diagnostics and errors become
// events on stdout, and it has no colour. It returns the stream, for the
// command's own events.
func (v *view) useJSON() *jsonEvents {
	v.events = &jsonEvents{w: v.s.Out, now: time.Now}
	v.color = false
	return v.events
}

// jsonEvents writes hybrid's event stream: one JSON object per line, each
// written whole in one Write (and flushed, if the writer buffers), so that
// a consumer reading a pipe sees each event when it happens and never half
// of one.
type jsonEvents struct {
	w   io.Writer
	now func() time.Time
	mu  sync.Mutex
}

// emit writes one event. Fields hold the event type's own properties.
func (e *jsonEvents) emit(level, typ, msg string, fields map[string]any) {
	ev := make(map[string]any, len(fields)+6)
	for k, v := range fields {
		ev[k] = v
	}
	ev["@level"] = level
	ev["@message"] = msg
	ev["@module"] = "hybrid"
	ev["@timestamp"] = e.now().UTC().Format(time.RFC3339Nano)
	ev["type"] = typ
	ev["format_version"] = jsonFormatVersion
	b, err := json.Marshal(ev)
	if err != nil {
		// Only a value json cannot encode gets here: say so in an event
		// that can be encoded rather than lose it silently.
		b, _ = json.Marshal(map[string]any{
			"@level": levelError, "@message": fmt.Sprintf("cannot encode a %s event: %v", typ, err),
			"@module": "hybrid", "@timestamp": ev["@timestamp"], "type": "diagnostic", "format_version": jsonFormatVersion,
			"diagnostic": jsonDiagnostic{Severity: "error", Summary: "Cannot encode an event", Detail: fmt.Sprintf("A %s event could not be written as JSON: %v.", typ, err)},
		})
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.w.Write(append(b, '\n'))
	if f, ok := e.w.(interface{ Flush() error }); ok {
		f.Flush()
	}
}

// version writes the event that opens a stream: which hybrid writes it,
// and in which format ("ui", as terraform calls it).
func (e *jsonEvents) version() {
	e.emit(levelInfo, "version", "hybrid "+version.Version, map[string]any{
		"hybrid": version.Version,
		"ui":     jsonFormatVersion,
	})
}

// diagnostics writes one diagnostic event per diagnostic, with a snippet
// when its file is in files.
func (e *jsonEvents) diagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, d := range diags {
		j := newJSONDiagnostic(d, files)
		level, prefix := levelError, "Error: "
		if d.Severity == hcl.DiagWarning {
			level, prefix = levelWarn, "Warning: "
		}
		e.emit(level, "diagnostic", prefix+d.Summary, map[string]any{"diagnostic": j})
	}
}

// jsonDiagnostic is a diagnostic in terraform's machine-readable shape
// (docs/schema/diagnostic.schema.json).
type jsonDiagnostic struct {
	Severity string       `json:"severity"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	Range    *jsonRange   `json:"range,omitempty"`
	Snippet  *jsonSnippet `json:"snippet,omitempty"`
}

// jsonRange is the part of a file a diagnostic is about: start inclusive,
// end exclusive.
type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

// jsonPos is a position: line and column from 1, byte from 0.
type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// jsonSnippet is the source around a diagnostic's range, what the human
// output shows under "on FILE line N".
type jsonSnippet struct {
	// Context is the block the range is in ("image \"ubuntu\""), or nil.
	Context *string `json:"context"`
	// Code holds the whole lines the range and its context cover.
	Code      string `json:"code"`
	StartLine int    `json:"start_line"`
	// The highlight's byte offsets in Code.
	HighlightStartOffset int `json:"highlight_start_offset"`
	HighlightEndOffset   int `json:"highlight_end_offset"`
	// Values are the values of the references in the expression that
	// failed; never sensitive ones.
	Values []jsonExpressionValue `json:"values"`
}

// jsonExpressionValue says what one reference held when an expression
// failed: "var.size" "is 4096".
type jsonExpressionValue struct {
	Traversal string `json:"traversal"`
	Statement string `json:"statement"`
}

// newJSONDiagnostic converts d, with a snippet of its file when files has
// the file's text. Like the human output, it shows the lines of the subject
// and its context, and the values of the expression's references that are
// known and not sensitive.
func newJSONDiagnostic(d *hcl.Diagnostic, files map[string]*hcl.File) jsonDiagnostic {
	j := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
	if d.Severity == hcl.DiagWarning {
		j.Severity = "warning"
	}
	if d.Subject == nil {
		return j
	}
	highlight := *d.Subject
	// A subject without an end (a position, not a range) and an empty
	// range both highlight one character, as the human output does.
	if highlight.End == (hcl.Pos{}) {
		highlight.End = highlight.Start
	}
	if highlight.Empty() {
		highlight.End.Byte++
		highlight.End.Column++
	}
	j.Range = &jsonRange{
		Filename: highlight.Filename,
		Start:    jsonPos{Line: highlight.Start.Line, Column: highlight.Start.Column, Byte: highlight.Start.Byte},
		End:      jsonPos{Line: highlight.End.Line, Column: highlight.End.Column, Byte: highlight.End.Byte},
	}
	file := files[highlight.Filename]
	if file == nil || file.Bytes == nil {
		return j
	}
	span := highlight
	if d.Context != nil {
		span = hcl.RangeOver(span, *d.Context)
	}
	src := file.Bytes
	var code strings.Builder
	codeStart, startLine := -1, 0
	sc := hcl.NewRangeScanner(src, highlight.Filename, bufio.ScanLines)
	for sc.Scan() {
		line := sc.Range()
		if !line.Overlaps(span) {
			continue
		}
		if codeStart < 0 {
			codeStart, startLine = line.Start.Byte, line.Start.Line
		} else {
			code.WriteByte('\n')
		}
		code.Write(line.SliceBytes(src))
	}
	if codeStart < 0 {
		return j // the range is not in the file as hybrid has it
	}
	s := &jsonSnippet{
		Code:                 code.String(),
		StartLine:            startLine,
		HighlightStartOffset: clamp(highlight.Start.Byte-codeStart, 0, code.Len()),
		HighlightEndOffset:   clamp(highlight.End.Byte-codeStart, 0, code.Len()),
		Values:               expressionValues(d),
	}
	if c := hcled.ContextString(file, d.Subject.Start.Byte); c != "" {
		s.Context = &c
	}
	j.Snippet = s
	return j
}

// expressionValues lists what the references of the diagnostic's
// expression held, sorted by reference. Values that are unknown or carry
// a mark (a sensitive value, or one derived from it) are left out, as the
// human output leaves them out.
func expressionValues(d *hcl.Diagnostic) []jsonExpressionValue {
	out := []jsonExpressionValue{}
	if d.Expression == nil || d.EvalContext == nil {
		return out
	}
	seen := map[string]bool{}
	for _, traversal := range d.Expression.Variables() {
		val, diags := traversal.TraverseAbs(d.EvalContext)
		if diags.HasErrors() || !val.IsWhollyKnown() || val.ContainsMarked() {
			continue
		}
		name := traversalString(traversal)
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, jsonExpressionValue{Traversal: name, Statement: valueStatement(val)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Traversal < out[j].Traversal })
	return out
}

// traversalString writes a reference as it reads in hybrid.hcl:
// var.sizes["large"], image.base.
func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type().IsPrimitiveType() && s.Key.IsKnown() && !s.Key.IsNull() {
				b.WriteString("[" + compactValue(s.Key) + "]")
			} else {
				b.WriteString("[...]")
			}
		}
	}
	return b.String()
}

// valueStatement says what a value is, briefly: "is 4096", "is null",
// "is a list of string with 3 elements".
func valueStatement(v cty.Value) string {
	if v.IsNull() {
		return "is null"
	}
	ty := v.Type()
	if ty.IsPrimitiveType() {
		return "is " + compactValue(v)
	}
	return "is " + describeCollection(v)
}

// compactValue writes a known primitive value as HCL would.
func compactValue(v cty.Value) string {
	switch v.Type() {
	case cty.String:
		return strconv.Quote(v.AsString())
	case cty.Number:
		return v.AsBigFloat().Text('g', -1)
	case cty.Bool:
		return strconv.FormatBool(v.True())
	}
	return v.Type().FriendlyName()
}

// describeCollection names a collection, object or tuple by its type and
// size, not its contents, which may be long.
func describeCollection(v cty.Value) string {
	ty := v.Type()
	switch {
	case ty.IsObjectType():
		n := len(ty.AttributeTypes())
		switch n {
		case 0:
			return "an object with no attributes"
		case 1:
			return "an object with 1 attribute"
		}
		return fmt.Sprintf("an object with %d attributes", n)
	case ty.IsCollectionType() || ty.IsTupleType():
		n := v.LengthInt()
		switch n {
		case 0:
			return "an empty " + ty.FriendlyName()
		case 1:
			return "a " + ty.FriendlyName() + " with 1 element"
		}
		return fmt.Sprintf("a %s with %d elements", ty.FriendlyName(), n)
	}
	return "a " + ty.FriendlyName()
}

func clamp(n, lo, hi int) int {
	return max(lo, min(n, hi))
}

// jsonDiagnostics converts diags for a document's diagnostics list.
func jsonDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) []jsonDiagnostic {
	out := []jsonDiagnostic{}
	for _, d := range diags {
		out = append(out, newJSONDiagnostic(d, files))
	}
	return out
}

// warningsOf returns the warnings in diags, for the document of a command
// that succeeded.
func warningsOf(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			out = append(out, d)
		}
	}
	return out
}

// planDocument is the plan as plan -json and show -json print it: the
// saved plan's JSON (plan.Encode), with the warnings of the run that made
// it when there are any.
type planDocument struct {
	Kind string `json:"kind"`
	*plan.Plan
	Diagnostics []jsonDiagnostic `json:"diagnostics,omitempty"`
}

// writePlanJSON prints a plan's JSON document, with warnings (which a
// saved plan does not hold) when there are any.
func writePlanJSON(w io.Writer, p *plan.Plan, files map[string]*hcl.File, warnings hcl.Diagnostics) error {
	doc := planDocument{Kind: plan.DocumentKind, Plan: p}
	if len(warnings) > 0 {
		doc.Diagnostics = jsonDiagnostics(files, warnings)
	}
	return writeJSON(w, doc)
}

// validateDocument is what validate -json prints, whatever the outcome:
// terraform validate -json's document.
type validateDocument struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

// writeValidateJSON prints validate's document for diags.
func writeValidateJSON(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	return writeJSON(w, validateDocument{
		FormatVersion: jsonFormatVersion,
		Valid:         !diags.HasErrors(),
		ErrorCount:    count(diags, hcl.DiagError),
		WarningCount:  count(diags, hcl.DiagWarning),
		Diagnostics:   jsonDiagnostics(files, diags),
	})
}
