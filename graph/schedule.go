package graph

import (
	"container/heap"
	"time"
)

// Task is what Simulate needs to know of one vertex.
type Task struct {
	// Duration is how long the vertex runs once it has a slot.
	Duration time.Duration
	// Free marks a vertex with nothing to do: it takes no slot and no
	// time, and finishes as soon as its dependencies have (a walk's
	// callback that returns at once without waiting for a slot).
	Free bool
}

// Schedule is the outcome of Simulate.
type Schedule struct {
	// Makespan is when the last vertex finishes, counted from the start
	// of the walk.
	Makespan time.Duration
	// Start maps each vertex's name to when it starts.
	Start map[string]time.Duration
}

// Simulate predicts how long a walk takes when at most slots vertices run at
// once and each vertex takes the time task gives it, the way a Walk whose
// callback holds one of slots semaphore slots while it works would run.
//
// The simulation is list scheduling (Graham, 1966) with critical-path
// priorities, "highest level first": time moves from one finish to the
// next; at each instant every vertex whose dependencies have all finished
// is ready, and while a slot is free the ready vertex with the highest level
// starts, where a vertex's level is the longest chain of durations from it
// through its dependents to the end of the graph (its own duration plus the
// highest level among its dependents); among equal levels the smaller name
// starts first. The result never beats the longest chain of the graph or the
// total duration spread over the slots, and any list schedule is within a
// factor of 2 - 1/slots of the best one possible. The real order of a walk
// depends on who wins the race for a free slot; starting the longest chain
// first is what a good order does, so the makespan is an estimate, not a
// bound.
//
// It returns the Validate error when the graph has a cycle or a dangling
// edge. Fewer than one slot counts as one.
func (g *Graph) Simulate(slots int, task func(Vertex) Task) (*Schedule, error) {
	ix, err := g.check()
	if err != nil {
		return nil, err
	}
	slots = max(slots, 1)
	n := len(ix.names)
	tasks := make([]Task, n)
	dependents := make([][]int, n)
	waiting := make([]int, n)
	for v, deps := range ix.adj {
		tasks[v] = task(g.vertices[ix.names[v]])
		if tasks[v].Free {
			tasks[v].Duration = 0
		}
		waiting[v] = len(deps)
		for _, d := range deps {
			dependents[d] = append(dependents[d], v)
		}
	}

	// Levels, from the end of the graph backwards: in topological order
	// (Kahn's), a vertex's dependents all come after it.
	order := make([]int, 0, n)
	left := append([]int(nil), waiting...)
	for v := range n {
		if left[v] == 0 {
			order = append(order, v)
		}
	}
	for i := 0; i < len(order); i++ {
		for _, d := range dependents[order[i]] {
			left[d]--
			if left[d] == 0 {
				order = append(order, d)
			}
		}
	}
	level := make([]time.Duration, n)
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		var after time.Duration
		for _, d := range dependents[v] {
			after = max(after, level[d])
		}
		level[v] = tasks[v].Duration + after
	}

	s := &Schedule{Start: make(map[string]time.Duration, n)}
	ready := &byLevel{level: level}
	running := &byFinish{}
	var now time.Duration
	// finish records that v is done at now and makes its dependents
	// ready; a free dependent finishes at once, in turn.
	var finish func(v int)
	enqueue := func(v int) {
		if tasks[v].Free {
			s.Start[ix.names[v]] = now
			finish(v)
			return
		}
		heap.Push(ready, v)
	}
	finish = func(v int) {
		for _, d := range dependents[v] {
			waiting[d]--
			if waiting[d] == 0 {
				enqueue(d)
			}
		}
	}
	for v := range n {
		if waiting[v] == 0 {
			enqueue(v)
		}
	}
	free := slots
	for {
		for free > 0 && ready.Len() > 0 {
			v := heap.Pop(ready).(int)
			s.Start[ix.names[v]] = now
			heap.Push(running, run{v: v, end: now + tasks[v].Duration})
			free--
		}
		if running.Len() == 0 {
			break
		}
		// Everything that finishes at the next instant finishes before
		// anything new starts, so the choice sees every ready vertex.
		now = running.items[0].end
		for running.Len() > 0 && running.items[0].end == now {
			r := heap.Pop(running).(run)
			free++
			finish(r.v)
		}
	}
	s.Makespan = now
	return s, nil
}

// byLevel is a max-heap of vertex indices by level; the smaller index (the
// smaller name) first among equals.
type byLevel struct {
	level []time.Duration
	items []int
}

func (h *byLevel) Len() int { return len(h.items) }
func (h *byLevel) Less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if h.level[a] != h.level[b] {
		return h.level[a] > h.level[b]
	}
	return a < b
}
func (h *byLevel) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *byLevel) Push(x any)    { h.items = append(h.items, x.(int)) }
func (h *byLevel) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}

// run is a vertex holding a slot until end.
type run struct {
	v   int
	end time.Duration
}

// byFinish is a min-heap of running vertices by finish time.
type byFinish struct{ items []run }

func (h *byFinish) Len() int { return len(h.items) }
func (h *byFinish) Less(i, j int) bool {
	if h.items[i].end != h.items[j].end {
		return h.items[i].end < h.items[j].end
	}
	return h.items[i].v < h.items[j].v
}
func (h *byFinish) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *byFinish) Push(x any)    { h.items = append(h.items, x.(run)) }
func (h *byFinish) Pop() any {
	last := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return last
}
