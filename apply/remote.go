package apply

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hybridcore/hybrid/plan"
)

// Remote runs build nodes on other machines: the workers of a distributed
// apply. The walk, the skipping of a failed build's dependents and the
// reporting stay apply's; a Remote only carries one build there and back.
type Remote interface {
	// Build has the build change c run by a worker and waits until it
	// ends. It calls started once, when a worker starts the build, with
	// that worker's name, and then output for each line about it worth
	// showing. The returned result needs Outcome (Succeeded, Failed,
	// TimedOut or Cancelled), Err unless it succeeded, and what the
	// worker reports of the build (ExitCode, Artifacts, LogPath); Run
	// fills in the rest. Cancelling ctx asks for the build to be stopped
	// (a build no worker has started yet is withdrawn); Build still
	// waits for it to end, unless hard is done.
	Build(ctx, hard context.Context, c *plan.Change, started func(worker string), output func(line string)) NodeResult
}

// remote runs build change c through Options.Remote and reports it as a
// local build is reported: started when a worker takes it, a heartbeat
// while it runs, finished when it ends. A build no worker started before
// the apply was stopped is cancelled and not reported, as a local build
// that never got a parallelism slot.
func (a *applier) remote(ctx context.Context, c *plan.Change) NodeResult {
	var (
		mu      sync.Mutex
		began   time.Time
		done    = make(chan struct{})
		beating sync.WaitGroup
	)
	started := func(worker string) {
		mu.Lock()
		if !began.IsZero() {
			mu.Unlock()
			return
		}
		began = a.opts.Now()
		mu.Unlock()
		if a.opts.Sink == nil {
			return
		}
		a.opts.Sink.NodeStarted(c.Address, c.Action)
		a.opts.Sink.Output(c.Address, fmt.Sprintf("building on worker %s", worker))
		a.heartbeat(c.Address, began, done, &beating)
	}
	output := func(line string) {
		mu.Lock()
		ok := !began.IsZero()
		mu.Unlock()
		if ok && a.opts.Sink != nil {
			a.opts.Sink.Output(c.Address, line)
		}
	}
	nr := a.opts.Remote.Build(ctx, a.hard, c, started, output)
	close(done)
	beating.Wait()
	nr.Address, nr.Type, nr.Action = c.Address, c.Type, c.Action
	mu.Lock()
	nr.Started = began
	mu.Unlock()
	if nr.Started.IsZero() {
		// No worker started it: withdrawn at a stop, or refused
		// before packer ran.
		if nr.Outcome == Cancelled || nr.Outcome == "" {
			nr.Outcome = Cancelled
			return nr
		}
		nr.Started = a.opts.Now()
		if a.opts.Sink != nil {
			a.opts.Sink.NodeStarted(c.Address, c.Action)
		}
	}
	nr.Duration = a.opts.Now().Sub(nr.Started)
	// Take in what the worker recorded, so that what this apply commits
	// next (and its pruning of trees) starts from it.
	if err := a.opts.State.Refresh(context.WithoutCancel(ctx)); err != nil && nr.Err == nil {
		nr.Outcome, nr.Err = Failed, fmt.Errorf("built, but the state cannot be read again: %w", err)
	}
	if a.opts.Sink != nil {
		a.opts.Sink.NodeFinished(nr)
	}
	return nr
}

// RunBuild runs the one build at addr of opts.Plan here, as Run would
// (logs, heartbeat, timeout, the record committed through opts.State), and
// nothing else: no walk, no last-run record. A hybrid worker runs each
// build of a distributed apply so. The error is a *RecordError when the
// result could not be recorded.
func RunBuild(ctx context.Context, opts Options, addr string) (NodeResult, error) {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Hard == nil {
		opts.Hard = context.Background()
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	opts.Remote = nil
	c := opts.Plan.Change(addr)
	if c == nil || c.Type != plan.TypeBuild {
		return NodeResult{}, fmt.Errorf("%s is not a build of the plan", addr)
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	hard, kill := context.WithCancel(opts.Hard)
	defer kill()
	a := &applier{opts: opts, builds: map[string]*plan.Build{}, sem: make(chan struct{}, 1), stop: stop, hard: hard, kill: kill}
	for _, b := range opts.Workspace.Builds {
		a.builds[b.Address()] = b
		a.builds[b.RenderAddress()] = b
	}
	nr := a.node(ctx, c)
	if err := a.recordError(); err != nil {
		return nr, err
	}
	return nr, nil
}
