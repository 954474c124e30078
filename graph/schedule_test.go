package graph

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// minutes gives each vertex its duration from a table; a vertex whose name
// starts with "noop." is free, and one missing from the table takes no time.
func minutes(table map[string]int) func(Vertex) Task {
	return func(v Vertex) Task {
		if strings.HasPrefix(v.Name(), "noop.") {
			return Task{Free: true, Duration: time.Hour}
		}
		return Task{Duration: time.Duration(table[v.Name()]) * time.Minute}
	}
}

func TestSimulate(t *testing.T) {
	type want struct {
		makespan int
		start    map[string]int
	}
	tests := map[string]struct {
		vertices []string
		edges    []string
		minutes  map[string]int
		slots    int
		want     want
	}{
		// Three independent 10-minute builds on 2 slots: two run at once,
		// the third after them.
		"more work than slots": {
			vertices: []string{"a", "b", "c"},
			minutes:  map[string]int{"a": 10, "b": 10, "c": 10},
			slots:    2,
			want:     want{20, map[string]int{"a": 0, "b": 0, "c": 10}},
		},
		// The chain base (30) -> app (30) is the critical path: it starts
		// first although "other" sorts before it, so the two 20-minute
		// builds fill the second slot and the walk takes 60 minutes:
		// not total/slots = 50, and not the 80 of starting x and y first.
		"longest chain first": {
			vertices: []string{"x", "y"},
			edges:    []string{"app -> base"},
			minutes:  map[string]int{"base": 30, "app": 30, "x": 20, "y": 20},
			slots:    2,
			want:     want{60, map[string]int{"base": 0, "x": 0, "y": 20, "app": 30}},
		},
		// Ties go to the smaller name.
		"ties by name": {
			vertices: []string{"b", "a"},
			minutes:  map[string]int{"a": 5, "b": 5},
			slots:    1,
			want:     want{10, map[string]int{"a": 0, "b": 5}},
		},
		// A free vertex takes no slot: app starts the moment base ends,
		// although the only slot is taken by z until then.
		"free vertices take no slot": {
			edges:   []string{"app -> noop.render", "noop.render -> base", "z -> base"},
			minutes: map[string]int{"base": 10, "app": 10, "z": 10},
			slots:   1,
			want:    want{30, map[string]int{"base": 0, "noop.render": 10, "app": 10, "z": 20}},
		},
		// Zero-length vertices still wait for a slot, as a render waits for
		// one in apply, but cost no time.
		"zero-length work": {
			edges:   []string{"build -> render"},
			minutes: map[string]int{"build": 15},
			slots:   4,
			want:    want{15, map[string]int{"render": 0, "build": 0}},
		},
		"no slots counts as one": {
			vertices: []string{"a", "b"},
			minutes:  map[string]int{"a": 1, "b": 2},
			slots:    0,
			want:     want{3, map[string]int{"b": 0, "a": 2}},
		},
		"empty": {slots: 4, want: want{0, map[string]int{}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			g := newGraph(t, tt.vertices, tt.edges...)
			s, err := g.Simulate(tt.slots, minutes(tt.minutes))
			if err != nil {
				t.Fatal(err)
			}
			got := want{int(s.Makespan / time.Minute), map[string]int{}}
			for name, at := range s.Start {
				got.start[name] = int(at / time.Minute)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("wrong schedule (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSimulateRefusesCycles(t *testing.T) {
	g := newGraph(t, nil, "a -> b", "b -> a")
	if _, err := g.Simulate(2, minutes(nil)); err == nil || !strings.Contains(err.Error(), "a -> b -> a") {
		t.Errorf("Simulate on a cycle: %v, want the cycle error", err)
	}
}
