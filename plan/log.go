package plan

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/hybridcore/hybrid/logs"
)

// Planning logs what it decides through slog's default logger, for
// HYBRID_LOG=debug or trace: how long each phase took (debug), each node's
// action with the inputs whose digest moved and why (debug), and every
// input's digest, now and as recorded (trace). Digests, names and reasons
// only: no value that plan output would not show.

// logPhase logs, at debug level, that a phase of loading or planning took
// the time since start.
func logPhase(name string, start time.Time, attrs ...any) {
	slog.Debug("phase", append([]any{"phase", name, "duration", time.Since(start).Round(time.Microsecond)}, attrs...)...)
}

// logNode logs what plan decided for one node. recorded holds the input
// digests the state has for it, nil when it has none; a source's record
// keeps no input digests, so its inputs are not compared.
func logNode(c *Change, recorded map[string]string) {
	compare := c.Type != TypeSource
	ctx := context.Background()
	log := slog.Default()
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	var changed []string
	if recorded != nil {
		for name, d := range c.Inputs {
			if recorded[name] != d {
				changed = append(changed, name)
			}
		}
		for name := range recorded {
			if _, ok := c.Inputs[name]; !ok {
				changed = append(changed, name)
			}
		}
		sort.Strings(changed)
	}
	attrs := []any{"address", c.Address, "action", c.Action.String()}
	if c.After != "" || c.Before != "" {
		attrs = append(attrs, "fingerprint", orNone(c.After), "recorded", orNone(c.Before))
	}
	if len(c.Inputs) > 0 {
		attrs = append(attrs, "inputs", len(c.Inputs))
		switch {
		case !compare:
		case recorded == nil:
			attrs = append(attrs, "changed_inputs", "all (none recorded)")
		case len(changed) > 0:
			attrs = append(attrs, "changed_inputs", strings.Join(changed, ", "))
		}
	}
	if len(c.Reasons) > 0 {
		why := make([]string, len(c.Reasons))
		for i, r := range c.Reasons {
			why[i] = r.Message
		}
		attrs = append(attrs, "reasons", strings.Join(why, "; "))
	}
	log.Debug("plan node", attrs...)
	if !log.Enabled(ctx, logs.LevelTrace) {
		return
	}
	names := make([]string, 0, len(c.Inputs)+len(recorded))
	for name := range c.Inputs {
		names = append(names, name)
	}
	for name := range recorded {
		if _, ok := c.Inputs[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		now, was := c.Inputs[name], recorded[name]
		if !compare {
			log.Log(ctx, logs.LevelTrace, "plan input", "address", c.Address, "input", name, "digest", orNone(now))
			continue
		}
		state := "unchanged"
		switch {
		case recorded == nil || was == "":
			state = "new"
		case now == "":
			state = "gone"
		case now != was:
			state = "changed"
		}
		log.Log(ctx, logs.LevelTrace, "plan input", "address", c.Address, "input", name, "digest", orNone(now), "recorded", orNone(was), "state", state)
	}
}

// recordedInputs returns the input digests the state holds for addr.
func (pl *planner) recordedInputs(addr string) map[string]string {
	if b := pl.st.Builds[addr]; b != nil {
		return b.Inputs
	}
	if r := pl.st.Renders[addr]; r != nil {
		return r.Inputs
	}
	return nil
}
