package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/hybridcore/hybrid/internal/atomicfile"
)

// DocumentKind is the "kind" of a plan's JSON document: what plan -json
// prints and plan -out saves.
const DocumentKind = "hybrid-plan"

type planFile struct {
	Kind string `json:"kind"`
	*Plan
}

// Encode returns the plan as indented JSON: the document plan -json prints
// and plan -out saves.
func Encode(p *Plan) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(planFile{Kind: DocumentKind, Plan: p}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile saves the plan at path atomically.
func WriteFile(path string, p *Plan) error {
	b, err := Encode(p)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// ReadFile loads a plan saved by WriteFile.
func ReadFile(path string) (*Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	return Decode(b)
}

// Decode parses a saved plan, refusing documents that are not plans or that
// a newer hybrid wrote.
func Decode(b []byte) (*Plan, error) {
	var f planFile
	f.Plan = &Plan{}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not a hybrid plan file: %v", err)
	}
	if f.Kind != DocumentKind {
		return nil, fmt.Errorf("not a hybrid plan file (it has no \"kind\": %q); create one with hybrid plan -out=FILE", DocumentKind)
	}
	if major(f.FormatVersion) != major(FormatVersion) {
		return nil, fmt.Errorf("plan file format %s is not supported by this hybrid (it reads %s); make the plan again with this hybrid", f.FormatVersion, FormatVersion)
	}
	return f.Plan, nil
}

func major(v string) string {
	for i, c := range v {
		if c == '.' {
			return v[:i]
		}
	}
	return v
}

// Stale compares a saved plan with a plan made now against the current
// state, lockfile and workspace, and says why the saved one can no longer be
// applied, or returns nil.
func Stale(saved, now *Plan) error {
	switch {
	case saved.Lineage != now.Lineage && saved.Lineage != "":
		return fmt.Errorf("the plan was made for state lineage %s, but the state now has lineage %s", saved.Lineage, now.Lineage)
	case saved.Serial != now.Serial:
		return fmt.Errorf("the state changed since the plan was made (serial %d, now %d)", saved.Serial, now.Serial)
	case saved.LockDigest != now.LockDigest:
		return fmt.Errorf("hybrid.lock.hcl changed since the plan was made")
	case saved.PackerVersion != now.PackerVersion:
		return fmt.Errorf("the packer version changed since the plan was made (%s, now %s)", saved.PackerVersion, now.PackerVersion)
	}
	for name, c := range saved.SourceCommits {
		if now.SourceCommits[name] != c {
			return fmt.Errorf("source %s is locked to %s now, not %s as when the plan was made", name, short(now.SourceCommits[name]), short(c))
		}
	}
	savedChanges := map[string]*Change{}
	for _, c := range saved.Changes {
		savedChanges[c.Address] = c
	}
	for _, c := range now.Changes {
		s := savedChanges[c.Address]
		delete(savedChanges, c.Address)
		switch {
		case s == nil && c.Action != NoOp:
			return fmt.Errorf("%s was not in the plan but now needs to %s", c.Address, c.Action)
		case s == nil:
		case s.Action != c.Action:
			return fmt.Errorf("%s was planned to %s but now needs to %s", c.Address, s.Action, c.Action)
		case s.After != c.After:
			return fmt.Errorf("the inputs of %s changed since the plan was made: %s", c.Address, inputDifference(s, c))
		}
	}
	for addr, c := range savedChanges {
		if c.Action != NoOp {
			return fmt.Errorf("%s was planned to %s but is no longer in the configuration", addr, c.Action)
		}
	}
	return nil
}

// inputDifference names the inputs whose digests differ between a saved
// change and the change made now, at most three of them.
func inputDifference(saved, now *Change) string {
	names := map[string]bool{}
	for k := range saved.Inputs {
		names[k] = true
	}
	for k := range now.Inputs {
		names[k] = true
	}
	var diffs []string
	for _, k := range sortedKeys(names) {
		b, a := saved.Inputs[k], now.Inputs[k]
		if b == a {
			continue
		}
		what := strings.Replace(k, ":", " ", 1)
		switch {
		case b == "":
			diffs = append(diffs, what+" is new")
		case a == "":
			diffs = append(diffs, what+" is gone")
		case strings.HasPrefix(k, "sensitive:"):
			diffs = append(diffs, what+" changed")
		default:
			diffs = append(diffs, fmt.Sprintf("%s %s -> %s", what, short(b), short(a)))
		}
	}
	switch {
	case len(diffs) == 0:
		return "its fingerprint differs"
	case len(diffs) > 3:
		return fmt.Sprintf("%s and %d more", strings.Join(diffs[:3], "; "), len(diffs)-3)
	}
	return strings.Join(diffs, "; ")
}
