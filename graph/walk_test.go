package graph

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// layered returns a deterministic DAG of n vertices in which vertex i
// depends on up to k earlier vertices.
func layered(n, k int, seed uint64) *Graph {
	rng := rand.New(rand.NewPCG(seed, seed))
	g := New()
	vs := make([]String, n)
	for i := range n {
		vs[i] = String(fmt.Sprintf("v%05d", i))
		g.Add(vs[i])
		for range k {
			if i > 0 {
				g.Connect(vs[i], vs[rng.IntN(i)])
			}
		}
	}
	return g
}

func TestWalkRunsDependenciesFirst(t *testing.T) {
	g := layered(200, 3, 1)
	var clock atomic.Int64
	var mu sync.Mutex
	start := map[string]int64{}
	end := map[string]int64{}
	res := g.Walk(context.Background(), func(ctx context.Context, v Vertex) error {
		s := clock.Add(1)
		mu.Lock()
		start[v.Name()] = s
		mu.Unlock()
		time.Sleep(time.Duration(len(v.Name())%3) * time.Microsecond)
		e := clock.Add(1)
		mu.Lock()
		end[v.Name()] = e
		mu.Unlock()
		return nil
	})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if got := len(res.Names(Succeeded)); got != g.Len() {
		t.Fatalf("%d vertices succeeded, want %d", got, g.Len())
	}
	for _, e := range g.Edges() {
		if end[e.Dependency] >= start[e.Dependent] {
			t.Errorf("%s started at %d before its dependency %s ended at %d",
				e.Dependent, start[e.Dependent], e.Dependency, end[e.Dependency])
		}
	}
}

