package graph

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		vertices []string
		edges    []string
		want     string // Error() text; "" for a valid graph
	}{
		{
			name: "empty",
		},
		{
			name:     "diamond without cycle",
			vertices: []string{"a", "b", "c", "d"},
			edges:    []string{"a -> b", "a -> c", "b -> d", "c -> d"},
		},
		{
			name:  "self-loop",
			edges: []string{"build.prod.a -> build.prod.a"},
			want:  "cycle: build.prod.a -> build.prod.a",
		},
		{
			name:  "two-cycle",
			edges: []string{"build.prod.b -> build.prod.a", "build.prod.a -> build.prod.b"},
			want:  "cycle: build.prod.a -> build.prod.b -> build.prod.a",
		},
		{
			name:  "three-cycle rotated to smallest name",
			edges: []string{"c -> a", "b -> c", "a -> b", "x -> a"},
			want:  "cycle: a -> b -> c -> a",
		},
		{
			name: "two separate cycles",
			edges: []string{
				"render.dev.x -> render.dev.y", "render.dev.y -> render.dev.x",
				"build.prod.b -> build.prod.a", "build.prod.a -> build.prod.b",
				"build.prod.a -> render.dev.x",
			},
			want: "cycle: build.prod.a -> build.prod.b -> build.prod.a\n" +
				"cycle: render.dev.x -> render.dev.y -> render.dev.x",
		},
		{
			name:  "two cycles sharing a vertex",
			edges: []string{"a -> b", "b -> a", "b -> c", "c -> b"},
			want:  "cycle: a -> b -> a\ncycle: b -> c -> b",
		},
		{
			name:  "figure eight through one vertex with a chord",
			edges: []string{"a -> b", "b -> c", "c -> a", "b -> a"},
			want:  "cycle: a -> b -> a\ncycle: a -> b -> c -> a",
		},
		{
			name:  "dangling dependency",
			edges: []string{"build.prod.a -> ?source.gone"},
			want:  "edge build.prod.a -> source.gone: vertex source.gone was never added to the graph",
		},
		{
			name:  "dangling both ends and a cycle",
			edges: []string{"?x -> ?y", "a -> a"},
			want: "cycle: a -> a\n" +
				"edge x -> y: vertices x and y were never added to the graph",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, tt.vertices, tt.edges...)
			err := g.Validate()
			got := ""
			if err != nil {
				got = err.Error()
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Validate() returned %T, want *ValidationError", err)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong error (-want +got):\n%s", diff)
			}
			// Same graph built in reverse edge order gives the same text.
			rev := make([]string, len(tt.edges))
			for i, e := range tt.edges {
				rev[len(rev)-1-i] = e
			}
			again := ""
			if err := newGraph(t, tt.vertices, rev...).Validate(); err != nil {
				again = err.Error()
			}
			if again != got {
				t.Errorf("edge order changed the result:\n%s\nvs\n%s", got, again)
			}
		})
	}
}

func TestValidateCycleDetail(t *testing.T) {
	g := newGraph(t, nil, "b -> a", "a -> b", "c -> ?d")
	var ve *ValidationError
	if !errors.As(g.Validate(), &ve) {
		t.Fatal("Validate() did not return a *ValidationError")
	}
	want := &ValidationError{
		Cycles:   []Cycle{{"a", "b"}},
		Dangling: []Edge{{Dependent: "c", Dependency: "d"}},
		Missing:  []string{"d"},
	}
	if diff := cmp.Diff(want, ve); diff != "" {
		t.Errorf("wrong error (-want +got):\n%s", diff)
	}
}

func TestValidateManyCyclesIsBounded(t *testing.T) {
	// A complete graph on 12 vertices has hundreds of millions of
	// elementary cycles; Validate must list a few and stop.
	g := New()
	const n = 12
	for i := range n {
		for j := range n {
			if i != j {
				g.Connect(String(fmt.Sprintf("v%02d", i)), String(fmt.Sprintf("v%02d", j)))
			}
		}
		g.Add(String(fmt.Sprintf("v%02d", i)))
	}
	var ve *ValidationError
	if !errors.As(g.Validate(), &ve) {
		t.Fatal("Validate() did not return a *ValidationError")
	}
	if len(ve.Cycles) != maxCycles || !ve.MoreCycles {
		t.Errorf("got %d cycles, more=%v; want %d and more", len(ve.Cycles), ve.MoreCycles, maxCycles)
	}
	if !strings.Contains(ve.Error(), "more cycles exist") {
		t.Errorf("error does not say more cycles exist:\n%s", ve)
	}
	first := g.Validate().Error()
	for range 3 {
		if again := g.Validate().Error(); again != first {
			t.Fatalf("Validate() is not deterministic:\n%s\nvs\n%s", first, again)
		}
	}
}

func TestValidationErrorBuiltByHand(t *testing.T) {
	e := &ValidationError{Dangling: []Edge{{Dependent: "a", Dependency: "b"}}}
	if got, want := e.Error(), "edge a -> b: an end was never added to the graph"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCycleString(t *testing.T) {
	if got := (Cycle{}).String(); got != "" {
		t.Errorf("empty cycle = %q", got)
	}
	if got, want := (Cycle{"a", "b", "c"}).String(), "a -> b -> c -> a"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
