package plan

import (
	"time"

	"github.com/hybridcore/hybrid/graph"
	"github.com/hybridcore/hybrid/state"
)

// Estimate is what applying a plan costs in time, from the durations the
// state recorded for each build's last run. Figures are whole seconds, and
// every figure is made of the builds' LastDurationSeconds as the plan shows
// them, so a reader can check them by hand.
type Estimate struct {
	// BuildSeconds is the sum of the last durations of the builds the plan
	// runs (creates and updates) whose duration is known.
	BuildSeconds int64 `json:"build_seconds"`
	// WallSeconds is how long apply should take with Parallelism slots:
	// apply's walk simulated (graph.Simulate) with each build taking its
	// last duration, and renders, syncs, forgets and builds of unknown
	// duration taking none.
	WallSeconds int64 `json:"wall_seconds"`
	// Parallelism is the number of slots assumed: hybrid.hcl's
	// parallelism setting (apply -parallelism may choose another).
	Parallelism int `json:"parallelism"`
	// Unknown counts the builds the plan runs that have no recorded
	// duration (they never ran): they are in neither figure, which are
	// then lower than the real cost.
	Unknown int `json:"unknown"`
}

// Runs reports whether applying the plan does work for the change: every
// action but a no-op.
func (c *Change) Runs() bool { return c.Action != NoOp }

// runsBuild reports whether the change is a packer build apply will run.
func (c *Change) runsBuild() bool {
	return c.Type == TypeBuild && (c.Action == Create || c.Action == Update)
}

// Name is the change's address: a *Change is the vertex of its node in
// Plan.Graph.
func (c *Change) Name() string { return c.Address }

// Graph returns the plan's dependency graph, the one apply walks: every
// change is a vertex (a *Change), connected to the changes it depends on.
// Dependencies outside the plan are left out.
func (p *Plan) Graph() *graph.Graph {
	g := graph.New()
	for _, c := range p.Changes {
		g.Add(c)
	}
	for _, c := range p.Changes {
		for _, dep := range c.DependsOn {
			if d, ok := g.Lookup(dep); ok {
				g.Connect(c, d)
			}
		}
	}
	return g
}

// EstimateCost computes the plan's Estimate at parallelism slots from its
// changes' LastDurationSeconds. Apply holds a slot for every change it runs
// and none for a no-op, and so does the simulation.
func EstimateCost(p *Plan, parallelism int) (*Estimate, error) {
	e := &Estimate{Parallelism: max(parallelism, 1)}
	for _, c := range p.Changes {
		if !c.runsBuild() {
			continue
		}
		if c.LastDurationSeconds == nil {
			e.Unknown++
			continue
		}
		e.BuildSeconds += *c.LastDurationSeconds
	}
	s, err := p.Graph().Simulate(e.Parallelism, func(v graph.Vertex) graph.Task {
		c := v.(*Change)
		t := graph.Task{Free: !c.Runs()}
		if c.runsBuild() && c.LastDurationSeconds != nil {
			t.Duration = time.Duration(*c.LastDurationSeconds) * time.Second
		}
		return t
	})
	if err != nil {
		return nil, err
	}
	e.WallSeconds = int64(s.Makespan / time.Second)
	return e, nil
}

// recordedSeconds is how long a recorded build took, in whole seconds
// (rounded): its recorded duration, else the time from its start to its
// finish; false when the record has neither.
func recordedSeconds(b *state.Build) (int64, bool) {
	d := b.Duration
	if d <= 0 && !b.Started.IsZero() && b.Finished.After(b.Started) {
		d = b.Finished.Sub(b.Started)
	}
	if d <= 0 {
		return 0, false
	}
	return int64(d.Round(time.Second) / time.Second), true
}
