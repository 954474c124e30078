package state_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/state"
)

// TestLocalReadSummary reads a state with a snapshot and a journal the way
// a plan does: the first ReadSummary decodes it whole and saves its
// summary; the next one returns the summary, whose records hold everything
// but the details, and whose Details are the whole state again. Any change
// to the stored bytes (a commit, an edit by hand) makes ReadSummary decode
// the state whole again.
func TestLocalReadSummary(t *testing.T) {
	ctx := context.Background()
	path := tempStatePath(t)
	want := journalFixture(t, path)
	last := want[len(want)-1]
	l := state.NewLocal(path)

	first, err := l.ReadSummary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Summarized() {
		t.Fatal("the first ReadSummary returned a summary: there was none to read")
	}
	if diff := cmp.Diff(last, first, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("first ReadSummary (-Read +ReadSummary):\n%s", diff)
	}
	if _, err := os.Stat(l.SummaryPath()); err != nil {
		t.Fatalf("no summary saved: %v", err)
	}

	sum, err := state.NewLocal(path).ReadSummary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Summarized() {
		t.Fatal("the second ReadSummary decoded the state whole")
	}
	// The summary is the state without its details.
	bare := last.DeepCopy()
	bare.Trees = nil
	for _, r := range bare.Renders {
		r.Inputs, r.Values = nil, nil
	}
	for _, b := range bare.Builds {
		b.Inputs = nil
	}
	ignoreLazy := cmpopts.IgnoreFields(state.State{}, "Lazy")
	if diff := cmp.Diff(bare, sum, cmpopts.EquateEmpty(), ignoreLazy); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	full, err := sum.Details()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(last, full, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Details (-Read +Details):\n%s", diff)
	}
	if _, err := state.Encode(sum); err == nil {
		t.Error("Encode wrote a summary, which would lose its details")
	}

	// A commit changes the journal: the summary no longer matches.
	rw := state.NewLocal(path)
	s, err := rw.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := &state.Change{Renders: map[string]*state.Render{"render.dev.b": {Env: "dev", Image: "b", Path: "configs/dev/b.pkrvars.hcl", Values: map[string]string{"v": "1"}}}}
	if _, err := rw.Commit(ctx, s.Lineage, s.Serial, c); err != nil {
		t.Fatal(err)
	}
	after, err := state.NewLocal(path).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := state.NewLocal(path).ReadSummary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summarized() || got.Serial != s.Serial+1 {
		t.Fatalf("ReadSummary after a commit: summarized %v, serial %d; want the whole state at serial %d", got.Summarized(), got.Serial, s.Serial+1)
	}
	if diff := cmp.Diff(after, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("ReadSummary after a commit (-Read +ReadSummary):\n%s", diff)
	}

	// An edit by hand of the snapshot, even one keeping its size, too.
	got, err = state.NewLocal(path).ReadSummary(ctx)
	if err != nil || !got.Summarized() {
		t.Fatalf("third ReadSummary: summarized %v, %v", got.Summarized(), err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := []byte(string(data))
	i := indexOf(edited, `"builder_id": "packer.file"`)
	if i < 0 {
		t.Fatalf("fixture has no artifact to edit:\n%s", data)
	}
	copy(edited[i:], `"builder_id": "packer.fily"`)
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	want2, err := state.NewLocal(path).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err = state.NewLocal(path).ReadSummary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summarized() {
		t.Error("ReadSummary after an edit of the snapshot returned the summary of the state before")
	}
	if diff := cmp.Diff(want2, got, cmpopts.EquateEmpty()); diff != "" || diff2(after, want2) == "" {
		t.Errorf("ReadSummary after an edit (-Read +ReadSummary):\n%s", diff)
	}
}

func diff2(a, b *state.State) string { return cmp.Diff(a, b, cmpopts.EquateEmpty()) }

func indexOf(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}
