package lock

import (
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// DefaultFilename is the lockfile's name in the workspace root.
const DefaultFilename = "hybrid.lock.hcl"

// header opens every lockfile hybrid writes.
const header = "# This file is maintained automatically by \"hybrid lock\".\n" +
	"# Manual edits may be lost in future updates; commit it to version control.\n"

// File is the decoded lockfile. The zero value (or a File with nil maps) is an
// empty lockfile that pins nothing.
type File struct {
	// Packer pins the packer binary; nil when the lockfile has no packer block.
	Packer *Packer
	// Plugins are keyed by plugin source address, e.g.
	// "github.com/hashicorp/vsphere"; each key equals its Plugin's Source.
	Plugins map[string]*Plugin
	// Sources are keyed by source name; each key equals its Source's Name.
	Sources map[string]*Source

	// Missing reports that Read found no file at the path it was given: the
	// File is then empty, and "hybrid init" knows it has to write one.
	Missing bool
}

// Packer pins the version of the packer binary and the constraint that version
// was chosen to satisfy.
type Packer struct {
	// Version is the version "packer version" printed, e.g. "1.9.4".
	Version string
	// Constraints is the configuration's packer constraint when the pin was
	// made, e.g. ">= 1.9.0"; empty when the configuration had none.
	Constraints string

	// DeclRange is where the packer block starts in the lockfile.
	DeclRange hcl.Range
}

// Plugin pins one packer plugin.
type Plugin struct {
	// Source is the plugin's address, "hostname/namespace/type".
	Source string
	// Version is the pinned plugin version, without a leading "v".
	Version string
	// Constraints is the configuration's constraint for the plugin when the pin
	// was made; empty when it had none.
	Constraints string
	// Hashes are the "sha256:<64 lowercase hex>" digests of the plugin
	// binaries accepted for Version, keyed by the platform each binary is
	// built for ("linux_amd64"); under UnknownPlatform, those a lockfile
	// listed without their platform. Each list is sorted and without
	// duplicates once decoded or encoded.
	Hashes map[string][]string

	// DeclRange is where the plugin block starts in the lockfile.
	DeclRange hcl.Range
}

// Source pins one git source to a commit.
type Source struct {
	// Name is the source's name in hybrid.hcl (and its directory under sources/).
	Name string
	// URL is the git remote the commit was resolved from.
	URL string
	// Ref is the branch, tag or commit the configuration asked for; empty for
	// the remote's default branch.
	Ref string
	// Commit is the full commit ID Ref resolved to: 40 (SHA-1) or 64 (SHA-256)
	// lowercase hex digits.
	Commit string

	// DeclRange is where the source block starts in the lockfile.
	DeclRange hcl.Range
}

// HashesFor returns the hashes a binary of the plugin for platform may
// have: those recorded for that platform and those whose platform is
// unknown, sorted.
func (p *Plugin) HashesFor(platform string) []string {
	out := slices.Clone(p.Hashes[platform])
	if platform != UnknownPlatform {
		out = append(out, p.Hashes[UnknownPlatform]...)
	}
	return normalizeHashes(out)
}

// Platforms returns the platforms the plugin has hashes for, sorted,
// without UnknownPlatform.
func (p *Plugin) Platforms() []string {
	var out []string
	for k, h := range p.Hashes {
		if k != UnknownPlatform && len(h) > 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// clone returns a deep copy of f (an empty File for nil), without the
// Missing mark: what a new lockfile starts from.
func (f *File) clone() *File {
	out := &File{}
	if f == nil {
		return out
	}
	if f.Packer != nil {
		p := *f.Packer
		out.Packer = &p
	}
	for k, p := range f.Plugins {
		if out.Plugins == nil {
			out.Plugins = map[string]*Plugin{}
		}
		out.Plugins[k] = p.clone()
	}
	for k, s := range f.Sources {
		if out.Sources == nil {
			out.Sources = map[string]*Source{}
		}
		c := *s
		out.Sources[k] = &c
	}
	return out
}

// clone returns a deep copy of p, so that a new lockfile never shares hash
// lists with the old one.
func (p *Plugin) clone() *Plugin {
	c := *p
	c.Hashes = nil
	for k, h := range p.Hashes {
		if len(h) == 0 {
			continue
		}
		if c.Hashes == nil {
			c.Hashes = map[string][]string{}
		}
		c.Hashes[k] = slices.Clone(h)
	}
	return &c
}

// pluginList returns the plugins sorted by source address.
func (f *File) pluginList() []*Plugin {
	return sortedValues(f.Plugins, func(p *Plugin) string { return p.Source })
}

// sourceList returns the sources sorted by name.
func (f *File) sourceList() []*Source {
	return sortedValues(f.Sources, func(s *Source) string { return s.Name })
}
