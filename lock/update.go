package lock

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Inputs are what "hybrid lock" found on this machine, handed to Update.
type Inputs struct {
	// PackerVersion is the version "packer version" printed; empty when packer
	// was not found. Needed only when the packer pin is made or moved.
	PackerVersion string
	// Plugins are the installed plugin binaries by source address, as
	// FindPlugins returns them.
	Plugins map[string][]InstalledPlugin
	// ResolveSource resolves a source's ref at url to a full commit ID (for
	// example with git ls-remote). Update calls it only for sources it pins or
	// moves, never for pins it keeps.
	ResolveSource func(name, url, ref string) (commit string, err error)
}

// Upgrade selects the pins "hybrid lock -upgrade" moves.
type Upgrade struct {
	// All moves every pin: packer, plugins and sources.
	All bool
	// Names moves only these: source names and plugin source addresses.
	Names []string
}

func (u Upgrade) selects(name string) bool {
	return u.All || slices.Contains(u.Names, name)
}

// Update computes the lockfile "hybrid lock" writes, from the old lockfile
// (nil or empty for none), the configuration's requirements, what was found on
// this machine, and the upgrade selection. It does no I/O itself.
//
// Without an upgrade, a pin that still satisfies the configuration keeps its
// version, hashes or commit (only its recorded constraint follows the
// configuration), and a pin whose version fails its constraint is an error
// asking for -upgrade. New requirements are pinned, sources whose URL or ref
// changed are resolved again, and pins the configuration no longer needs are
// dropped. A selected pin moves: packer to the version found, a plugin to the
// newest usable installed version within its constraint (recording the hashes
// of the installed binaries of that version, added to the old ones when the
// version stays), a source to what its ref resolves to now.
//
// On errors the returned File is nil and the diagnostics list every problem.
func Update(old *File, req Requirements, in Inputs, up Upgrade) (*File, hcl.Diagnostics) {
	if old == nil {
		old = &File{}
	}
	next := &File{}
	var diags hcl.Diagnostics
	diags = append(diags, checkUpgradeNames(req, up)...)

	p, d := updatePacker(old.Packer, req, in.PackerVersion, up.All)
	diags = append(diags, d...)
	next.Packer = p

	for _, r := range uniquePlugins(req.Plugins) {
		p, d := updatePlugin(old.Plugins[r.Source], r, in.Plugins[r.Source], up.selects(r.Source))
		diags = append(diags, d...)
		if p != nil {
			if next.Plugins == nil {
				next.Plugins = map[string]*Plugin{}
			}
			next.Plugins[p.Source] = p
		}
	}

	for _, r := range uniqueSources(req.Sources) {
		s, d := updateSource(old.Sources[r.Name], r, in.ResolveSource, up.selects(r.Name))
		diags = append(diags, d...)
		if s != nil {
			if next.Sources == nil {
				next.Sources = map[string]*Source{}
			}
			next.Sources[s.Name] = s
		}
	}

	if diags.HasErrors() {
		return nil, diags
	}
	return next, diags
}

// UpdateSources computes only the source pins Update would write, by name:
// what "hybrid lock" resolves and fetches first, so that it can read the
// templates at the commits it is about to pin.
func UpdateSources(old *File, reqs []SourceRequirement, resolve func(name, url, ref string) (string, error), up Upgrade) (map[string]*Source, hcl.Diagnostics) {
	if old == nil {
		old = &File{}
	}
	out := map[string]*Source{}
	var diags hcl.Diagnostics
	for _, r := range uniqueSources(reqs) {
		s, d := updateSource(old.Sources[r.Name], r, resolve, up.selects(r.Name))
		diags = append(diags, d...)
		if s != nil {
			out[s.Name] = s
		}
	}
	return out, diags
}

func checkUpgradeNames(req Requirements, up Upgrade) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range up.Names {
		known := slices.ContainsFunc(req.Sources, func(s SourceRequirement) bool { return s.Name == n }) ||
			slices.ContainsFunc(req.Plugins, func(p PluginRequirement) bool { return p.Source == n })
		if known {
			continue
		}
		var names []string
		for _, s := range uniqueSources(req.Sources) {
			names = append(names, s.Name)
		}
		for _, p := range uniquePlugins(req.Plugins) {
			names = append(names, p.Source)
		}
		detail := fmt.Sprintf("%q is neither a source declared in hybrid.hcl nor a plugin a template requires.", n)
		if len(names) > 0 {
			detail += " Known names: " + strings.Join(names, ", ") + "."
		}
		detail += " To move the packer pin, run \"hybrid lock -upgrade\" without names."
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Unknown name %q to upgrade", n),
			Detail:   detail,
		})
	}
	return diags
}

func updatePacker(old *Packer, req Requirements, found string, upgrade bool) (*Packer, hcl.Diagnostics) {
	if old != nil && !upgrade {
		if err := CheckConstraint(req.Packer, old.Version); err != nil {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Locked packer version does not satisfy its constraint",
				Detail:   fmt.Sprintf("%s pins packer: %s. Install a packer version that satisfies it, then run \"hybrid lock -upgrade\".", DefaultFilename, err),
				Subject:  rangePtr(req.PackerRange),
			}}
		}
		return &Packer{Version: old.Version, Constraints: req.Packer}, nil
	}
	if found == "" {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Packer version unknown",
			Detail:   "The packer version could not be determined, so it cannot be pinned. Install packer (or put it on PATH), then run \"hybrid lock\" again.",
		}}
	}
	if err := CheckConstraint(req.Packer, found); err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Installed packer does not satisfy its constraint",
			Detail:   fmt.Sprintf("The installed packer: %s. Install a packer version that satisfies it, then run \"hybrid lock\" again.", err),
			Subject:  rangePtr(req.PackerRange),
		}}
	}
	return &Packer{Version: found, Constraints: req.Packer}, nil
}

