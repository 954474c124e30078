package graph

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// maxCycles bounds how many elementary cycles Validate lists. A dense tangle
// can hold exponentially many; a handful is enough to show what to break.
const maxCycles = 10

// Cycle is one elementary cycle as vertex names in edge order, each name once:
// Cycle{"a", "b"} means a depends on b and b depends on a. Validate rotates
// every cycle to start at its smallest name.
type Cycle []string

// String renders the cycle closed, e.g. "a -> b -> a".
func (c Cycle) String() string {
	if len(c) == 0 {
		return ""
	}
	return strings.Join(c, " -> ") + " -> " + c[0]
}

// ValidationError lists everything that keeps a graph from being walked. Its
// Error text has one problem per line and is identical for identical graphs.
type ValidationError struct {
	// Cycles holds each elementary cycle once, sorted, at most maxCycles of them.
	Cycles []Cycle
	// MoreCycles is true when Cycles was cut short.
	MoreCycles bool
	// Dangling holds edges with an end that was never added, sorted.
	Dangling []Edge
	// Missing holds the names that were connected but never added, sorted.
	Missing []string
}

// Error returns lines such as "cycle: a -> b -> a" and
// "edge a -> x: vertex x was never added".
func (e *ValidationError) Error() string {
	var lines []string
	for _, c := range e.Cycles {
		lines = append(lines, "cycle: "+c.String())
	}
	if e.MoreCycles {
		lines = append(lines, fmt.Sprintf("more cycles exist beyond these %d; break these and validate again to see the rest", len(e.Cycles)))
	}
	for _, d := range e.Dangling {
		var gone []string
		for _, n := range []string{d.Dependent, d.Dependency} {
			if _, ok := slices.BinarySearch(e.Missing, n); ok && !slices.Contains(gone, n) {
				gone = append(gone, n)
			}
		}
		what := "an end was"
		switch len(gone) {
		case 1:
			what = "vertex " + gone[0] + " was"
		case 2:
			what = "vertices " + gone[0] + " and " + gone[1] + " were"
		}
		lines = append(lines, fmt.Sprintf("edge %s: %s never added to the graph", d, what))
	}
	return strings.Join(lines, "\n")
}

// Validate reports every dependency cycle (each elementary cycle once, rotated
// to start at its smallest name, sorted) and every edge with an end that was
// never added. It returns nil or a *ValidationError.
func (g *Graph) Validate() error {
	_, err := g.check()
	return err
}

// check validates the graph and returns its indexed form for the caller to
// reuse.
func (g *Graph) check() (indexed, error) {
	e := &ValidationError{}
	missing := make(map[string]struct{})
	for from, tos := range g.deps {
		_, okFrom := g.vertices[from]
		for to := range tos {
			_, okTo := g.vertices[to]
			if !okFrom {
				missing[from] = struct{}{}
			}
			if !okTo {
				missing[to] = struct{}{}
			}
			if !okFrom || !okTo {
				e.Dangling = append(e.Dangling, Edge{Dependent: from, Dependency: to})
			}
		}
	}
	e.Missing = sortedKeys(missing)
	if len(e.Missing) == 0 {
		e.Missing = nil
	}
	slices.SortFunc(e.Dangling, func(a, b Edge) int {
		return cmp.Or(strings.Compare(a.Dependent, b.Dependent), strings.Compare(a.Dependency, b.Dependency))
	})
	ix := g.indexed()
	e.Cycles, e.MoreCycles = ix.cycles(maxCycles)
	if len(e.Cycles) == 0 && len(e.Dangling) == 0 {
		return ix, nil
	}
	return ix, e
}

// indexed is the graph as integers: vertex i is the i-th name in sorted order,
// adj[i] lists its dependencies in ascending order. Edges to names that were
// never added are left out.
type indexed struct {
	names []string
	adj   [][]int
}

func (g *Graph) indexed() indexed {
	names := g.names()
	idx := make(map[string]int, len(names))
	for i, n := range names {
		idx[n] = i
	}
	adj := make([][]int, len(names))
	for i, n := range names {
		for to := range g.deps[n] {
			if j, ok := idx[to]; ok {
				adj[i] = append(adj[i], j)
			}
		}
		slices.Sort(adj[i])
	}
	return indexed{names: names, adj: adj}
}

