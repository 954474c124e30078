package lock

import (
	"fmt"
	"slices"
	"strings"
)

// Change is one difference between two lockfiles, for "hybrid lock" to print.
type Change struct {
	// Address is "packer", "plugin.<source address>" or "source.<name>".
	Address string
	// Before and After are the pinned version (packer, plugins) or commit
	// (sources); Before is empty for a new pin and After for a removed one.
	Before, After string
	// Detail says what else changed when the version or commit did not (for
	// example "constraint changed", "hashes added for darwin_arm64", "url
	// changed").
	Detail string
}

// String renders the change as one line, e.g.
// "source.examples: 8f3c1a2b9d0e -> 4d5e6f7a8b9c".
func (c Change) String() string {
	var s string
	switch {
	case c.Before == "":
		s = fmt.Sprintf("%s: pinned %s", c.Address, c.After)
	case c.After == "":
		s = fmt.Sprintf("%s: removed (was %s)", c.Address, c.Before)
	case c.Before != c.After:
		s = fmt.Sprintf("%s: %s -> %s", c.Address, c.Before, c.After)
	default:
		s = fmt.Sprintf("%s: %s", c.Address, c.After)
	}
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// Changes lists what differs between old and next, in lockfile order: packer,
// plugins by address, sources by name. Commits are shortened to 12 digits.
func Changes(old, next *File) []Change {
	if old == nil {
		old = &File{}
	}
	if next == nil {
		next = &File{}
	}
	var out []Change

	var pb, pa string
	var pd []string
	if old.Packer != nil {
		pb = old.Packer.Version
	}
	if next.Packer != nil {
		pa = next.Packer.Version
	}
	if old.Packer != nil && next.Packer != nil && old.Packer.Constraints != next.Packer.Constraints {
		pd = append(pd, "constraint changed")
	}
	if pb != pa || len(pd) > 0 {
		out = append(out, change("packer", pb, pa, pd))
	}

	for _, src := range unionKeys(old.Plugins, next.Plugins) {
		o, n := old.Plugins[src], next.Plugins[src]
		var before, after string
		var detail []string
		if o != nil {
			before = o.Version
		}
		if n != nil {
			after = n.Version
		}
		if o != nil && n != nil {
			if o.Constraints != n.Constraints {
				detail = append(detail, "constraint changed")
			}
			detail = append(detail, hashChanges(o.Hashes, n.Hashes, sameVersion(o.Version, n.Version))...)
		}
		if before != after || len(detail) > 0 {
			out = append(out, change("plugin."+src, before, after, detail))
		}
	}

	for _, name := range unionKeys(old.Sources, next.Sources) {
		o, n := old.Sources[name], next.Sources[name]
		var before, after string
		var detail []string
		if o != nil {
			before = short(o.Commit)
		}
		if n != nil {
			after = short(n.Commit)
		}
		if o != nil && n != nil {
			if o.URL != n.URL {
				detail = append(detail, "url changed")
			}
			if o.Ref != n.Ref {
				detail = append(detail, "ref changed")
			}
		}
		if before != after || len(detail) > 0 {
			out = append(out, change("source."+name, before, after, detail))
		}
	}
	return out
}

func change(addr, before, after string, detail []string) Change {
	c := Change{Address: addr, Before: before, After: after}
	for i, d := range detail {
		if i > 0 {
			c.Detail += ", "
		}
		c.Detail += d
	}
	return c
}

func unionKeys[V any](a, b map[string]V) []string {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return sortedKeys(m)
}

// hashChanges says, by platform, how a plugin's hashes differ: "hashes
// added for darwin_arm64, windows_amd64", "hashes changed for linux_amd64",
// "hashes removed for ...". When the version moved, every hash changed
// with it, and only the platforms added and removed are worth saying.
func hashChanges(old, next map[string][]string, sameVersion bool) []string {
	var added, changed, removed []string
	for _, p := range unionKeys(old, next) {
		o, n := normalizeHashes(old[p]), normalizeHashes(next[p])
		name := p
		if p == UnknownPlatform {
			name = "an unknown platform"
		}
		switch {
		case len(o) == 0 && len(n) > 0:
			added = append(added, name)
		case len(o) > 0 && len(n) == 0:
			removed = append(removed, name)
		case sameVersion && !slices.Equal(o, n):
			changed = append(changed, name)
		}
	}
	var out []string
	for _, g := range []struct {
		what      string
		platforms []string
	}{{"added", added}, {"changed", changed}, {"removed", removed}} {
		if len(g.platforms) > 0 {
			out = append(out, fmt.Sprintf("hashes %s for %s", g.what, strings.Join(g.platforms, ", ")))
		}
	}
	return out
}
