package state_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/state"
)

func TestAddressesAndLookup(t *testing.T) {
	s := goldenState()
	want := []string{"build.dev.windows", "build.prod.ubuntu", "render.prod.ubuntu", "source.examples"}
	if diff := cmp.Diff(want, s.Addresses()); diff != "" {
		t.Errorf("Addresses (-want +got):\n%s", diff)
	}
	for _, addr := range want {
		v, ok := s.Lookup(addr)
		if !ok || v == nil {
			t.Errorf("Lookup(%q) found nothing", addr)
		}
	}
	if v, ok := s.Lookup("source.examples"); !ok || v.(*state.Source) != s.Sources["examples"] {
		t.Errorf("Lookup(source.examples) = %v, want the state's own entry", v)
	}
	if v, ok := s.Lookup("build.prod.ubuntu"); !ok || v.(*state.Build) != s.Builds["build.prod.ubuntu"] {
		t.Errorf("Lookup(build.prod.ubuntu) = %v, want the state's own entry", v)
	}
	for _, addr := range []string{"", "source.", "source.nope", "render.prod.nope", "build.x.y", "image.prod.ubuntu", "examples"} {
		if v, ok := s.Lookup(addr); ok {
			t.Errorf("Lookup(%q) = %v, want nothing", addr, v)
		}
	}
	if got := state.New().Addresses(); len(got) != 0 {
		t.Errorf("a new state has addresses %v", got)
	}
}

func TestDeepCopy(t *testing.T) {
	s := goldenState()
	c := s.DeepCopy()
	if diff := cmp.Diff(s, c); diff != "" {
		t.Fatalf("copy differs (-orig +copy):\n%s", diff)
	}
	c.Packer.Version = "x"
	c.LastRun.Outcome = "x"
	c.Plugins["p"] = state.Plugin{}
	c.Sources["examples"].Commit = "x"
	c.Renders["render.prod.ubuntu"].Values["vm_mem_size"] = "x"
	c.Renders["render.prod.ubuntu"].Inputs["x"] = "x"
	c.Builds["build.prod.ubuntu"].Inputs["x"] = "x"
	c.Builds["build.prod.ubuntu"].Artifacts[0].Files[0] = "x"
	c.Builds["build.prod.ubuntu"].Artifacts = append(c.Builds["build.prod.ubuntu"].Artifacts, state.Artifact{})
	delete(c.Builds, "build.dev.windows")
	if diff := cmp.Diff(goldenState(), s); diff != "" {
		t.Errorf("changing the copy changed the original (-want +got):\n%s", diff)
	}
	var nilState *state.State
	if nilState.DeepCopy() != nil {
		t.Errorf("DeepCopy of nil is not nil")
	}
}

func TestNew(t *testing.T) {
	a, b := state.New(), state.New()
	if a.Lineage == b.Lineage {
		t.Errorf("two new states share lineage %s", a.Lineage)
	}
	if a.FormatVersion != state.FormatVersion || a.Serial != 0 {
		t.Errorf("New() = format %d serial %d", a.FormatVersion, a.Serial)
	}
	// The maps are ready to assign into.
	a.Sources["x"] = &state.Source{}
	a.Renders["render.a.b"] = &state.Render{}
	a.Builds["build.a.b"] = &state.Build{}
	a.Plugins["p"] = state.Plugin{}
}

func TestTreesRoundTrip(t *testing.T) {
	s := state.New()
	s.Trees = map[string]map[string]string{"sha256:tree": {"templates/a.pkr.hcl": "sha256:file"}}
	b, err := state.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := state.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Trees, got.Trees); diff != "" {
		t.Errorf("trees (-want +got):\n%s", diff)
	}
	c := got.DeepCopy()
	c.Trees["sha256:tree"]["templates/a.pkr.hcl"] = "changed"
	if got.Trees["sha256:tree"]["templates/a.pkr.hcl"] != "sha256:file" {
		t.Error("DeepCopy shares the trees with the original")
	}
}
