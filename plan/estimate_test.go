package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/state"
)

func seconds(n int64) *int64 { return &n }

func TestEstimateCost(t *testing.T) {
	// dev: base (40m) <- app (20m), each after its render; tools (30m)
	// and its render are unchanged; docs never ran. prod: app (10m) runs
	// after its unchanged base (50m), which takes no time as it does not
	// run; a forgotten build takes a slot for no time.
	change := func(addr string, a Action, minutes int64, deps ...string) *Change {
		typ, _, _ := strings.Cut(addr, ".")
		c := &Change{Address: addr, Type: typ, Action: a, DependsOn: deps}
		if minutes >= 0 {
			c.LastDurationSeconds = seconds(minutes * 60)
		}
		return c
	}
	p := &Plan{Changes: []*Change{
		change("build.dev.app", Update, 20, "build.dev.base", "render.dev.app"),
		change("build.dev.base", Update, 40, "render.dev.base"),
		change("build.dev.docs", Create, -1, "render.dev.docs"),
		change("build.dev.tools", NoOp, 30, "render.dev.tools"),
		change("build.prod.app", Update, 10, "build.prod.base"),
		change("build.prod.base", NoOp, 50),
		change("build.prod.gone", Delete, -1),
		change("render.dev.app", Update, -1),
		change("render.dev.base", Update, -1),
		change("render.dev.docs", Create, -1),
		change("render.dev.tools", NoOp, -1),
	}}
	tests := map[string]struct {
		slots int
		want  Estimate
	}{
		// Builds that run: 20 + 40 + 10 = 70 minutes; docs is unknown and
		// tools and prod's base do not run. On 2 slots the chain
		// render.dev.base, base (40m), app (20m) takes 60 minutes and
		// prod's app fits beside it: 60 minutes.
		"two slots": {2, Estimate{BuildSeconds: 70 * 60, WallSeconds: 60 * 60, Parallelism: 2, Unknown: 1}},
		// On 1 slot everything runs in turn: 70 minutes.
		"one slot": {1, Estimate{BuildSeconds: 70 * 60, WallSeconds: 70 * 60, Parallelism: 1, Unknown: 1}},
		// More slots than work: the chain alone, 60 minutes.
		"many slots": {16, Estimate{BuildSeconds: 70 * 60, WallSeconds: 60 * 60, Parallelism: 16, Unknown: 1}},
		// No parallelism setting counts as one slot.
		"zero slots": {0, Estimate{BuildSeconds: 70 * 60, WallSeconds: 70 * 60, Parallelism: 1, Unknown: 1}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := EstimateCost(p, tt.slots)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("wrong estimate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordedSeconds(t *testing.T) {
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		rec    state.Build
		want   int64
		wantOK bool
	}{
		"recorded duration":      {state.Build{Duration: 754 * time.Second}, 754, true},
		"rounded to the second":  {state.Build{Duration: 2500 * time.Millisecond}, 3, true},
		"under half a second":    {state.Build{Duration: 400 * time.Millisecond}, 0, true},
		"duration wins":          {state.Build{Duration: time.Minute, Started: start, Finished: start.Add(time.Hour)}, 60, true},
		"from the timestamps":    {state.Build{Started: start, Finished: start.Add(25 * time.Minute)}, 1500, true},
		"finish before start":    {state.Build{Started: start, Finished: start.Add(-time.Minute)}, 0, false},
		"start only":             {state.Build{Started: start}, 0, false},
		"nothing recorded":       {state.Build{}, 0, false},
		"negative duration only": {state.Build{Duration: -time.Second}, 0, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := recordedSeconds(&tt.rec)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("recordedSeconds = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
