package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/plan"
)

// applyJSON streams apply's progress as events (docs/schema/events.schema.json):
// node_start when a node starts, node_output for each line of its output,
// node_progress while a build is quiet, node_complete when it ends. The
// command writes the version event before and the apply_summary event
// after them.
type applyJSON struct{ e *jsonEvents }

var _ apply.Sink = applyJSON{}

func (j applyJSON) NodeStarted(addr string, action plan.Action) {
	j.e.emit(levelInfo, "node_start", addr+": started", map[string]any{
		"address": addr,
		"action":  action.String(),
	})
}

func (j applyJSON) Output(addr, line string) {
	j.e.emit(levelInfo, "node_output", line, map[string]any{"address": addr})
}

func (j applyJSON) StillRunning(addr string, elapsed time.Duration) {
	j.e.emit(levelInfo, "node_progress", fmt.Sprintf("%s: still building (%s elapsed)", addr, elapsed), map[string]any{
		"address":    addr,
		"elapsed_ms": elapsed.Milliseconds(),
	})
}

func (j applyJSON) NodeFinished(r apply.NodeResult) {
	fields := map[string]any{
		"address":     r.Address,
		"action":      r.Action.String(),
		"outcome":     jsonOutcome(r.Outcome),
		"duration_ms": r.Duration.Milliseconds(),
	}
	level, msg := levelInfo, fmt.Sprintf("%s: %s", r.Address, r.Outcome)
	switch r.Outcome {
	case apply.Failed, apply.TimedOut:
		level = levelError
	case apply.Skipped, apply.Cancelled:
		level = levelWarn
	}
	if r.Err != nil {
		fields["error"] = r.Err.Error()
		msg += ": " + r.Err.Error()
		// A failed build's error is packer's first error, whole.
		var be *apply.BuildError
		if errors.As(r.Err, &be) {
			fields["error"] = be.Message
		}
	}
	if len(r.RootCauses) > 0 {
		fields["root_causes"] = r.RootCauses
		msg = fmt.Sprintf("%s: skipped because %s failed", r.Address, strings.Join(r.RootCauses, ", "))
	}
	if r.Outcome == apply.Failed && r.ExitCode != 0 {
		fields["exit_code"] = r.ExitCode
	}
	if r.LogPath != "" {
		fields["log_path"] = r.LogPath
	}
	if len(r.Artifacts) > 0 {
		arts := make([]jsonArtifact, len(r.Artifacts))
		for i, a := range r.Artifacts {
			arts[i] = jsonArtifact{BuilderID: a.BuilderID, ID: a.ID, String: a.String, Files: a.Files}
			if arts[i].Files == nil {
				arts[i].Files = []string{}
			}
		}
		fields["artifacts"] = arts
	}
	j.e.emit(level, "node_complete", msg, fields)
}

// summary writes the apply_summary event that ends the stream of an apply
// that ran: how many nodes ended how, and the sentence apply prints.
func (j applyJSON) summary(res *apply.Result) {
	level := levelInfo
	if !res.OK() {
		level = levelError
	}
	j.e.emit(level, "apply_summary", applySummary(res), map[string]any{
		"ok":        res.OK(),
		"synced":    res.Count(plan.TypeSource, apply.Succeeded) - countDeletes(res, plan.TypeSource),
		"built":     res.Count(plan.TypeBuild, apply.Succeeded) - countDeletes(res, plan.TypeBuild),
		"rendered":  res.Count(plan.TypeRender, apply.Succeeded) - countDeletes(res, plan.TypeRender),
		"failed":    res.Count("", apply.Failed),
		"skipped":   res.Count("", apply.Skipped),
		"cancelled": res.Count("", apply.Cancelled),
		"timed_out": res.Count("", apply.TimedOut),
		"forgotten": res.Forgotten(),
	})
}

// jsonArtifact is one artifact of a build in a node_complete event. It is
// its own type so that the event format does not follow the state's.
type jsonArtifact struct {
	BuilderID string   `json:"builder_id"`
	ID        string   `json:"id"`
	String    string   `json:"string,omitempty"`
	Files     []string `json:"files"`
}

// jsonOutcome is an outcome's name in events: an identifier, so
// "timed out" is timed_out.
func jsonOutcome(o apply.Outcome) string {
	return strings.ReplaceAll(string(o), " ", "_")
}
