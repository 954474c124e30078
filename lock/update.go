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
	// Plugins are the plugin binaries found, by source address: those
	// installed for this platform (FindPlugins) and those of any platform in
	// plugin mirrors (FindMirroredPlugins).
	Plugins map[string][]InstalledPlugin
	// Platforms are the platforms whose plugin hashes are recorded ("hybrid
	// lock -platform"): a pin made or moved gets the hashes of each, and a
	// kept pin gains those of the ones it has none for. Nil means this
	// platform (CurrentPlatform) alone, for pins made or moved; kept pins
	// then stay as they are.
	Platforms []string
	// PluginSearch says where plugin binaries were looked for, for the
	// details of errors ("the plugin directories packer uses, ...").
	PluginSearch string
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
// newest usable version found within its constraint (recording the hashes
// of its binaries for each platform asked for, added to the old ones when
// the version stays), a source to what its ref resolves to now. When a
// plugin's version moves, the platforms the old pin had hashes for are
// recorded again where binaries for them are found, and a warning names
// those that are not. With Inputs.Platforms set, kept plugin pins gain the
// hashes of the platforms they have none for.
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
		p, d := updatePlugin(old.Plugins[r.Source], r, in, up.selects(r.Source))
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

// AddMissing computes the lockfile "hybrid init" writes over an existing
// one, as "terraform init" completes its lock file: every old pin exactly
// as it is (also one that no longer matches the configuration, which
// Check reports, and one the configuration no longer uses), plus a pin,
// made as Update makes it, for the packer version, each plugin and each
// source the configuration requires and old lacks. It does no I/O itself.
//
// On errors the returned File is nil and the diagnostics list every problem.
func AddMissing(old *File, req Requirements, in Inputs) (*File, hcl.Diagnostics) {
	next := old.clone()
	var diags hcl.Diagnostics
	if next.Packer == nil {
		p, d := updatePacker(nil, req, in.PackerVersion, false)
		diags = append(diags, d...)
		next.Packer = p
	}
	for _, r := range uniquePlugins(req.Plugins) {
		if next.Plugins[r.Source] != nil {
			continue
		}
		p, d := updatePlugin(nil, r, in, false)
		diags = append(diags, d...)
		if p != nil {
			if next.Plugins == nil {
				next.Plugins = map[string]*Plugin{}
			}
			next.Plugins[p.Source] = p
		}
	}
	sources, d := AddMissingSources(old, req.Sources, in.ResolveSource)
	diags = append(diags, d...)
	next.Sources = mapOrNil(sources)
	if diags.HasErrors() {
		return nil, diags
	}
	return next, diags
}

// AddMissingSources computes only the source pins AddMissing would write,
// by name: the old pins as they are, and a new pin for each source that
// has none, resolved with resolve.
func AddMissingSources(old *File, reqs []SourceRequirement, resolve func(name, url, ref string) (string, error)) (map[string]*Source, hcl.Diagnostics) {
	out := map[string]*Source{}
	for name, s := range old.clone().Sources {
		out[name] = s
	}
	var diags hcl.Diagnostics
	for _, r := range uniqueSources(reqs) {
		if out[r.Name] != nil {
			continue
		}
		s, d := updateSource(nil, r, resolve, false)
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

func updatePlugin(old *Plugin, r PluginRequirement, in Inputs, upgrade bool) (*Plugin, hcl.Diagnostics) {
	if err := validPluginSource(r.Source); err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid plugin source",
			Detail:   fmt.Sprintf("%s. Fix the template's required_plugins, then run \"hybrid lock\".", err),
			Subject:  rangePtr(r.DeclRange),
		}}
	}
	found := in.Plugins[r.Source]
	if old != nil && !upgrade {
		if err := CheckConstraint(r.Constraints, old.Version); err != nil {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Locked version of plugin %s does not satisfy its constraint", r.Source),
				Detail:   fmt.Sprintf("%s pins plugin %s: %s. Install a version that does (packer init), then run \"hybrid lock -upgrade %s\".", DefaultFilename, r.Source, err, r.Source),
				Subject:  rangePtr(r.DeclRange),
			}}
		}
		p := old.clone()
		p.Constraints, p.DeclRange = r.Constraints, hcl.Range{}
		var missing []string
		for _, platform := range in.Platforms {
			if len(p.Hashes[platform]) == 0 && !p.record(platform, found) {
				missing = append(missing, platform)
			}
		}
		if len(missing) > 0 {
			return nil, hcl.Diagnostics{missingPlatforms(p, missing, found, in.PluginSearch, r.DeclRange)}
		}
		return p, nil
	}

	platforms := in.Platforms
	if len(platforms) == 0 {
		platforms = []string{CurrentPlatform()}
	}
	var versions []string
	for _, ip := range found {
		if ip.Unusable == "" && slices.Contains(platforms, ip.Platform) && !slices.Contains(versions, ip.Version) {
			versions = append(versions, ip.Version)
		}
	}
	v, err := Newest(r.Constraints, versions)
	if err != nil {
		where := "installed"
		if len(in.Platforms) > 0 {
			where = "found for " + strings.Join(platforms, ", ")
		}
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("No installed version of plugin %s fits", r.Source),
			Detail: fmt.Sprintf("Plugin %s: %s (versions %s: %s). Install one with \"packer init\" or \"packer plugins install %s\", then run \"hybrid lock\" again.",
				r.Source, err, where, listOrNone(versions), r.Source),
			Subject: rangePtr(r.DeclRange),
		}}
	}
	p := &Plugin{Source: r.Source, Version: v, Constraints: r.Constraints}
	var carried []string // platforms of the old pin, recorded again if found
	if old != nil {
		if sameVersion(old.Version, v) {
			p.Hashes = old.clone().Hashes
		} else {
			for _, platform := range old.Platforms() {
				if !slices.Contains(platforms, platform) {
					carried = append(carried, platform)
				}
			}
		}
	}
	var diags hcl.Diagnostics
	var missing []string
	for _, platform := range platforms {
		if !p.record(platform, found) {
			missing = append(missing, platform)
		}
	}
	if len(missing) > 0 {
		return nil, hcl.Diagnostics{missingPlatforms(p, missing, found, in.PluginSearch, r.DeclRange)}
	}
	var dropped []string
	for _, platform := range carried {
		if !p.record(platform, found) {
			dropped = append(dropped, platform)
		}
	}
	if len(dropped) > 0 {
		d := missingPlatforms(p, dropped, found, in.PluginSearch, r.DeclRange)
		d.Severity = hcl.DiagWarning
		d.Summary = fmt.Sprintf("Plugin %s v%s has no hash for %s", p.Source, p.Version, strings.Join(dropped, ", "))
		d.Detail = fmt.Sprintf("The pin of v%s had hashes for %s, and none could be recorded for v%s, so builds there will refuse the plugin until they are. %s",
			old.Version, strings.Join(dropped, ", "), v, d.Detail)
		diags = append(diags, d)
	}
	return p, diags
}

