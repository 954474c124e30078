package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// fuzzGraph decodes data into a graph of at most 10 vertices: the first byte
// picks the vertex count, each following pair of bytes one edge, and a
// trailing odd byte is a bit mask of vertices whose callback fails.
func fuzzGraph(data []byte) (*Graph, map[string]bool) {
	g := New()
	if len(data) == 0 {
		return g, nil
	}
	n := 1 + int(data[0])%10
	name := func(b byte) String { return String(fmt.Sprintf("v%d", int(b)%n)) }
	for i := range n {
		g.Add(String(fmt.Sprintf("v%d", i)))
	}
	rest := data[1:]
	for len(rest) >= 2 {
		g.Connect(name(rest[0]), name(rest[1]))
		rest = rest[2:]
	}
	fail := map[string]bool{}
	if len(rest) == 1 {
		for i := range n {
			if rest[0]&(1<<(i%8)) != 0 {
				fail[fmt.Sprintf("v%d", i)] = true
			}
		}
	}
	return g, fail
}

// hasCycle is a plain reference check: a graph is cyclic if a DFS meets a
// vertex that is still on its stack.
func hasCycle(g *Graph) bool {
	state := map[string]int{} // 1 on stack, 2 done
	var visit func(string) bool
	visit = func(n string) bool {
		state[n] = 1
		for d := range g.deps[n] {
			if state[d] == 1 || state[d] == 0 && visit(d) {
				return true
			}
		}
		state[n] = 2
		return false
	}
	for _, n := range g.names() {
		if state[n] == 0 && visit(n) {
			return true
		}
	}
	return false
}

func FuzzGraph(f *testing.F) {
	f.Add([]byte{3, 0, 1, 1, 2})
	f.Add([]byte{3, 0, 1, 1, 0})
	f.Add([]byte{4, 0, 1, 0, 2, 1, 3, 2, 3, 0x08})
	f.Add([]byte{9, 0, 0})
	f.Add([]byte{5, 0, 1, 1, 2, 2, 0, 2, 3, 3, 2, 4, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, fail := fuzzGraph(data)
		err := g.Validate()
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("Validate returned %T", err)
		}
		if (err != nil) != hasCycle(g) {
			t.Fatalf("Validate() = %v, reference cycle check = %v", err, hasCycle(g))
		}
		if err != nil {
			checkCycles(t, g, ve)
			if _, terr := g.TopologicalOrder(); terr == nil || terr.Error() != err.Error() {
				t.Fatalf("TopologicalOrder error %v, Validate error %v", terr, err)
			}
			return
		}

		order, terr := g.TopologicalOrder()
		if terr != nil {
			t.Fatal(terr)
		}
		pos := map[string]int{}
		for i, v := range order {
			pos[v.Name()] = i
		}
		if len(pos) != g.Len() {
			t.Fatalf("order has %d distinct vertices, graph %d", len(pos), g.Len())
		}
		for _, e := range g.Edges() {
			if pos[e.Dependency] >= pos[e.Dependent] {
				t.Fatalf("%s ordered before its dependency %s", e.Dependent, e.Dependency)
			}
		}

		// Walk must agree with a sequential replay in topological order.
		res := g.Walk(context.Background(), func(ctx context.Context, v Vertex) error {
			if fail[v.Name()] {
				return errors.New("fail")
			}
			return nil
		})
		want := map[string]VertexResult{}
		for _, v := range order {
			var causes []string
			for _, d := range g.DependenciesOf(v) {
				switch r := want[d.Name()]; r.Outcome {
				case Failed:
					causes = append(causes, d.Name())
				case Skipped:
					causes = append(causes, r.RootCauses...)
				}
			}
			slices.Sort(causes)
			causes = slices.Compact(causes)
			switch {
			case len(causes) > 0:
				want[v.Name()] = VertexResult{Outcome: Skipped, RootCauses: causes}
			case fail[v.Name()]:
				want[v.Name()] = VertexResult{Outcome: Failed}
			default:
				want[v.Name()] = VertexResult{Outcome: Succeeded}
			}
		}
		for name, w := range want {
			got := res.Results[name]
			if got.Outcome != w.Outcome || !slices.Equal(got.RootCauses, w.RootCauses) {
				t.Fatalf("%s: got %v %v, want %v %v", name, got.Outcome, got.RootCauses, w.Outcome, w.RootCauses)
			}
		}
		checkMermaid(t, g, g.Mermaid(RenderOptions{}))
	})
}

// checkCycles verifies that every reported cycle is a real elementary cycle
// rotated to its smallest name, and that the list is sorted without repeats.
func checkCycles(t *testing.T, g *Graph, ve *ValidationError) {
	t.Helper()
	if len(ve.Cycles) == 0 {
		t.Fatal("cyclic graph reported no cycle")
	}
	for i, c := range ve.Cycles {
		if i > 0 && slices.Compare(ve.Cycles[i-1], c) >= 0 {
			t.Fatalf("cycles not sorted or repeated: %v then %v", ve.Cycles[i-1], c)
		}
		if slices.Min(c) != c[0] {
			t.Fatalf("cycle %v does not start at its smallest name", c)
		}
		seen := map[string]bool{}
		for j, n := range c {
			if seen[n] {
				t.Fatalf("cycle %v repeats %s", c, n)
			}
			seen[n] = true
			next := c[(j+1)%len(c)]
			if _, ok := g.deps[n][next]; !ok {
				t.Fatalf("cycle %v uses missing edge %s -> %s", c, n, next)
			}
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("build.prod.a\x00render.prod.a\x00source.x", "update: \"why\"")
	f.Add("a-b\x00a.b\x00a_b\x00a_b_2", "<br>\n#quot;")
	f.Add("end\x00o\x00x\x00\x01", "`md`")
	f.Fuzz(func(t *testing.T, names, note string) {
		g := New()
		var prev Vertex
		for _, n := range strings.Split(names, "\x00") {
			v := String(n)
			g.Add(v)
			if prev != nil && prev.Name() != n {
				g.Connect(prev, v)
			}
			prev = v
		}
		if g.Validate() != nil {
			return // repeated names in the list can form a cycle
		}
		opts := RenderOptions{
			Annotate: func(Vertex) string { return note },
			Class:    func(Vertex) string { return note },
			Classes:  map[string]Style{note: {Fill: note, Stroke: note, Color: note, Dashed: true}},
		}
		checkMermaid(t, g, g.Mermaid(opts))
		dot := g.DOT(opts)
		if got, want := strings.Count(dot, "\n"), 5+g.Len()+len(g.Edges()); got != want {
			t.Fatalf("DOT has %d lines, want %d:\n%s", got, want, dot)
		}
	})
}