// cycles lists up to limit elementary cycles, sorted, and reports whether
// more exist. Strongly connected components are found first, so an acyclic
// graph costs one linear pass; cycles inside each component are enumerated
// with Johnson's algorithm, which starts every cycle at its smallest vertex.
func (ix indexed) cycles(limit int) ([]Cycle, bool) {
	n := len(ix.names)
	var found []Cycle
	more := false

	selfLoop := func(v int) bool {
		_, ok := slices.BinarySearch(ix.adj[v], v)
		return ok
	}

	j := &johnson{
		ix:      ix,
		blocked: make([]bool, n),
		b:       make([][]int, n),
		inSub:   make([]bool, n),
	}
	for _, comp := range tarjan(ix.adj) {
		if len(comp) == 1 && !selfLoop(comp[0]) {
			continue
		}
		inComp := make(map[int]bool, len(comp))
		for _, v := range comp {
			inComp[v] = true
		}
		slices.Sort(comp)
		for _, s := range comp {
			sub := componentOf(ix.adj, s, func(v int) bool { return inComp[v] && v >= s })
			if len(sub) == 1 && !selfLoop(s) {
				continue
			}
			j.run(s, sub, func(c []int) bool {
				if len(found) == limit {
					more = true
					return false
				}
				cyc := make(Cycle, len(c))
				for i, v := range c {
					cyc[i] = ix.names[v]
				}
				found = append(found, cyc)
				return true
			})
			if more {
				break
			}
		}
		if more {
			break
		}
	}
	slices.SortFunc(found, func(a, b Cycle) int { return slices.Compare(a, b) })
	return found, more
}

// tarjan returns the strongly connected components of adj.
func tarjan(adj [][]int) [][]int {
	n := len(adj)
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var comps [][]int
	next := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range adj[v] {
			if index[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			comps = append(comps, comp)
		}
	}
	for v := range n {
		if index[v] < 0 {
			visit(v)
		}
	}
	return comps
}

// componentOf returns the strongly connected component containing s in the
// subgraph of vertices for which allowed is true: the vertices both reachable
// from s and reaching s.
func componentOf(adj [][]int, s int, allowed func(int) bool) []int {
	fwd := map[int]bool{s: true}
	stack := []int{s}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range adj[v] {
			if allowed(w) && !fwd[w] {
				fwd[w] = true
				stack = append(stack, w)
			}
		}
	}
	// Walk backwards along edges inside fwd only: a vertex reaching s
	// through vertices outside fwd would not be reachable from s itself.
	rev := make(map[int][]int, len(fwd))
	for v := range fwd {
		for _, w := range adj[v] {
			if fwd[w] {
				rev[w] = append(rev[w], v)
			}
		}
	}
	comp := []int{s}
	back := map[int]bool{s: true}
	stack = []int{s}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range rev[v] {
			if !back[w] {
				back[w] = true
				comp = append(comp, w)
				stack = append(stack, w)
			}
		}
	}
	slices.Sort(comp)
	return comp
}

// johnson holds the state of Johnson's elementary-circuit search.
type johnson struct {
	ix      indexed
	blocked []bool
	b       [][]int
	inSub   []bool
	stack   []int
	start   int
	emit    func([]int) bool
	stopped bool
}

// run emits every elementary cycle through s inside sub, in which s is the
// smallest vertex, until emit returns false.
func (j *johnson) run(s int, sub []int, emit func([]int) bool) {
	for _, v := range sub {
		j.inSub[v] = true
		j.blocked[v] = false
		j.b[v] = j.b[v][:0]
	}
	j.start, j.emit, j.stopped, j.stack = s, emit, false, j.stack[:0]
	j.circuit(s)
	for _, v := range sub {
		j.inSub[v] = false
	}
}

func (j *johnson) circuit(v int) bool {
	found := false
	j.stack = append(j.stack, v)
	j.blocked[v] = true
	for _, w := range j.ix.adj[v] {
		if !j.inSub[w] {
			continue
		}
		if w == j.start {
			if !j.emit(j.stack) {
				j.stopped = true
			}
			found = true
		} else if !j.blocked[w] && j.circuit(w) {
			found = true
		}
		if j.stopped {
			return found
		}
	}
	if found {
		j.unblock(v)
	} else {
		for _, w := range j.ix.adj[v] {
			if j.inSub[w] && !slices.Contains(j.b[w], v) {
				j.b[w] = append(j.b[w], v)
			}
		}
	}
	j.stack = j.stack[:len(j.stack)-1]
	return found
}

func (j *johnson) unblock(u int) {
	j.blocked[u] = false
	for len(j.b[u]) > 0 {
		w := j.b[u][0]
		j.b[u] = j.b[u][1:]
		if j.blocked[w] {
			j.unblock(w)
		}
	}
}
