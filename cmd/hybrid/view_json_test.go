package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/docs/schema"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

func TestWantsJSON(t *testing.T) {
	tests := map[string]struct {
		args []string
		want bool
	}{
		"none":              {nil, false},
		"json":              {[]string{"-out=p", "-json"}, true},
		"double dash":       {[]string{"--json"}, true},
		"true":              {[]string{"-json=true"}, true},
		"false":             {[]string{"-json=false"}, false},
		"not a bool":        {[]string{"-json=yes"}, false},
		"after a bad flag":  {[]string{"-bogus", "-json"}, true},
		"after an argument": {[]string{"p.plan", "-json"}, true},
		"after --":          {[]string{"--", "-json"}, false},
		"a value":           {[]string{"-var", "json=1"}, false},
		"another flag":      {[]string{"-jsonx"}, false},
		"the last one wins": {[]string{"-json=false", "-json"}, true},
		"switched off":      {[]string{"-json", "-json=0"}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := wantsJSON(tt.args); got != tt.want {
				t.Errorf("wantsJSON(%q) = %v, want %v", tt.args, got, tt.want)
			}
		})
	}
}

// jsonTestSource is a hybrid.hcl the diagnostics below point into.
const jsonTestSource = `variable "size" {
  default = "big"
}

image "ubuntu" {
  values = { vm_mem = var.size * 2 }
}
`

func TestNewJSONDiagnostic(t *testing.T) {
	p := hclparse.NewParser()
	if _, diags := p.ParseHCL([]byte(jsonTestSource), "hybrid.hcl"); diags.HasErrors() {
		t.Fatal(diags)
	}
	files := p.Files()
	// rangeOf is the range of the first occurrence of text in the source.
	rangeOf := func(text string) *hcl.Range {
		start := strings.Index(jsonTestSource, text)
		if start < 0 {
			t.Fatalf("no %q in the source", text)
		}
		pos := func(b int) hcl.Pos {
			line := strings.Count(jsonTestSource[:b], "\n") + 1
			col := b - strings.LastIndex(jsonTestSource[:b], "\n")
			return hcl.Pos{Line: line, Column: col, Byte: b}
		}
		return &hcl.Range{Filename: "hybrid.hcl", Start: pos(start), End: pos(start + len(text))}
	}
	sizeExpr := mustParseExpr(t, "var.size * 2")
	secretExpr := mustParseExpr(t, "var.secret * 2")
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{
			"size":   cty.StringVal("big"),
			"secret": cty.StringVal("Zq9-view-secret").Mark("sensitive"),
			"list":   cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
		}),
	}}
	ctxStr := func(s string) *string { return &s }

	tests := map[string]struct {
		diag *hcl.Diagnostic
		want jsonDiagnostic
	}{
		"no place": {
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "State locked", Detail: "Held by ci@runner."},
			jsonDiagnostic{Severity: "error", Summary: "State locked", Detail: "Held by ci@runner."},
		},
		"warning": {
			&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Plugin not installed"},
			jsonDiagnostic{Severity: "warning", Summary: "Plugin not installed", Detail: ""},
		},
		"in a block, with the values of the expression": {
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid operand", Detail: "A number is required.",
				Subject: rangeOf("var.size"), Expression: sizeExpr, EvalContext: ctx},
			jsonDiagnostic{Severity: "error", Summary: "Invalid operand", Detail: "A number is required.",
				Range: &jsonRange{Filename: "hybrid.hcl", Start: jsonPos{6, 23, 78}, End: jsonPos{6, 31, 86}},
				Snippet: &jsonSnippet{Context: ctxStr(`image "ubuntu"`), Code: "  values = { vm_mem = var.size * 2 }", StartLine: 6,
					HighlightStartOffset: 22, HighlightEndOffset: 30,
					Values: []jsonExpressionValue{{Traversal: "var.size", Statement: `is "big"`}}}},
		},
		"a sensitive value is left out": {
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid operand",
				Subject: rangeOf("var.size"), Expression: secretExpr, EvalContext: ctx},
			jsonDiagnostic{Severity: "error", Summary: "Invalid operand",
				Range: &jsonRange{Filename: "hybrid.hcl", Start: jsonPos{6, 23, 78}, End: jsonPos{6, 31, 86}},
				Snippet: &jsonSnippet{Context: ctxStr(`image "ubuntu"`), Code: "  values = { vm_mem = var.size * 2 }", StartLine: 6,
					HighlightStartOffset: 22, HighlightEndOffset: 30, Values: []jsonExpressionValue{}}},
		},
		"top level, over several lines with a context": {
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unused variable",
				Subject: rangeOf(`default = "big"`), Context: rangeOf("variable \"size\" {\n  default = \"big\"\n}")},
			jsonDiagnostic{Severity: "error", Summary: "Unused variable",
				Range: &jsonRange{Filename: "hybrid.hcl", Start: jsonPos{2, 3, 20}, End: jsonPos{2, 18, 35}},
				Snippet: &jsonSnippet{Context: ctxStr(`variable "size"`), Code: "variable \"size\" {\n  default = \"big\"\n}", StartLine: 1,
					HighlightStartOffset: 20, HighlightEndOffset: 35, Values: []jsonExpressionValue{}}},
		},
		"an empty range highlights one character": {
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing attribute",
				Subject: &hcl.Range{Filename: "hybrid.hcl", Start: hcl.Pos{Line: 5, Column: 1, Byte: 39}, End: hcl.Pos{Line: 5, Column: 1, Byte: 39}}},
			jsonDiagnostic{Severity: "error", Summary: "Missing attribute",
				Range: &jsonRange{Filename: "hybrid.hcl", Start: jsonPos{5, 1, 39}, End: jsonPos{5, 2, 40}},
				Snippet: &jsonSnippet{Context: ctxStr(`image "ubuntu"`), Code: `image "ubuntu" {`, StartLine: 5,
					HighlightStartOffset: 0, HighlightEndOffset: 1, Values: []jsonExpressionValue{}}},
		},
		"a file hybrid has no text of": {
			&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Packer too old",
				Subject: &hcl.Range{Filename: "templates/linux/linux.pkr.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 12}, End: hcl.Pos{Line: 2, Column: 30, Byte: 39}}},
			jsonDiagnostic{Severity: "error", Summary: "Packer too old",
				Range: &jsonRange{Filename: "templates/linux/linux.pkr.hcl", Start: jsonPos{2, 3, 12}, End: jsonPos{2, 30, 39}}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := newJSONDiagnostic(tt.diag, files)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "Zq9-view-secret") {
				t.Errorf("the sensitive value reached the output: %s", b)
			}
			if err := schema.ValidateDocument(schema.Diagnostic, bytes.NewReader(b)); err != nil {
				t.Errorf("does not follow %s: %v", schema.Diagnostic, err)
			}
		})
	}
}

