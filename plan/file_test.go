package plan

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func samplePlan() *Plan {
	p := &Plan{
		FormatVersion: FormatVersion, Lineage: "l-1", Serial: 7, LockDigest: "sha256:lock",
		SourceCommits: map[string]string{"examples": "aaaa"}, PackerVersion: "1.9.4",
		Changes: []*Change{
			{Address: "build.dev.a", Type: TypeBuild, Env: "dev", Image: "a", Action: Update, After: "f2", Before: "f1",
				Reasons:   []Reason{{Kind: ReasonFile, Input: "file t/a.pkr.hcl", Before: "1", After: "2", Message: "file t/a.pkr.hcl changed"}},
				DependsOn: []string{"render.dev.a"}},
			{Address: "render.dev.a", Type: TypeRender, Env: "dev", Image: "a", Action: NoOp, After: "r1", DependsOn: []string{}},
		},
	}
	p.summarize()
	return p
}

func TestPlanFileRoundTrip(t *testing.T) {
	p := samplePlan()
	path := filepath.Join(t.TempDir(), "p.json")
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.Summary.String() != "Plan: 0 to build, 1 to rebuild, 0 to render, 0 to forget." {
		t.Errorf("summary = %q", got.Summary.String())
	}
}

func TestDecodeRefuses(t *testing.T) {
	cases := map[string]string{
		`{"format_version":"1.0"}`:                      "not a hybrid plan file",
		`{"kind":"hybrid-plan","format_version":"2.0"}`: "not supported",
		`[1,2`: "not a hybrid plan file",
	}
	for in, want := range cases {
		if _, err := Decode([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) = %v, want an error with %q", in, err, want)
		}
	}
}

func TestStale(t *testing.T) {
	cases := map[string]struct {
		edit func(now *Plan)
		want string
	}{
		"same":          {func(*Plan) {}, ""},
		"serial":        {func(p *Plan) { p.Serial = 8 }, "state changed since the plan was made (serial 7, now 8)"},
		"lineage":       {func(p *Plan) { p.Lineage = "l-2" }, "lineage"},
		"lockfile":      {func(p *Plan) { p.LockDigest = "sha256:other" }, "hybrid.lock.hcl changed"},
		"source commit": {func(p *Plan) { p.SourceCommits["examples"] = "bbbb" }, "source examples is locked to bbbb now"},
		"inputs":        {func(p *Plan) { p.Changes[0].After = "f3" }, "inputs of build.dev.a changed"},
		"new change":    {func(p *Plan) { p.Changes[1].Action = Update }, "render.dev.a was planned to no-op but now needs to update"},
		"packer":        {func(p *Plan) { p.PackerVersion = "1.10.0" }, "packer version changed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			now := samplePlan()
			tc.edit(now)
			err := Stale(samplePlan(), now)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Stale = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Stale = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestVariableDiff(t *testing.T) {
	got := variableDiff(map[string]string{"a": "1", "b": "2", "gone": `"x"`}, map[string]string{"a": "1", "b": "3", "new": "true"})
	var msgs []string
	for _, r := range got {
		msgs = append(msgs, r.Message)
	}
	want := []string{"var b 2 -> 3", `var gone removed (was "x")`, "var new added: true"}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("variable diff (-want +got):\n%s", diff)
	}
}
