package state

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// TreeKeyPrefix starts the record key of a tree in Change.Delete:
// "tree:<digest>". Sources, renders and builds are deleted by address.
const TreeKeyPrefix = "tree:"

// TreeKey is the record key of the tree with the given digest.
func TreeKey(digest string) string { return TreeKeyPrefix + digest }

// Change is one atomic change to the state's records: what a node's result
// puts and deletes. A backend applies it whole or not at all, and increments
// the serial by exactly one.
//
// A record is put whole (it replaces the record under its key); a key may
// not be both put and deleted in one change. Deleting a key that is not in
// the state is not an error. The JSON encoding is the one the local
// backend's journal stores.
type Change struct {
	Sources map[string]*Source           `json:"sources,omitempty"` // by source name
	Renders map[string]*Render           `json:"renders,omitempty"` // by address
	Builds  map[string]*Build            `json:"builds,omitempty"`  // by address
	Trees   map[string]map[string]string `json:"trees,omitempty"`   // by tree digest
	Delete  []string                     `json:"delete,omitempty"`  // record keys to delete: addresses, or "tree:<digest>"
	LastRun *Run                         `json:"last_run,omitempty"`
	Packer  *Packer                      `json:"packer,omitempty"`
	// Plugins replaces the whole plugin map when it is not nil (an empty
	// map clears it).
	Plugins map[string]Plugin `json:"plugins,omitzero"`
}

// Check validates a change as Decode validates a state, so that a backend
// never stores a record it could not read back: no null records, render
// and build keys that match their env and image (both are filled in from
// the key when both are empty, as Decode does), delete keys that name a
// record, and no key both put and deleted.
func (c *Change) Check() error {
	if c == nil {
		return errors.New("no change given")
	}
	put := map[string]bool{}
	for name, src := range c.Sources {
		if name == "" {
			return errors.New("change puts a source with an empty name")
		}
		if src == nil {
			return fmt.Errorf("change puts a null record at %s", SourceAddr(name))
		}
		put[SourceAddr(name)] = true
	}
	for addr, r := range c.Renders {
		if r == nil {
			return fmt.Errorf("change puts a null record at %s", addr)
		}
		if err := checkEntry(addr, "render", &r.Env, &r.Image); err != nil {
			return err
		}
		put[addr] = true
	}
	for addr, b := range c.Builds {
		if b == nil {
			return fmt.Errorf("change puts a null record at %s", addr)
		}
		if err := checkEntry(addr, "build", &b.Env, &b.Image); err != nil {
			return err
		}
		put[addr] = true
	}
	for d := range c.Trees {
		if d == "" {
			return errors.New("change puts a tree with an empty digest")
		}
		put[TreeKey(d)] = true
	}
	for _, k := range c.Delete {
		if !validKey(k) {
			return fmt.Errorf("change deletes %q, which is not a record key (source.<name>, render.<env>.<image>, build.<env>.<image> or tree:<digest>)", k)
		}
		if put[k] {
			return fmt.Errorf("change both puts and deletes %s", k)
		}
	}
	return nil
}

// validKey reports whether k names a record: an address, or a tree key.
func validKey(k string) bool {
	if d, ok := strings.CutPrefix(k, TreeKeyPrefix); ok {
		return d != ""
	}
	if name, ok := strings.CutPrefix(k, "source."); ok {
		return name != ""
	}
	parts := strings.SplitN(k, ".", 3)
	return len(parts) == 3 && (parts[0] == "render" || parts[0] == "build") && parts[1] != "" && parts[2] != ""
}

// DeepCopy returns a copy of c that shares no memory with it.
func (c *Change) DeepCopy() *Change {
	if c == nil {
		return nil
	}
	d := &Change{
		Sources: cloneEntries(c.Sources, func(v *Source) *Source { x := *v; return &x }),
		Renders: cloneEntries(c.Renders, (*Render).deepCopy),
		Builds:  cloneEntries(c.Builds, (*Build).deepCopy),
		Delete:  slices.Clone(c.Delete),
		Plugins: maps.Clone(c.Plugins),
	}
	if c.Trees != nil {
		d.Trees = make(map[string]map[string]string, len(c.Trees))
		for k, v := range c.Trees {
			d.Trees[k] = maps.Clone(v)
		}
	}
	if c.LastRun != nil {
		r := *c.LastRun
		d.LastRun = &r
	}
	if c.Packer != nil {
		p := *c.Packer
		d.Packer = &p
	}
	return d
}

// Apply makes the change c in s: first the deletes, then the puts. The
// records c puts become s's own (they are not copied), and s.Serial is left
// for the caller (a backend) to set. c should have passed Check.
func (s *State) Apply(c *Change) {
	s.normalizeMaps()
	for _, k := range c.Delete {
		switch {
		case strings.HasPrefix(k, TreeKeyPrefix):
			delete(s.Trees, strings.TrimPrefix(k, TreeKeyPrefix))
		case strings.HasPrefix(k, "source."):
			delete(s.Sources, strings.TrimPrefix(k, "source."))
		case strings.HasPrefix(k, "render."):
			delete(s.Renders, k)
		case strings.HasPrefix(k, "build."):
			delete(s.Builds, k)
		}
	}
	if len(s.Trees) == 0 && len(c.Trees) == 0 {
		s.Trees = nil
	}
	for name, src := range c.Sources {
		s.Sources[name] = src
	}
	for addr, r := range c.Renders {
		r.normalize()
		s.Renders[addr] = r
	}
	for addr, b := range c.Builds {
		b.normalize()
		s.Builds[addr] = b
	}
	if len(c.Trees) > 0 && s.Trees == nil {
		s.Trees = make(map[string]map[string]string, len(c.Trees))
	}
	for d, files := range c.Trees {
		s.Trees[d] = files
	}
	if c.LastRun != nil {
		s.LastRun = c.LastRun
	}
	if c.Packer != nil {
		s.Packer = c.Packer
	}
	if c.Plugins != nil {
		s.Plugins = c.Plugins
	}
}
