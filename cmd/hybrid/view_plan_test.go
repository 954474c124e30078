package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestRenderPlanGolden renders a plan holding every kind of change and
// compares the text with testdata/plan.golden (go test -update rewrites it).
func TestRenderPlanGolden(t *testing.T) {
	p := &plan.Plan{Changes: []*plan.Change{
		{Address: "build.dev.base", Type: plan.TypeBuild, Action: plan.Update, LastDurationSeconds: secondsOf(754), Reasons: []plan.Reason{
			{Kind: plan.ReasonFile, Input: "file templates/linux/linux.pkr.hcl", Before: "96a9d903f02b", After: "aae2a3f3ce09", Message: "file templates/linux/linux.pkr.hcl changed"},
			{Kind: plan.ReasonSensitive, Input: "var password", Before: "(sensitive)", After: "(sensitive)", Message: "sensitive value password changed"},
		}},
		{Address: "build.dev.app", Type: plan.TypeBuild, Action: plan.Update, LastDurationSeconds: secondsOf(480), Reasons: []plan.Reason{
			{Kind: plan.ReasonUpstream, Input: "upstream build.dev.base", Message: "base image build.dev.base will be rebuilt"},
		}},
		{Address: "build.prod.new", Type: plan.TypeBuild, Action: plan.Create, Reasons: []plan.Reason{{Kind: plan.ReasonNew, Message: "never built"}}},
		{Address: "build.dev.gone", Type: plan.TypeBuild, Action: plan.Delete, Reasons: []plan.Reason{{Kind: plan.ReasonRemoved, Message: "no longer in hybrid.hcl: hybrid forgets it (files, checkouts and artifacts are left in place)"}}},
		{Address: "build.dev.same", Type: plan.TypeBuild, Action: plan.NoOp},
		{Address: "render.prod.base", Type: plan.TypeRender, Action: plan.Update, Reasons: []plan.Reason{
			{Kind: plan.ReasonVariable, Input: "var vm_mem_size", Before: "2048", After: "4096", Message: "var vm_mem_size 2048 -> 4096"},
			{Kind: plan.ReasonVariable, Input: "var added", After: `"x"`, Message: `var added added: "x"`},
			{Kind: plan.ReasonVariable, Input: "var dropped", Before: "true", Message: "var dropped removed (was true)"},
		}},
		{Address: "source.examples", Type: plan.TypeSource, Action: plan.Update, Reasons: []plan.Reason{
			{Kind: plan.ReasonSourceCommit, Message: "lock pins 1a2b3c4d5e6f -> 4d5e6f7a8b9c"},
		}},
	}}
	p.Summary = plan.Summary{Sync: 1, Build: 1, Rebuild: 2, Render: 1, Forget: 1}
	// 754 s + 480 s of builds, one after the other; build.prod.new never ran.
	p.Estimate = &plan.Estimate{BuildSeconds: 1234, WallSeconds: 1234, Parallelism: 4, Unknown: 1}
	var buf bytes.Buffer
	newView(streams{Out: &buf, Err: &buf}, true).renderPlan(&buf, p)
	golden := filepath.Join("testdata", "plan.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("plan text (-want +got):\n%s", diff)
	}
}

// secondsOf is a LastDurationSeconds value.
func secondsOf(n int64) *int64 { return &n }