// record adds to p the hashes of the usable binaries of p's version found
// for platform, and reports whether there was any. A hash the lockfile
// listed without its platform is now known to be platform's, and moves
// there.
func (p *Plugin) record(platform string, found []InstalledPlugin) bool {
	var hashes []string
	for _, ip := range found {
		if ip.Unusable == "" && ip.Platform == platform && sameVersion(ip.Version, p.Version) {
			hashes = append(hashes, ip.Hash)
		}
	}
	if len(hashes) == 0 {
		return false
	}
	if p.Hashes == nil {
		p.Hashes = map[string][]string{}
	}
	p.Hashes[platform] = normalizeHashes(append(p.Hashes[platform], hashes...))
	if unknown := p.Hashes[UnknownPlatform]; len(unknown) > 0 {
		unknown = slices.DeleteFunc(slices.Clone(unknown), func(h string) bool { return slices.Contains(hashes, h) })
		if len(unknown) == 0 {
			delete(p.Hashes, UnknownPlatform)
		} else {
			p.Hashes[UnknownPlatform] = unknown
		}
	}
	return true
}

// missingPlatforms is the error for a plugin pin that needs the hashes of
// platforms for which no usable binary of its version was found: which,
// where hybrid looked, what it found that would not do, and how to supply
// them.
func missingPlatforms(p *Plugin, missing []string, found []InstalledPlugin, search string, subject hcl.Range) *hcl.Diagnostic {
	var rejected []string
	for _, ip := range found {
		if ip.Unusable != "" && slices.Contains(missing, ip.Platform) && sameVersion(ip.Version, p.Version) {
			rejected = append(rejected, fmt.Sprintf("  %s: %s", ip.Path, ip.Unusable))
		}
	}
	typ := p.Source[strings.LastIndex(p.Source, "/")+1:]
	example := fmt.Sprintf("packer-plugin-%s_v%s_%s_%s.zip", typ, p.Version, PluginProtocol, missing[0])
	release := ""
	if parts := strings.Split(p.Source, "/"); parts[0] == "github.com" {
		release = fmt.Sprintf(" (https://github.com/%s/packer-plugin-%s/releases/tag/v%s)", parts[1], parts[2], p.Version)
	}
	if search == "" {
		search = "the plugin directories packer uses"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "hybrid lock records the hash of the plugin's binary for each platform it is asked for, and found no binary of %s v%s for %s in %s.",
		p.Source, p.Version, strings.Join(missing, ", "), search)
	if len(rejected) > 0 {
		fmt.Fprintf(&b, " It found, but cannot use:\n%s\n", strings.Join(rejected, "\n"))
	}
	fmt.Fprintf(&b, " Binaries for this platform are installed by \"packer init\". For others, put the plugin's release files in a directory given with -plugin-dir: %s with packer-plugin-%s_v%s_SHA256SUMS from its release%s, or binaries laid out as packer installs them. Or run \"hybrid lock -platform=%s\" on a %s machine where packer init installed it.",
		example, typ, p.Version, release, missing[0], missing[0])
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("No binary of plugin %s v%s for %s", p.Source, p.Version, strings.Join(missing, ", ")),
		Detail:   b.String(),
		Subject:  rangePtr(subject),
	}
}

// listOrNone joins a list for a message, or says "none".
func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
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
