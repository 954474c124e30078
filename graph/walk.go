package graph

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
)

// Outcome says how a vertex ended in a walk.
type Outcome int

const (
	// Succeeded means the callback ran and returned nil.
	Succeeded Outcome = iota + 1
	// Failed means the callback ran and returned an error (or panicked).
	Failed
	// Skipped means the callback never ran because a dependency failed or
	// was itself skipped.
	Skipped
	// Cancelled means the walk's context was cancelled before the vertex
	// completed: either it never started, or its callback returned the
	// context's error.
	Cancelled
)

// String returns the lower-case name of the outcome.
func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	case Cancelled:
		return "cancelled"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// VertexResult is the outcome of one vertex in a walk.
type VertexResult struct {
	Vertex  Vertex
	Outcome Outcome
	// Err is the callback's error for Failed, and the context's error for
	// Cancelled; nil otherwise.
	Err error
	// RootCauses names, for Skipped, the failed vertices that made this one
	// skip, sorted. Skipped vertices in between are not listed: with
	// a -> b -> c and c failing, both a and b name only c.
	RootCauses []string
}

// WalkResult is what a walk did to every vertex.
type WalkResult struct {
	// Results holds one entry per vertex, keyed by name. It is empty when
	// Invalid is set.
	Results map[string]VertexResult
	// Invalid is the Validate error of a graph that could not be walked;
	// when set, no callback ran.
	Invalid error
}

// Names returns the names of the vertices that ended with outcome o, sorted.
func (r *WalkResult) Names(o Outcome) []string {
	var names []string
	for name, vr := range r.Results {
		if vr.Outcome == o {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Err combines everything that went wrong, or returns nil when every vertex
// succeeded: the validation error, each failure as "name: error" in name
// order, and, if the walk was cancelled, one error wrapping the context's
// error that counts the vertices that did not complete. Skipped vertices add
// nothing: their root cause is already listed. errors.Is sees through it to
// each callback error and to context.Canceled.
func (r *WalkResult) Err() error {
	var errs []error
	if r.Invalid != nil {
		errs = append(errs, r.Invalid)
	}
	for _, name := range r.Names(Failed) {
		errs = append(errs, fmt.Errorf("%s: %w", name, r.Results[name].Err))
	}
	if cancelled := r.Names(Cancelled); len(cancelled) > 0 {
		errs = append(errs, fmt.Errorf("walk cancelled: %d of %d vertices did not complete: %w",
			len(cancelled), len(r.Results), r.Results[cancelled[0]].Err))
	}
	return errors.Join(errs...)
}

// WalkFunc is called once for each vertex a walk runs.
type WalkFunc func(ctx context.Context, v Vertex) error

// Walk calls cb for every vertex, each as soon as all of its dependencies
// have succeeded, each in its own goroutine, and returns when every vertex has
// an outcome.
//
// Walk puts no limit on how many callbacks run at once. A caller that wants
// at most N concurrent steps acquires a semaphore inside cb, selecting on
// ctx.Done() while it waits and returning ctx.Err() if it fires (see the
// Walk example); a callback that returns the context's error after
// cancellation is recorded as Cancelled, not Failed.
//
// A vertex whose dependency failed or was skipped is not run and is recorded
// as Skipped with the failed vertices at the root of it; vertices that do not
// depend on a failure keep going. Once ctx is cancelled, no new callback
// starts; running ones are waited for, and every vertex that did not
// complete is recorded as Cancelled. A callback that panics is recorded as
// Failed with the panic value and stack in its error, so the walk still
// finishes and the caller can record what did complete.
//
// The graph must not change during the walk. When Validate fails, Walk runs
// nothing and returns the error in WalkResult.Invalid.
func (g *Graph) Walk(ctx context.Context, cb WalkFunc) *WalkResult {
	return g.WalkObserved(ctx, cb, nil)
}

// WalkObserved is Walk, calling observe with each vertex's result the
// moment the walk records it, so a caller can report a vertex skipped
// because of a failure as soon as the failure is known rather than when the
// walk ends. A vertex whose callback ran is observed after the callback
// returned; a skipped or cancelled one, when its dependency's outcome
// decided it. observe is called from the walk's own goroutine, one call at
// a time, in the order results are recorded; nothing new starts while it
// runs, so it must return quickly. A nil observe observes nothing.
func (g *Graph) WalkObserved(ctx context.Context, cb WalkFunc, observe func(VertexResult)) *WalkResult {
	res := &WalkResult{Results: make(map[string]VertexResult, len(g.vertices))}
	ix, err := g.check()
	if err != nil {
		res.Invalid = err
		return res
	}

	// Vertices are handled by index: i is the i-th name in sorted order.
	n := len(ix.names)
	dependents := make([][]int, n)
	waiting := make([]int, n) // dependencies without an outcome yet
	var ready []int
	for v, deps := range ix.adj {
		waiting[v] = len(deps)
		if len(deps) == 0 {
			ready = append(ready, v)
		}
		for _, d := range deps {
			dependents[d] = append(dependents[d], v)
		}
	}
	results := make([]VertexResult, n)
	record := func(v int, r VertexResult) {
		results[v] = r
		if observe != nil {
			observe(r)
		}
		for _, d := range dependents[v] {
			waiting[d]--
			if waiting[d] == 0 {
				ready = append(ready, d)
			}
		}
	}

	type done struct {
		v int
		r VertexResult
	}
	// Buffered so that a finishing callback never blocks on this loop.
	finished := make(chan done, n)
	running := 0
	for {
		for len(ready) > 0 {
			i := ready[0]
			ready = ready[1:]
			v := g.vertices[ix.names[i]]
			causes, cancelled := blockers(ix, i, results)
			switch {
			case len(causes) > 0:
				record(i, VertexResult{Vertex: v, Outcome: Skipped, RootCauses: causes})
			case cancelled || ctx.Err() != nil:
				record(i, VertexResult{Vertex: v, Outcome: Cancelled, Err: ctx.Err()})
			default:
				running++
				go func() {
					finished <- done{v: i, r: call(ctx, cb, v)}
				}()
			}
		}
		if running == 0 {
			break
		}
		d := <-finished
		running--
		record(d.v, d.r)
	}
	for i, r := range results {
		res.Results[ix.names[i]] = r
	}
	return res
}

// blockers returns the root causes that keep vertex v from running (its
// failed dependencies, and the root causes of its skipped ones), and whether
// any dependency was cancelled.
func blockers(ix indexed, v int, results []VertexResult) (causes []string, cancelled bool) {
	for _, d := range ix.adj[v] {
		switch r := results[d]; r.Outcome {
		case Failed:
			causes = append(causes, ix.names[d])
		case Skipped:
			causes = append(causes, r.RootCauses...)
		case Cancelled:
			cancelled = true
		}
	}
	slices.Sort(causes)
	return slices.Compact(causes), cancelled
}

// call runs cb for v and classifies what it returned.
func call(ctx context.Context, cb WalkFunc, v Vertex) (r VertexResult) {
	r.Vertex = v
	if ctx.Err() != nil {
		r.Outcome, r.Err = Cancelled, ctx.Err()
		return r
	}
	defer func() {
		if p := recover(); p != nil {
			r.Outcome, r.Err = Failed, fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	err := cb(ctx, v)
	switch {
	case err == nil:
		r.Outcome = Succeeded
	case ctx.Err() != nil && (errors.Is(err, ctx.Err()) || errors.Is(err, context.Cause(ctx))):
		r.Outcome, r.Err = Cancelled, err
	default:
		r.Outcome, r.Err = Failed, err
	}
	return r
}
