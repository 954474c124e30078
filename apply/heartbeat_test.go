package apply_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/packer"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// heartbeatSink records which builds were reported still running.
type heartbeatSink struct {
	discardSink
	mu      sync.Mutex
	running map[string]time.Duration
}

func (s *heartbeatSink) StillRunning(addr string, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running[addr] = elapsed
}

// TestRunHeartbeat checks that every build running longer than the
// heartbeat is reported as still running, so a pipeline log shows it is
// alive: each bench build sleeps one second.
func TestRunHeartbeat(t *testing.T) {
	bin := packerBin(t)
	ctx := context.Background()
	dir := copyFixture(t, "bench")
	pd := makePlan(ctx, t, dir)
	defer pd.unlock(t)
	version, err := packer.Version(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	sink := &heartbeatSink{running: map[string]time.Duration{}}
	res, err := apply.Run(ctx, apply.Options{
		Workspace: pd.ws, Plan: pd.plan, State: state.NewManagerFor(pd.backend, pd.state),
		Lock: pd.lock, Parallelism: 20, PackerBin: bin, PackerVersion: version,
		Sink: sink, Heartbeat: 300 * time.Millisecond,
	})
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v (ok=%v)", err, res != nil && res.OK())
	}
	for _, c := range pd.plan.Changes {
		if _, ok := sink.running[c.Address]; c.Type == plan.TypeBuild && !ok {
			t.Errorf("%s was not reported still running, though it sleeps 1 s with a 300 ms heartbeat", c.Address)
		}
	}
	for addr, elapsed := range sink.running {
		if c := pd.plan.Change(addr); c == nil || c.Type != plan.TypeBuild {
			t.Errorf("heartbeat for %s, which is not a build", addr)
		}
		if elapsed <= 0 {
			t.Errorf("%s: elapsed %s", addr, elapsed)
		}
	}
}
