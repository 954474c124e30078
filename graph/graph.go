package graph

import (
	"slices"
)

// Vertex is a node of the graph. Its Name is its identity: two vertices with
// the same name are the same vertex, and every listing the package returns is
// sorted by name so that output never depends on map order.
type Vertex interface {
	Name() string
}

// String is a Vertex that is nothing but its name, for tests and for callers
// that keep their payload elsewhere.
type String string

// Name returns s itself.
func (s String) Name() string { return string(s) }

// Edge is one dependency, by vertex name: Dependent needs Dependency to finish
// first.
type Edge struct {
	Dependent  string
	Dependency string
}

// String renders the edge in the direction of the arrow, "dependent -> dependency".
func (e Edge) String() string { return e.Dependent + " -> " + e.Dependency }

// Graph is a set of vertices and the dependency edges between them. The zero
// value is not ready for use; call New. A Graph is not safe for concurrent
// mutation; Walk, once started, only reads it.
type Graph struct {
	vertices map[string]Vertex
	// deps maps a dependent's name to the names of its dependencies.
	deps map[string]map[string]struct{}
	// dependents maps a dependency's name to the names of its dependents.
	dependents map[string]map[string]struct{}
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{
		vertices:   make(map[string]Vertex),
		deps:       make(map[string]map[string]struct{}),
		dependents: make(map[string]map[string]struct{}),
	}
}

// Add inserts v. Adding a vertex whose name is already present replaces the
// stored value and keeps its edges, so Add is idempotent for equal vertices.
// v must not be nil.
func (g *Graph) Add(v Vertex) {
	g.vertices[v.Name()] = v
}

// Connect records that dependent needs dependency: dependency finishes before
// dependent starts. Both ends are recorded by name and may be added before or
// after the edge; an edge whose end is never added is reported by Validate.
// Connecting a vertex to itself is recorded too, and Validate reports it as a
// cycle. Connecting the same pair twice has no further effect.
func (g *Graph) Connect(dependent, dependency Vertex) {
	from, to := dependent.Name(), dependency.Name()
	addName(g.deps, from, to)
	addName(g.dependents, to, from)
}

func addName(m map[string]map[string]struct{}, key, value string) {
	set := m[key]
	if set == nil {
		set = make(map[string]struct{})
		m[key] = set
	}
	set[value] = struct{}{}
}

// Len reports the number of vertices.
func (g *Graph) Len() int { return len(g.vertices) }

// Lookup returns the vertex with the given name.
func (g *Graph) Lookup(name string) (Vertex, bool) {
	v, ok := g.vertices[name]
	return v, ok
}

// Vertices returns every vertex, sorted by name.
func (g *Graph) Vertices() []Vertex {
	return g.lookupAll(g.names())
}

// Edges returns every edge between added vertices, sorted by dependent and
// then by dependency. Edges with an end that was never added are left out;
// Validate reports them.
func (g *Graph) Edges() []Edge {
	var edges []Edge
	for _, from := range g.names() {
		for _, to := range sortedKeys(g.deps[from]) {
			if _, ok := g.vertices[to]; ok {
				edges = append(edges, Edge{Dependent: from, Dependency: to})
			}
		}
	}
	return edges
}

// DependenciesOf returns the vertices v directly depends on, sorted by name.
func (g *Graph) DependenciesOf(v Vertex) []Vertex {
	return g.lookupAll(sortedKeys(g.deps[v.Name()]))
}

// DependentsOf returns the vertices that directly depend on v, sorted by name.
func (g *Graph) DependentsOf(v Vertex) []Vertex {
	return g.lookupAll(sortedKeys(g.dependents[v.Name()]))
}

// TransitiveDependencies returns the roots and everything they need, directly
// or not, sorted by name. This is the set a "-target" run must process. Roots
// that are not in the graph are ignored; check them with Lookup first to
// report an unknown target.
func (g *Graph) TransitiveDependencies(roots ...Vertex) []Vertex {
	return g.lookupAll(g.reach(g.deps, roots))
}

// TransitiveDependents returns the roots and everything that needs them,
// directly or not, sorted by name: what a change to the roots can affect.
// Roots that are not in the graph are ignored.
func (g *Graph) TransitiveDependents(roots ...Vertex) []Vertex {
	return g.lookupAll(g.reach(g.dependents, roots))
}

// Between returns the roots and every vertex on a path from one root to
// another, sorted by name: what "the part of the graph that changes" is when
// the roots are the changed vertices. A vertex is between roots when a root
// depends on it, directly or not, and it depends on a root, directly or not.
// Roots that are not in the graph are ignored.
func (g *Graph) Between(roots ...Vertex) []Vertex {
	needed := g.reach(g.deps, roots)
	needing := make(map[string]struct{}, len(needed))
	for _, name := range g.reach(g.dependents, roots) {
		needing[name] = struct{}{}
	}
	var names []string
	for _, name := range needed {
		if _, ok := needing[name]; ok {
			names = append(names, name)
		}
	}
	return g.lookupAll(names)
}

// reach returns the sorted names reachable from roots along adj, roots
// included, restricted to added vertices.
func (g *Graph) reach(adj map[string]map[string]struct{}, roots []Vertex) []string {
	seen := make(map[string]struct{})
	var stack []string
	for _, r := range roots {
		name := r.Name()
		if _, ok := g.vertices[name]; !ok {
			continue
		}
		if _, ok := seen[name]; !ok {
			seen[name] = struct{}{}
			stack = append(stack, name)
		}
	}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for next := range adj[name] {
			if _, ok := g.vertices[next]; !ok {
				continue
			}
			if _, ok := seen[next]; !ok {
				seen[next] = struct{}{}
				stack = append(stack, next)
			}
		}
	}
	return sortedKeys(seen)
}

// Subgraph returns a new graph holding the vertices for which keep returns
// true and the edges between them. Edges from a kept vertex to a vertex that
// was never added are kept as well, so the new graph's Validate still reports
// them. The receiver is not changed.
func (g *Graph) Subgraph(keep func(Vertex) bool) *Graph {
	sub := New()
	for _, name := range g.names() {
		if v := g.vertices[name]; keep(v) {
			sub.Add(v)
		}
	}
	for from, tos := range g.deps {
		if _, ok := sub.vertices[from]; !ok {
			continue
		}
		for to := range tos {
			_, kept := sub.vertices[to]
			_, added := g.vertices[to]
			if kept || !added {
				addName(sub.deps, from, to)
				addName(sub.dependents, to, from)
			}
		}
	}
	return sub
}

// names returns the names of all added vertices, sorted.
func (g *Graph) names() []string {
	return sortedKeys(g.vertices)
}

// lookupAll maps names to vertices, leaving out names that were never added.
func (g *Graph) lookupAll(names []string) []Vertex {
	out := make([]Vertex, 0, len(names))
	for _, n := range names {
		if v, ok := g.vertices[n]; ok {
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