func updatePlugin(old *Plugin, r PluginRequirement, installed []InstalledPlugin, upgrade bool) (*Plugin, hcl.Diagnostics) {
	if err := validPluginSource(r.Source); err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid plugin source",
			Detail:   fmt.Sprintf("%s. Fix the template's required_plugins, then run \"hybrid lock\".", err),
			Subject:  rangePtr(r.DeclRange),
		}}
	}
	if old != nil && !upgrade {
		if err := CheckConstraint(r.Constraints, old.Version); err != nil {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Locked version of plugin %s does not satisfy its constraint", r.Source),
				Detail:   fmt.Sprintf("%s pins plugin %s: %s. Install a version that does (packer init), then run \"hybrid lock -upgrade %s\".", DefaultFilename, r.Source, err, r.Source),
				Subject:  rangePtr(r.DeclRange),
			}}
		}
		return &Plugin{Source: r.Source, Version: old.Version, Constraints: r.Constraints, Hashes: slices.Clone(old.Hashes)}, nil
	}

	var versions []string
	for _, ip := range installed {
		if ip.Unusable == "" && !slices.Contains(versions, ip.Version) {
			versions = append(versions, ip.Version)
		}
	}
	v, err := Newest(r.Constraints, versions)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("No installed version of plugin %s fits", r.Source),
			Detail:   fmt.Sprintf("Plugin %s: %s. Install one with \"packer init\" or \"packer plugins install %s\", then run \"hybrid lock\" again.", r.Source, err, r.Source),
			Subject:  rangePtr(r.DeclRange),
		}}
	}
	var hashes []string
	for _, ip := range installed {
		if ip.Unusable == "" && ip.Version == v {
			hashes = append(hashes, ip.Hash)
		}
	}
	if old != nil && sameVersion(old.Version, v) {
		hashes = append(hashes, old.Hashes...)
	}
	return &Plugin{Source: r.Source, Version: v, Constraints: r.Constraints, Hashes: normalizeHashes(hashes)}, nil
}

func updateSource(old *Source, r SourceRequirement, resolve func(name, url, ref string) (string, error), upgrade bool) (*Source, hcl.Diagnostics) {
	if d := checkSourceRequirement(r); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	if old != nil && !upgrade && old.URL == r.URL && old.Ref == r.Ref {
		s := *old
		s.DeclRange = hcl.Range{}
		return &s, nil
	}
	if resolve == nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Cannot resolve source %s", r.Name),
			Detail:   "No way to resolve source refs was given to the lock update.",
			Subject:  rangePtr(r.DeclRange),
		}}
	}
	commit, err := resolve(r.Name, r.URL, r.Ref)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Cannot resolve source %s", r.Name),
			Detail: fmt.Sprintf("%s. Check the url and ref of source %q in hybrid.hcl and that the remote is reachable, then run \"hybrid lock\" again.",
				strings.TrimRight(err.Error(), ". "), r.Name),
			Subject: rangePtr(r.DeclRange),
		}}
	}
	if !commitRe.MatchString(commit) {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Cannot resolve source %s", r.Name),
			Detail:   fmt.Sprintf("Ref %s of %q resolved to %q, which is not a full commit ID (40 or 64 lowercase hex digits). Check the ref in hybrid.hcl, then run \"hybrid lock\" again.", quoteRef(r.Ref), r.URL, commit),
			Subject:  rangePtr(r.DeclRange),
		}}
	}
	return &Source{Name: r.Name, URL: r.URL, Ref: r.Ref, Commit: commit}, nil
}

// checkSourceRequirement rejects what the lockfile could not hold. The config
// package validates sources more thoroughly; this keeps Update's result
// parseable whatever it is given.
func checkSourceRequirement(r SourceRequirement) *hcl.Diagnostic {
	var problem string
	switch {
	case !validSourceName(r.Name):
		problem = fmt.Sprintf("source name %q must start with a letter, digit or underscore and contain only letters, digits, \"_\", \"-\" and \".\"", r.Name)
	case r.URL == "" || strings.HasPrefix(r.URL, "-"):
		problem = fmt.Sprintf("source %q has URL %q; a git URL must be non-empty and must not start with \"-\"", r.Name, r.URL)
	case strings.HasPrefix(r.Ref, "-"):
		problem = fmt.Sprintf("source %q has ref %q; a git ref must not start with \"-\"", r.Name, r.Ref)
	default:
		return nil
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid source",
		Detail:   "The " + problem + ". Fix it in hybrid.hcl, then run \"hybrid lock\" again.",
		Subject:  rangePtr(r.DeclRange),
	}
}

func uniquePlugins(reqs []PluginRequirement) []PluginRequirement {
	m := map[string]PluginRequirement{}
	for _, r := range reqs {
		if _, ok := m[r.Source]; !ok {
			m[r.Source] = r
		}
	}
	out := make([]PluginRequirement, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func uniqueSources(reqs []SourceRequirement) []SourceRequirement {
	m := map[string]SourceRequirement{}
	for _, r := range reqs {
		if _, ok := m[r.Name]; !ok {
			m[r.Name] = r
		}
	}
	out := make([]SourceRequirement, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}
