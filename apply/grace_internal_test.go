package apply

import (
	"context"
	"testing"
	"time"
)

// TestKillAfterGrace: a build stopped by its timeout is killed StopGrace
// later; one stopped by a person's interrupt waits for a second interrupt.
func TestKillAfterGrace(t *testing.T) {
	a := &applier{opts: Options{StopGrace: 100 * time.Millisecond}, hard: context.Background()}

	ctx, cancel := context.WithTimeoutCause(context.Background(), 10*time.Millisecond, &timeoutError{after: 10 * time.Millisecond})
	defer cancel()
	hard, stop := a.killAfterGrace(ctx)
	defer stop()
	start := time.Now()
	select {
	case <-hard.Done():
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("killed %s after the timeout's start, before the grace period", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a timed-out build was not killed after the grace period")
	}

	ctx, cancel = context.WithCancel(context.Background())
	hard, stop = a.killAfterGrace(ctx)
	defer stop()
	cancel()
	select {
	case <-hard.Done():
		t.Error("an interrupted build was killed without a second interrupt")
	case <-time.After(300 * time.Millisecond):
	}

	// The apply's own hard context reaches every build.
	parent, kill := context.WithCancel(context.Background())
	a.hard = parent
	hard, stop = a.killAfterGrace(context.Background())
	defer stop()
	kill()
	select {
	case <-hard.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a build did not get the apply's hard stop")
	}
}
