package state

import (
	"encoding/json"
	"fmt"
	"strings"
)

// stateV1 is format 1, the pre-release layout: sources, renders and builds
// were arrays of objects, each carrying its address in an "address" field.
// The entries themselves had the fields they have now.
type stateV1 struct {
	Serial  uint64            `json:"serial"`
	Lineage string            `json:"lineage"`
	Packer  *Packer           `json:"packer"`
	Plugins map[string]Plugin `json:"plugins"`
	Sources []json.RawMessage `json:"sources"`
	Renders []json.RawMessage `json:"renders"`
	Builds  []json.RawMessage `json:"builds"`
	LastRun *Run              `json:"last_run"`
}

type addressV1 struct {
	Address string `json:"address"`
}

// decodeV1 converts a format 1 file to the current model.
func decodeV1(data []byte) (*State, error) {
	var v1 stateV1
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, jsonError(data, err)
	}
	s := &State{
		Serial:  v1.Serial,
		Lineage: v1.Lineage,
		Packer:  v1.Packer,
		Plugins: v1.Plugins,
		Sources: map[string]*Source{},
		Renders: map[string]*Render{},
		Builds:  map[string]*Build{},
		LastRun: v1.LastRun,
	}
	for _, raw := range v1.Sources {
		addr, src, err := decodeEntryV1[Source](raw, "sources")
		if err != nil {
			return nil, err
		}
		name, ok := strings.CutPrefix(addr, "source.")
		if !ok || name == "" {
			return nil, fmt.Errorf("state (format 1) has a source with address %q, want source.<name>; fix the file by hand", addr)
		}
		if err := putV1(s.Sources, name, addr, src); err != nil {
			return nil, err
		}
	}
	for _, raw := range v1.Renders {
		addr, r, err := decodeEntryV1[Render](raw, "renders")
		if err != nil {
			return nil, err
		}
		if err := putV1(s.Renders, addr, addr, r); err != nil {
			return nil, err
		}
	}
	for _, raw := range v1.Builds {
		addr, bw, err := decodeEntryV1[buildJSON](raw, "builds")
		if err != nil {
			return nil, err
		}
		b, err := bw.build()
		if err != nil {
			return nil, fmt.Errorf("state entry %s: %w", addr, err)
		}
		if err := putV1(s.Builds, addr, addr, b); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// decodeEntryV1 reads one array element twice: for its address, and as the
// entry itself.
func decodeEntryV1[V any](raw []byte, list string) (string, *V, error) {
	if string(raw) == "null" {
		return "", nil, fmt.Errorf("state (format 1) has a null entry in %s; fix the file by hand", list)
	}
	var a addressV1
	if err := json.Unmarshal(raw, &a); err != nil {
		return "", nil, fmt.Errorf("state (format 1) has an invalid entry in %s: %v; fix the file by hand", list, err)
	}
	if a.Address == "" {
		return "", nil, fmt.Errorf("state (format 1) has an entry in %s without an address; fix the file by hand", list)
	}
	v := new(V)
	if err := json.Unmarshal(raw, v); err != nil {
		return "", nil, fmt.Errorf("state (format 1) has an invalid entry %s: %v; fix the file by hand", a.Address, err)
	}
	return a.Address, v, nil
}

func putV1[V any](m map[string]*V, key, addr string, v *V) error {
	if _, dup := m[key]; dup {
		return fmt.Errorf("state (format 1) lists %s twice; fix the file by hand", addr)
	}
	m[key] = v
	return nil
}