func mustParseExpr(t *testing.T, src string) hcl.Expression {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte("x = "+src+"\n"), "expr.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return attrs["x"].Expr
}

func TestValueStatement(t *testing.T) {
	tests := map[string]struct {
		v    cty.Value
		want string
	}{
		"string":       {cty.StringVal(`a "b"`), `is "a \"b\""`},
		"number":       {cty.NumberIntVal(4096), "is 4096"},
		"fraction":     {cty.NumberFloatVal(0.5), "is 0.5"},
		"bool":         {cty.True, "is true"},
		"null":         {cty.NullVal(cty.String), "is null"},
		"list":         {cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}), "is a list of string with 2 elements"},
		"one element":  {cty.SetVal([]cty.Value{cty.StringVal("a")}), "is a set of string with 1 element"},
		"empty map":    {cty.MapValEmpty(cty.Number), "is an empty map of number"},
		"object":       {cty.ObjectVal(map[string]cty.Value{"a": cty.True, "b": cty.True}), "is an object with 2 attributes"},
		"empty object": {cty.EmptyObjectVal, "is an object with no attributes"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := valueStatement(tt.v); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestApplyEvents feeds the apply sink one node of each outcome and checks
// every line it writes against the published schema, with the level each
// outcome gets.
func TestApplyEvents(t *testing.T) {
	var out bytes.Buffer
	e := &jsonEvents{w: &out, now: func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC) }}
	e.version()
	sink := applyJSON{e}
	sink.NodeStarted("build.dev.base", plan.Create)
	sink.Output("build.dev.base", "==> file.base: Creating file...")
	sink.StillRunning("build.dev.base", 30*time.Second)
	results := []apply.NodeResult{
		{Address: "render.dev.base", Type: plan.TypeRender, Action: plan.Create, Outcome: apply.Succeeded, Duration: time.Millisecond},
		{Address: "build.dev.base", Type: plan.TypeBuild, Action: plan.Create, Outcome: apply.Failed, Duration: 2 * time.Second,
			Err: errString("packer exited with status 1"), ExitCode: 1, LogPath: "logs/dev/base/1.log"},
		{Address: "build.dev.app", Type: plan.TypeBuild, Action: plan.Create, Outcome: apply.Skipped, RootCauses: []string{"build.dev.base"}},
		{Address: "build.prod.base", Type: plan.TypeBuild, Action: plan.Update, Outcome: apply.TimedOut, Duration: time.Hour,
			Err: errString("timed out after 1h0m0s")},
		{Address: "build.prod.app", Type: plan.TypeBuild, Action: plan.Update, Outcome: apply.Cancelled},
		{Address: "build.prod.other", Type: plan.TypeBuild, Action: plan.Create, Outcome: apply.Succeeded,
			Artifacts: []state.Artifact{{BuilderID: "packer.file", ID: "File", Files: nil}}},
		{Address: "source.old", Type: plan.TypeSource, Action: plan.Delete, Outcome: apply.Succeeded},
	}
	for _, r := range results {
		sink.NodeFinished(r)
	}
	sink.summary(&apply.Result{Nodes: results})
	if err := schema.ValidateLines(schema.Events, bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("the events do not follow %s: %v\n%s", schema.Events, err, out.String())
	}
	type event struct {
		Level   string `json:"@level"`
		Type    string `json:"type"`
		Outcome string `json:"outcome"`
	}
	var got []event
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	want := []event{
		{"info", "version", ""},
		{"info", "node_start", ""},
		{"info", "node_output", ""},
		{"info", "node_progress", ""},
		{"info", "node_complete", "succeeded"},
		{"error", "node_complete", "failed"},
		{"warn", "node_complete", "skipped"},
		{"error", "node_complete", "timed_out"},
		{"warn", "node_complete", "cancelled"},
		{"info", "node_complete", "succeeded"},
		{"info", "node_complete", "succeeded"},
		{"error", "apply_summary", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrong events (-want +got):\n%s", diff)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
