package plan

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// memoTestPlan has every kind of field a plan file holds, with empty
// lists and maps beside missing ones, which a plan file tells apart.
func memoTestPlan() *Plan {
	seconds := int64(42)
	p := &Plan{
		FormatVersion: FormatVersion, Lineage: "0c8a3b8e-5f4d-4a57-9a31-3c0b0f7f2d10", Serial: 7,
		LockDigest: "sha256:aa", SourceCommits: map[string]string{}, PackerVersion: "1.9.4",
		WithoutLock: true, Targets: []string{"build.dev.*"}, Envs: []string{"dev"},
		Estimate: &Estimate{BuildSeconds: 42, WallSeconds: 42, Parallelism: 4, Unknown: 1},
		Changes: []*Change{
			{Address: "build.dev.a", Type: TypeBuild, Env: "dev", Image: "a", Action: Update,
				Reasons: []Reason{{Kind: ReasonInput, Input: "file a", Before: "1", After: "2", Message: "file a changed"}},
				Before:  "sha256:01", After: "sha256:02", Inputs: map[string]string{"template": "sha256:03"},
				DependsOn: []string{"render.dev.a"}, LastDurationSeconds: &seconds,
				Trees: map[string]map[string]string{"sha256:04": {"a": "sha256:05"}}},
			{Address: "build.dev.b", Type: TypeBuild, Env: "dev", Image: "b", Action: NoOp,
				Reasons: []Reason{}, Inputs: map[string]string{}, DependsOn: []string{}, Values: map[string]string{},
				LastDurationSeconds: new(int64)},
			{Address: "render.dev.a", Type: TypeRender, Env: "dev", Image: "a", Action: Create,
				Values: map[string]string{"x": "1"}},
			{Address: "source.s", Type: TypeSource, Source: "s", Action: NoOp, Note: "checkout moved"},
		},
	}
	p.summarize()
	return p
}

// TestMemoKeepsThePlanFile: a plan back from its memo is the same plan
// file, byte for byte; the per-file tree digests, which no plan shows, are
// left out.
func TestMemoKeepsThePlanFile(t *testing.T) {
	zero := memoTestPlan()
	zero.Estimate, zero.SourceCommits, zero.Changes[0].Reasons = &Estimate{}, nil, nil
	for name, p := range map[string]*Plan{"plan": memoTestPlan(), "zero estimate": zero} {
		t.Run(name, func(t *testing.T) { testMemoKeepsThePlanFile(t, p) })
	}
}

func testMemoKeepsThePlanFile(t *testing.T, p *Plan) {
	want, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMemo([]byte("inputs"), "state-key", p, []byte(`[{"Source":"x"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes[0].Trees == nil {
		t.Fatal("NewMemo changed the plan it keeps")
	}
	path := filepath.Join(t.TempDir(), MemoFilename)
	if err := m.Write(path); err != nil {
		t.Fatal(err)
	}
	back := ReadMemo(path)
	if !back.Matches([]byte("inputs"), "state-key") {
		t.Fatal("the memo does not match what it was made from")
	}
	for _, other := range []struct {
		inputs, state string
	}{{"inputs2", "state-key"}, {"inputs", "state-key2"}, {"inputs", ""}, {"", "state-key"}} {
		if back.Matches([]byte(other.inputs), other.state) {
			t.Errorf("the memo matches inputs %q, state %q", other.inputs, other.state)
		}
	}
	q, err := back.DecodePlan()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode(q)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("plan file from the memo differs (-made +reused):\n%s", diff)
	}
	if q.Changes[0].Trees != nil {
		t.Error("the memo kept the per-file tree digests")
	}
	if string(back.Extra) != `[{"Source":"x"}]` {
		t.Errorf("Extra = %q", back.Extra)
	}
}

// TestReadMemoRefusesWhatItCannotUse: no file, another format or garbage
// is no memo.
func TestReadMemoRefusesWhatItCannotUse(t *testing.T) {
	dir := t.TempDir()
	if ReadMemo(filepath.Join(dir, "none")) != nil {
		t.Error("a missing memo was read")
	}
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("not gob"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ReadMemo(garbage) != nil {
		t.Error("garbage was read as a memo")
	}
	p := memoTestPlan()
	p.Estimate = &Estimate{}
	m, err := NewMemo([]byte("i"), "s", p, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Format = "hybrid-plan-memo 0"
	old := filepath.Join(dir, "old")
	if err := m.Write(old); err != nil {
		t.Fatal(err)
	}
	if ReadMemo(old) != nil {
		t.Error("a memo of another format was read")
	}
	var none *Memo
	if none.Matches([]byte("i"), "s") {
		t.Error("no memo matches")
	}
}
