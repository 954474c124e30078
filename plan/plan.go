package plan

import (
	"fmt"
	"sort"
	"strings"
)

// FormatVersion is the version of the plan JSON (plan -json, plan files).
// Consumers may rely on every field of a given major version.
const FormatVersion = "1.0"

// Action is what apply does to a node.
type Action int

// The actions, in the order a summary lists them.
const (
	NoOp Action = iota
	Create
	Update
	Delete
)

// String is the action's name in JSON output.
func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "no-op"
}

// Symbol is the action's mark in human output, as terraform shows them.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Delete:
		return "-"
	}
	return " "
}

// ParseAction reads an action name written by String.
func ParseAction(s string) (Action, error) {
	for _, a := range []Action{NoOp, Create, Update, Delete} {
		if a.String() == s {
			return a, nil
		}
	}
	return NoOp, fmt.Errorf("unknown plan action %q", s)
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	*a = v
	return err
}

// Node types.
const (
	TypeSource = "source"
	TypeRender = "render"
	TypeBuild  = "build"
)

// Reason kinds: a stable vocabulary for JSON consumers.
const (
	ReasonNew             = "new"              // never done
	ReasonFailed          = "previous_failed"  // the last build failed
	ReasonSkipped         = "previous_skipped" // the last apply skipped the build: a build it depends on failed
	ReasonFile            = "file_changed"     // a file in a tree input changed, appeared or went
	ReasonInput           = "input_changed"    // any other input digest changed
	ReasonVariable        = "variable_changed" // a rendered variable's value changed
	ReasonSensitive       = "sensitive_changed"
	ReasonSourceCommit    = "source_commit"
	ReasonPackerVersion   = "packer_version"
	ReasonPluginVersion   = "plugin_version"
	ReasonUpstream        = "upstream"         // a base image will be rebuilt
	ReasonRenderDrift     = "render_drift"     // the rendered file on disk is not what was rendered
	ReasonSourceDrift     = "source_drift"     // the checkout is on another commit
	ReasonSourceDirty     = "source_dirty"     // the checkout has local changes
	ReasonMissingArtifact = "missing_artifact" // an artifact file recorded in state is gone
	ReasonRemoved         = "removed_from_config"
	ReasonNeededBy        = "needed_by" // a build that reads the source's checkout will run
)

// Reason explains, for people and JSON consumers, one input that makes a
// change necessary.
type Reason struct {
	Kind string `json:"kind"`
	// Input names what changed: "template", "file templates/linux/a.pkr.hcl",
	// "var vm_mem_size", "source.examples", "packer", "upstream build.dev.base".
	Input   string `json:"input,omitempty"`
	Before  string `json:"before,omitempty"`
	After   string `json:"after,omitempty"`
	Message string `json:"message"`
}

// Change is the planned action for one node.
type Change struct {
	Address string `json:"address"`
	Type    string `json:"type"`
	Env     string `json:"env,omitempty"`
	Image   string `json:"image,omitempty"`
	Source  string `json:"source,omitempty"`
	Action  Action `json:"action"`
	// Reasons is empty for no-op changes.
	Reasons []Reason `json:"reasons"`
	// Before is the fingerprint in state; After the one the node will have.
	Before string `json:"before_fingerprint,omitempty"`
	After  string `json:"after_fingerprint,omitempty"`
	// Inputs are the node's input digests after the change.
	Inputs map[string]string `json:"inputs,omitempty"`
	// Values are a render's non-sensitive variable values as HCL text.
	Values map[string]string `json:"values,omitempty"`
	// DependsOn lists the addresses this node runs after.
	DependsOn []string `json:"depends_on"`
	// Note says, for a no-op source, how its checkout differs from the
	// lock although nothing this plan runs needs it moved.
	Note string `json:"note,omitempty"`
	// LastDurationSeconds is how long the build's last recorded run took,
	// in whole seconds; nil when the state records none (the build never
	// ran). Only builds have one.
	LastDurationSeconds *int64 `json:"last_duration_seconds,omitempty"`

	// Trees holds the per-file digests of the tree inputs, by tree digest,
	// for apply to record so a later plan can name the file that changed.
	Trees map[string]map[string]string `json:"-"`
}

// Summary counts a plan's changes the way its last line reports them.
type Summary struct {
	Sync    int `json:"sync"`
	Build   int `json:"build"`
	Rebuild int `json:"rebuild"`
	Render  int `json:"render"`
	Forget  int `json:"forget"`
}

// Total is the number of changes that are not no-ops.
func (s Summary) Total() int { return s.Sync + s.Build + s.Rebuild + s.Render + s.Forget }

// String is the summary sentence.
func (s Summary) String() string {
	if s.Total() == 0 {
		return "No changes."
	}
	sync := ""
	if s.Sync > 0 {
		sync = fmt.Sprintf("%d to sync, ", s.Sync)
	}
	return fmt.Sprintf("Plan: %s%d to build, %d to rebuild, %d to render, %d to forget.", sync, s.Build, s.Rebuild, s.Render, s.Forget)
}

// Plan is the result of planning: every node in scope with its action.
type Plan struct {
	FormatVersion string `json:"format_version"`
	// Lineage and Serial identify the state the plan was made against.
	Lineage string `json:"state_lineage"`
	Serial  uint64 `json:"state_serial"`
	// LockDigest is the sha256 of hybrid.lock.hcl's bytes ("" when absent).
	LockDigest string `json:"lock_digest"`
	// SourceCommits are the locked commits the plan was made against.
	SourceCommits map[string]string `json:"source_commits"`
	PackerVersion string            `json:"packer_version"`
	// WithoutLock records that the plan was made without the state lock
	// (plan -lock=false): another command may have been writing the
	// state. Apply compares the serial anyway.
	WithoutLock bool     `json:"made_without_lock,omitempty"`
	Targets     []string `json:"targets,omitempty"`
	Envs        []string `json:"envs,omitempty"`
	// Changes holds every node in scope, no-ops included, sorted by address.
	Changes []*Change `json:"changes"`
	Summary Summary   `json:"summary"`
	// Estimate is how long applying the plan should take, from the
	// builds' recorded durations. Plans saved by an earlier hybrid have
	// none.
	Estimate *Estimate `json:"estimate,omitempty"`
}

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool { return p.Summary.Total() > 0 }

// Change returns the change for an address, or nil.
func (p *Plan) Change(addr string) *Change {
	i := sort.Search(len(p.Changes), func(i int) bool { return p.Changes[i].Address >= addr })
	if i < len(p.Changes) && p.Changes[i].Address == addr {
		return p.Changes[i]
	}
	return nil
}

// summarize counts the changes.
func (p *Plan) summarize() {
	var s Summary
	for _, c := range p.Changes {
		switch {
		case c.Action == NoOp:
		case c.Action == Delete:
			s.Forget++
		case c.Type == TypeSource:
			s.Sync++
		case c.Type == TypeRender:
			s.Render++
		case c.Action == Create:
			s.Build++
		default:
			s.Rebuild++
		}
	}
	p.Summary = s
}

// short abbreviates a digest or commit for reasons people read.
func short(d string) string {
	d = strings.TrimPrefix(strings.TrimPrefix(d, "sha256:"), "git:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
