package plan

import (
	"bytes"
	"encoding/gob"
	"fmt"

	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/internal/wsroot"
)

// MemoFilename is the plan memo, kept beside the state file.
const MemoFilename = "packer-hybrid.planmemo"

// memoFormat names the memo file's layout (gob); a memo of another format
// is not used.
const memoFormat = "hybrid-plan-memo 1"

// Memo is the last plan of a workspace with what it was made from, so that
// the next plan, when nothing it was made from has moved, is that plan
// again without being made: a warm plan of an unchanged workspace costs
// the stat calls that prove it unchanged and the read of the state's bytes
// (DESIGN, "a warm plan should cost little more than the stat calls").
//
// Inputs digests everything but the state (the caller's key: hybrid's
// build, the environment, the options, the workspace Stamp), and State
// identifies the state's bytes the plan was made against. A memo whose
// Inputs or State differ in any bit is not used; it can only make a plan
// faster, never different.
type Memo struct {
	Format string
	Inputs []byte
	State  string
	// Plan is the plan, in gob: NewMemo checks that it decodes to a plan
	// whose plan file (Encode) is byte for byte the original's.
	Plan []byte
	// Extra is what the caller keeps with the plan: the checks it repeats
	// on every plan, such as the plugins the builds need.
	Extra []byte
}

// NewMemo returns the memo of p, made from inputs against the state state.
func NewMemo(inputs []byte, state string, p *Plan, extra []byte) (*Memo, error) {
	// The plan as the plan command uses it: what a plan file holds.
	want, err := Encode(p)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(toMemo(p)); err != nil {
		return nil, err
	}
	m := &Memo{Format: memoFormat, Inputs: inputs, State: state, Plan: buf.Bytes(), Extra: extra}
	// Kept only if it comes back whole: byte for byte the same plan file.
	back, err := m.DecodePlan()
	if err != nil {
		return nil, err
	}
	got, err := Encode(back)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(got, want) {
		return nil, fmt.Errorf("the plan does not survive its memo's encoding")
	}
	return m, nil
}

// memoPlan is a plan as its memo holds it: gob, several times faster to
// decode than a plan file's JSON, with what gob cannot tell apart (an
// empty list or map from none, a pointer to a zero value from none) said
// in Empty.
type memoPlan struct {
	Plan    Plan // without Changes
	Empty   uint8
	Changes []memoChange
}

type memoChange struct {
	Change // without Trees: apply records them, a plan does not show them
	Empty  uint8
}

// The lists and maps an Empty bit says are empty rather than none.
const (
	emptySourceCommits = 1 << iota
	emptyReasons
	emptyInputs
	emptyValues
	emptyDependsOn
	zeroLastDuration
)

func toMemo(p *Plan) *memoPlan {
	m := &memoPlan{Plan: *p, Changes: make([]memoChange, len(p.Changes))}
	m.Plan.Changes = nil
	m.Empty = emptyBit(p.SourceCommits != nil && len(p.SourceCommits) == 0, emptySourceCommits)
	for i, c := range p.Changes {
		mc := memoChange{Change: *c}
		mc.Trees = nil
		mc.Empty = emptyBit(c.Reasons != nil && len(c.Reasons) == 0, emptyReasons) |
			emptyBit(c.Inputs != nil && len(c.Inputs) == 0, emptyInputs) |
			emptyBit(c.Values != nil && len(c.Values) == 0, emptyValues) |
			emptyBit(c.DependsOn != nil && len(c.DependsOn) == 0, emptyDependsOn) |
			emptyBit(c.LastDurationSeconds != nil && *c.LastDurationSeconds == 0, zeroLastDuration)
		m.Changes[i] = mc
	}
	return m
}

func emptyBit(empty bool, bit uint8) uint8 {
	if empty {
		return bit
	}
	return 0
}

// DecodePlan returns the memo's plan.
func (m *Memo) DecodePlan() (*Plan, error) {
	var mp memoPlan
	if err := gob.NewDecoder(bytes.NewReader(m.Plan)).Decode(&mp); err != nil {
		return nil, fmt.Errorf("decode the plan memo: %w", err)
	}
	p := &mp.Plan
	if mp.Empty&emptySourceCommits != 0 {
		p.SourceCommits = map[string]string{}
	}
	p.Changes = make([]*Change, len(mp.Changes))
	for i := range mp.Changes {
		mc := &mp.Changes[i]
		c := &mc.Change
		if mc.Empty&emptyReasons != 0 {
			c.Reasons = []Reason{}
		}
		if mc.Empty&emptyInputs != 0 {
			c.Inputs = map[string]string{}
		}
		if mc.Empty&emptyValues != 0 {
			c.Values = map[string]string{}
		}
		if mc.Empty&emptyDependsOn != 0 {
			c.DependsOn = []string{}
		}
		if mc.Empty&zeroLastDuration != 0 {
			c.LastDurationSeconds = new(int64)
		}
		p.Changes[i] = c
	}
	return p, nil
}

// ReadMemo reads the memo at path: nil when there is none, or none this
// hybrid can use.
func ReadMemo(path string) *Memo {
	data, err := wsroot.ReadOwn(path)
	if err != nil {
		return nil
	}
	var m Memo
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil || m.Format != memoFormat {
		return nil
	}
	return &m
}

// Matches reports whether the memo was made from inputs against state.
func (m *Memo) Matches(inputs []byte, state string) bool {
	return m != nil && state != "" && m.State == state && bytes.Equal(m.Inputs, inputs)
}

// Write saves the memo at path atomically, readable by its owner only.
func (m *Memo) Write(path string) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(m); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes(), 0o600)
}
