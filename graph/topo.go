package graph

import (
	"container/heap"
)

// TopologicalOrder returns every vertex with each one after all of its
// dependencies. Among vertices that are ready at the same time the smallest
// name comes first, so the order is the same on every run. It returns the
// Validate error when the graph has a cycle or a dangling edge.
func (g *Graph) TopologicalOrder() ([]Vertex, error) {
	ix, err := g.check()
	if err != nil {
		return nil, err
	}
	n := len(ix.names)
	waiting := make([]int, n) // dependencies not yet emitted
	dependents := make([][]int, n)
	for v, deps := range ix.adj {
		waiting[v] = len(deps)
		for _, d := range deps {
			dependents[d] = append(dependents[d], v)
		}
	}
	// Vertex indices follow sorted names, so the smallest index is the
	// smallest name.
	ready := &intHeap{}
	for v := range n {
		if waiting[v] == 0 {
			ready.items = append(ready.items, v)
		}
	}
	heap.Init(ready)
	order := make([]Vertex, 0, n)
	for ready.Len() > 0 {
		v := heap.Pop(ready).(int)
		order = append(order, g.vertices[ix.names[v]])
		for _, d := range dependents[v] {
			waiting[d]--
			if waiting[d] == 0 {
				heap.Push(ready, d)
			}
		}
	}
	return order, nil
}

// intHeap is a min-heap of vertex indices.
type intHeap struct{ items []int }

func (h *intHeap) Len() int           { return len(h.items) }
func (h *intHeap) Less(i, j int) bool { return h.items[i] < h.items[j] }
func (h *intHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *intHeap) Push(x any)         { h.items = append(h.items, x.(int)) }
func (h *intHeap) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}