func TestWalkFailureSkipsDependents(t *testing.T) {
	chain := []string{"a -> b", "b -> c"}
	diamond := []string{"top -> left", "top -> right", "left -> bottom", "right -> bottom"}
	tests := []struct {
		name    string
		edges   []string
		extra   []string // vertices without edges
		fail    []string
		want    map[string]string // name -> "outcome[ root,causes]"
		wantErr string
	}{
		{
			name:    "chain fails at the bottom",
			edges:   chain,
			fail:    []string{"c"},
			want:    map[string]string{"a": "skipped c", "b": "skipped c", "c": "failed"},
			wantErr: "c: c broke",
		},
		{
			name:    "chain fails in the middle",
			edges:   chain,
			fail:    []string{"b"},
			want:    map[string]string{"a": "skipped b", "b": "failed", "c": "succeeded"},
			wantErr: "b: b broke",
		},
		{
			name:  "diamond fails at the bottom",
			edges: diamond,
			fail:  []string{"bottom"},
			want: map[string]string{
				"bottom": "failed", "left": "skipped bottom", "right": "skipped bottom", "top": "skipped bottom",
			},
			wantErr: "bottom: bottom broke",
		},
		{
			name:  "diamond fails on both sides",
			edges: diamond,
			fail:  []string{"left", "right"},
			want: map[string]string{
				"bottom": "succeeded", "left": "failed", "right": "failed", "top": "skipped left,right",
			},
			wantErr: "left: left broke\nright: right broke",
		},
		{
			name:  "independent vertices keep going",
			edges: chain,
			extra: []string{"x", "y"},
			fail:  []string{"c", "x"},
			want: map[string]string{
				"a": "skipped c", "b": "skipped c", "c": "failed", "x": "failed", "y": "succeeded",
			},
			wantErr: "c: c broke\nx: x broke",
		},
		{
			name:  "root causes through skipped vertices on two paths",
			edges: []string{"top -> mid", "mid -> deep", "top -> side"},
			fail:  []string{"deep", "side"},
			want: map[string]string{
				"deep": "failed", "mid": "skipped deep", "side": "failed", "top": "skipped deep,side",
			},
			wantErr: "deep: deep broke\nside: side broke",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(t, tt.extra, tt.edges...)
			var mu sync.Mutex
			var ran []string
			res := g.Walk(context.Background(), func(ctx context.Context, v Vertex) error {
				mu.Lock()
				ran = append(ran, v.Name())
				mu.Unlock()
				if slices.Contains(tt.fail, v.Name()) {
					return errors.New(v.Name() + " broke")
				}
				return nil
			})
			got := map[string]string{}
			for name, r := range res.Results {
				s := r.Outcome.String()
				if len(r.RootCauses) > 0 {
					s += " " + strings.Join(r.RootCauses, ",")
				}
				got[name] = s
				if r.Outcome == Skipped && slices.Contains(ran, name) {
					t.Errorf("skipped vertex %s ran", name)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong outcomes (-want +got):\n%s", diff)
			}
			if err := res.Err(); err == nil || err.Error() != tt.wantErr {
				t.Errorf("Err() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestWalkObservedReportsSkipsAtOnce checks that a vertex skipped because
// its dependency failed is observed while the rest of the walk still runs:
// "slow" finishes only once "app" has been observed skipped, so a walk that
// reported skips at its end would never see it and "slow" would fail.
func TestWalkObservedReportsSkipsAtOnce(t *testing.T) {
	g := New()
	for _, n := range []String{"app", "base", "slow"} {
		g.Add(n)
	}
	g.Connect(String("app"), String("base"))
	appSkipped := make(chan struct{})
	var observed []string
	res := g.WalkObserved(context.Background(), func(ctx context.Context, v Vertex) error {
		switch v.Name() {
		case "base":
			return errors.New("base broke")
		case "slow":
			select {
			case <-appSkipped:
				return nil
			case <-time.After(10 * time.Second):
				return errors.New("app was not observed skipped while slow ran")
			}
		}
		return nil
	}, func(r VertexResult) {
		observed = append(observed, r.Vertex.Name()+" "+r.Outcome.String()+" "+strings.Join(r.RootCauses, ","))
		if r.Vertex.Name() == "app" && r.Outcome == Skipped {
			close(appSkipped)
		}
	})
	if got := res.Results["slow"]; got.Outcome != Succeeded {
		t.Fatalf("slow: %s: %v", got.Outcome, got.Err)
	}
	want := []string{"base failed ", "app skipped base", "slow succeeded "}
	if diff := cmp.Diff(want, observed); diff != "" {
		t.Errorf("wrong observations (-want +got):\n%s", diff)
	}
}

func TestWalkCancellation(t *testing.T) {
	// "trigger" cancels the walk once "slow" is running. "slow" keeps going
	// until the walk is cancelled and then finishes normally; "queued" stands
	// for a callback waiting on the caller's semaphore and returns ctx.Err().
	// "after" and "later" depend on "trigger" and must never start.
	g := newGraph(t, []string{"slow", "queued"}, "after -> trigger", "later -> after")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	slowRunning := make(chan struct{})
	queuedRunning := make(chan struct{})
	var slowFinished atomic.Bool
	var mu sync.Mutex
	var ran []string
	res := g.Walk(ctx, func(ctx context.Context, v Vertex) error {
		mu.Lock()
		ran = append(ran, v.Name())
		mu.Unlock()
		switch v.Name() {
		case "slow":
			close(slowRunning)
			<-ctx.Done()
			slowFinished.Store(true)
			return nil
		case "queued":
			close(queuedRunning)
			<-ctx.Done()
			return ctx.Err()
		case "trigger":
			<-slowRunning
			<-queuedRunning
			cancel()
			return nil
		}
		return errors.New("unexpected vertex ran")
	})

	if !slowFinished.Load() {
		t.Error("Walk returned before the running callback finished")
	}
	slices.Sort(ran)
	if diff := cmp.Diff([]string{"queued", "slow", "trigger"}, ran); diff != "" {
		t.Errorf("wrong callbacks ran (-want +got):\n%s", diff)
	}
	got := map[string]Outcome{}
	for name, r := range res.Results {
		got[name] = r.Outcome
		if r.Outcome == Cancelled && !errors.Is(r.Err, context.Canceled) {
			t.Errorf("%s: Err = %v, want context.Canceled", name, r.Err)
		}
	}
	want := map[string]Outcome{
		"slow": Succeeded, "trigger": Succeeded, "queued": Cancelled, "after": Cancelled, "later": Cancelled,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrong outcomes (-want +got):\n%s", diff)
	}
	err := res.Err()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Err() = %v, want it to wrap context.Canceled", err)
	}
	if want := "walk cancelled: 3 of 5 vertices did not complete: context canceled"; err == nil || err.Error() != want {
		t.Errorf("Err() = %v, want %q", err, want)
	}
}

func TestWalkCancelledBeforeStart(t *testing.T) {
	g := newGraph(t, []string{"x"}, "a -> b")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls atomic.Int32
	res := g.Walk(ctx, func(context.Context, Vertex) error {
		calls.Add(1)
		return nil
	})
	if calls.Load() != 0 {
		t.Errorf("%d callbacks ran after cancellation", calls.Load())
	}
	if diff := cmp.Diff([]string{"a", "b", "x"}, res.Names(Cancelled)); diff != "" {
		t.Errorf("wrong cancelled vertices (-want +got):\n%s", diff)
	}
}

func TestWalkRunsIndependentVerticesInParallel(t *testing.T) {
	// Each callback waits for the other to start. The walk can only
	// succeed if both run at the same time; the timeout only turns a
	// deadlock into a failure.
	g := newGraph(t, []string{"left", "right"})
	started := map[string]chan struct{}{"left": make(chan struct{}), "right": make(chan struct{})}
	other := map[string]string{"left": "right", "right": "left"}
	res := g.Walk(context.Background(), func(ctx context.Context, v Vertex) error {
		close(started[v.Name()])
		select {
		case <-started[other[v.Name()]]:
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s never ran alongside %s", other[v.Name()], v.Name())
		}
	})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestWalkPanicIsAFailure(t *testing.T) {
	g := newGraph(t, nil, "after -> boom")
	res := g.Walk(context.Background(), func(ctx context.Context, v Vertex) error {
		if v.Name() == "boom" {
			panic("kaboom")
		}
		return nil
	})
	r := res.Results["boom"]
	if r.Outcome != Failed || r.Err == nil || !strings.HasPrefix(r.Err.Error(), "panic: kaboom\n") {
		t.Errorf("boom: %v %v, want failed with panic: kaboom", r.Outcome, r.Err)
	}
	if r := res.Results["after"]; r.Outcome != Skipped || !slices.Equal(r.RootCauses, []string{"boom"}) {
		t.Errorf("after: %v %v, want skipped because of boom", r.Outcome, r.RootCauses)
	}
}

func TestWalkInvalidGraphRunsNothing(t *testing.T) {
	g := newGraph(t, nil, "a -> b", "b -> a")
	var calls atomic.Int32
	res := g.Walk(context.Background(), func(context.Context, Vertex) error {
		calls.Add(1)
		return nil
	})
	if calls.Load() != 0 || len(res.Results) != 0 {
		t.Errorf("%d callbacks ran, %d results, want none", calls.Load(), len(res.Results))
	}
	if err := res.Err(); err == nil || err.Error() != "cycle: a -> b -> a" {
		t.Errorf("Err() = %v, want the cycle", err)
	}
}

func TestWalkEmptyGraph(t *testing.T) {
	res := New().Walk(context.Background(), func(context.Context, Vertex) error {
		return errors.New("called")
	})
	if err := res.Err(); err != nil || len(res.Results) != 0 {
		t.Errorf("Err() = %v, %d results", err, len(res.Results))
	}
}

func TestOutcomeString(t *testing.T) {
	got := []string{Succeeded.String(), Failed.String(), Skipped.String(), Cancelled.String(), Outcome(0).String()}
	want := []string{"succeeded", "failed", "skipped", "cancelled", "Outcome(0)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrong names (-want +got):\n%s", diff)
	}
}
