package graph

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newGraph builds a graph from vertex names and "dependent -> dependency"
// edge strings. Every name in an edge is added unless it starts with '?',
// which marks a vertex that is connected but never added.
func newGraph(t testing.TB, vertices []string, edges ...string) *Graph {
	t.Helper()
	g := New()
	for _, v := range vertices {
		g.Add(String(v))
	}
	for _, e := range edges {
		from, to, ok := strings.Cut(e, " -> ")
		if !ok {
			t.Fatalf("bad edge %q: want \"a -> b\"", e)
		}
		for _, n := range []string{from, to} {
			if !strings.HasPrefix(n, "?") {
				g.Add(String(n))
			}
		}
		g.Connect(String(strings.TrimPrefix(from, "?")), String(strings.TrimPrefix(to, "?")))
	}
	return g
}

func names(vs []Vertex) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Name())
	}
	return out
}

func TestGraphQueries(t *testing.T) {
	// build.prod.app needs build.prod.base and render.prod.app; both need
	// source.examples; render.prod.other stands alone.
	g := newGraph(t, []string{"render.prod.other"},
		"build.prod.app -> build.prod.base",
		"build.prod.app -> render.prod.app",
		"build.prod.base -> source.examples",
		"render.prod.app -> source.examples",
		"build.prod.app -> render.prod.app", // duplicate edge: no effect
	)
	g.Add(String("source.examples")) // re-adding: no effect

	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"vertices", names(g.Vertices()), []string{"build.prod.app", "build.prod.base", "render.prod.app", "render.prod.other", "source.examples"}},
		{"dependencies of app", names(g.DependenciesOf(String("build.prod.app"))), []string{"build.prod.base", "render.prod.app"}},
		{"dependents of source", names(g.DependentsOf(String("source.examples"))), []string{"build.prod.base", "render.prod.app"}},
		{"dependencies of leaf", names(g.DependenciesOf(String("source.examples"))), []string{}},
		{"transitive dependencies of app", names(g.TransitiveDependencies(String("build.prod.app"))), []string{"build.prod.app", "build.prod.base", "render.prod.app", "source.examples"}},
		{"transitive dependencies of base and other", names(g.TransitiveDependencies(String("build.prod.base"), String("render.prod.other"))), []string{"build.prod.base", "render.prod.other", "source.examples"}},
		{"transitive dependencies of unknown", names(g.TransitiveDependencies(String("build.prod.nope"))), []string{}},
		{"transitive dependents of source", names(g.TransitiveDependents(String("source.examples"))), []string{"build.prod.app", "build.prod.base", "render.prod.app", "source.examples"}},
		{"transitive dependents of base", names(g.TransitiveDependents(String("build.prod.base"))), []string{"build.prod.app", "build.prod.base"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
		})
	}

	wantEdges := []Edge{
		{"build.prod.app", "build.prod.base"},
		{"build.prod.app", "render.prod.app"},
		{"build.prod.base", "source.examples"},
		{"render.prod.app", "source.examples"},
	}
	if diff := cmp.Diff(wantEdges, g.Edges()); diff != "" {
		t.Errorf("wrong edges (-want +got):\n%s", diff)
	}
	if g.Len() != 5 {
		t.Errorf("Len() = %d, want 5", g.Len())
	}
	if v, ok := g.Lookup("render.prod.app"); !ok || v.Name() != "render.prod.app" {
		t.Errorf("Lookup(render.prod.app) = %v, %v", v, ok)
	}
	if _, ok := g.Lookup("nope"); ok {
		t.Error("Lookup(nope) found a vertex")
	}
}

func TestSubgraph(t *testing.T) {
	g := newGraph(t, nil,
		"build.prod.app -> build.prod.base",
		"build.prod.app -> render.prod.app",
		"build.prod.base -> source.examples",
		"build.dev.app -> source.examples",
		"build.prod.base -> ?source.missing",
	)
	sub := g.Subgraph(func(v Vertex) bool { return strings.HasPrefix(v.Name(), "build.prod.") })

	if diff := cmp.Diff([]string{"build.prod.app", "build.prod.base"}, names(sub.Vertices())); diff != "" {
		t.Errorf("wrong vertices (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Edge{{"build.prod.app", "build.prod.base"}}, sub.Edges()); diff != "" {
		t.Errorf("wrong edges (-want +got):\n%s", diff)
	}
	// The dangling edge survives narrowing, so it is still reported.
	err := sub.Validate()
	want := "edge build.prod.base -> source.missing: vertex source.missing was never added to the graph"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %q", err, want)
	}
	// The original is untouched.
	if g.Len() != 5 {
		t.Errorf("original Len() = %d, want 5", g.Len())
	}
}

func TestBetween(t *testing.T) {
	// A source bump reaches build.prod.base through its render, which does
	// not change itself; build.prod.app follows its base. build.prod.other
	// reads the source too but does not change, and render.prod.app is only
	// needed by a changed vertex, not on a path between two.
	g := newGraph(t, []string{"build.prod.alone"},
		"build.prod.base -> render.prod.base",
		"render.prod.base -> source.examples",
		"build.prod.app -> build.prod.base",
		"build.prod.app -> render.prod.app",
		"build.prod.other -> source.examples",
	)
	tests := []struct {
		name  string
		roots []string
		want  []string
	}{
		{"through an unchanged render", []string{"source.examples", "build.prod.app"},
			[]string{"build.prod.app", "build.prod.base", "render.prod.base", "source.examples"}},
		{"a lone root", []string{"build.prod.alone"}, []string{"build.prod.alone"}},
		{"roots with nothing between", []string{"build.prod.other", "render.prod.app"},
			[]string{"build.prod.other", "render.prod.app"}},
		{"unknown roots are ignored", []string{"build.prod.nope", "render.prod.base"}, []string{"render.prod.base"}},
		{"no roots", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var roots []Vertex
			for _, r := range tt.roots {
				roots = append(roots, String(r))
			}
			if diff := cmp.Diff(tt.want, names(g.Between(roots...))); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
		})
	}
}
