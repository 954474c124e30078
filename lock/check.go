package lock

import (
	"fmt"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
)

// Requirements is what the configuration asks the lockfile to pin. The caller
// builds it from hybrid.hcl and the templates' packer blocks; this package
// does not read them.
type Requirements struct {
	// Packer is the packer version constraint (the settings block's and the
	// templates' required_version joined with JoinConstraints); may be empty.
	Packer string
	// PackerRange is where the constraint is declared, for diagnostics; may be
	// the zero range.
	PackerRange hcl.Range
	// Plugins are the plugins the templates require.
	Plugins []PluginRequirement
	// Sources are the git sources hybrid.hcl declares.
	Sources []SourceRequirement
}

// PluginRequirement is one required plugin.
type PluginRequirement struct {
	// Source is the plugin address, "hostname/namespace/type".
	Source string
	// Constraints is the version constraint; may be empty.
	Constraints string
	// DeclRange is where the requirement is declared; may be the zero range.
	DeclRange hcl.Range
}

// SourceRequirement is one git source declared in hybrid.hcl.
type SourceRequirement struct {
	Name string
	URL  string
	// Ref is the branch, tag or commit to pin; empty for the default branch.
	Ref string
	// DeclRange is where the source is declared; may be the zero range.
	DeclRange hcl.Range
}

// Check lists every way f no longer satisfies req: a missing packer pin, a
// pinned packer or plugin version that fails its constraint, a changed
// constraint, a required plugin or declared source with no pin, a source whose
// URL or ref changed (errors), and pins the configuration no longer uses
// (warnings). Each diagnostic's Detail ends with the command that fixes it.
// The order is deterministic: packer, then plugins by address, then sources
// by name.
//
// A lockfile Read found missing gets one diagnostic saying so instead of one
// per pin.
func (f *File) Check(req Requirements) hcl.Diagnostics {
	if f.Missing {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No lockfile",
			Detail:   fmt.Sprintf("%s does not exist, so packer, plugins and sources are not pinned. Run \"hybrid lock\" to create it.", DefaultFilename),
		}}
	}
	var diags hcl.Diagnostics
	diags = append(diags, f.checkPacker(req)...)
	diags = append(diags, f.checkPlugins(req.Plugins)...)
	diags = append(diags, f.checkSources(req.Sources)...)
	return diags
}

// Lacks reports whether req asks for a pin f does not have: no packer pin,
// or a required plugin or a declared source without one. It is what
// "hybrid init" asks before it pins them (AddMissing); a pin that is there
// but no longer matches is Check's business.
func (f *File) Lacks(req Requirements) bool {
	if f.Packer == nil {
		return true
	}
	for _, p := range req.Plugins {
		if f.Plugins[p.Source] == nil {
			return true
		}
	}
	for _, s := range req.Sources {
		if f.Sources[s.Name] == nil {
			return true
		}
	}
	return false
}

func (f *File) checkPacker(req Requirements) hcl.Diagnostics {
	p := f.Packer
	if p == nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Packer version is not locked",
			Detail:   fmt.Sprintf("%s has no packer block. Run \"hybrid lock\" to pin the packer version.", DefaultFilename),
			Subject:  rangePtr(req.PackerRange),
		}}
	}
	v, err := version.NewVersion(p.Version)
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid locked packer version",
			Detail:   fmt.Sprintf("%s pins packer %q, which is not a version. Run \"hybrid lock -upgrade\" to pin it again.", DefaultFilename, p.Version),
			Subject:  rangePtr(p.DeclRange),
		}}
	}
	ok, err := satisfies(req.Packer, v)
	switch {
	case err != nil:
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid packer version constraint",
			Detail:   fmt.Sprintf("The configured packer constraint is not valid: %s. Fix it in the configuration, then run \"hybrid lock\".", err),
			Subject:  rangePtr(req.PackerRange),
		}}
	case !ok:
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Locked packer version does not satisfy its constraint",
			Detail: fmt.Sprintf("%s pins packer %s, which does not satisfy the configured constraint %q. Install a packer version that does, then run \"hybrid lock -upgrade\".",
				DefaultFilename, p.Version, req.Packer),
			Subject: rangePtr(p.DeclRange),
		}}
	case !sameConstraint(p.Constraints, req.Packer):
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Packer version constraint changed",
			Detail: fmt.Sprintf("The configuration requires packer %s, but %s was made for %s. The pinned version %s still satisfies it; run \"hybrid lock\" to record the new constraint.",
				quoteConstraint(req.Packer), DefaultFilename, quoteConstraint(p.Constraints), p.Version),
			Subject: rangePtr(req.PackerRange),
		}}
	}
	return nil
}

func (f *File) checkPlugins(reqs []PluginRequirement) hcl.Diagnostics {
	var diags hcl.Diagnostics
	wanted := map[string]PluginRequirement{}
	for _, r := range reqs {
		if _, seen := wanted[r.Source]; !seen {
			wanted[r.Source] = r
		}
	}
	for _, src := range sortedKeys(wanted) {
		r := wanted[src]
		p := f.Plugins[src]
		if p == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Plugin %s is not locked", src),
				Detail:   fmt.Sprintf("The configuration requires plugin %s, but %s has no pin for it. Run \"hybrid lock\" to pin it.", src, DefaultFilename),
				Subject:  rangePtr(r.DeclRange),
			})
			continue
		}
		v, err := version.NewVersion(p.Version)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid locked version for plugin %s", src),
				Detail:   fmt.Sprintf("%s pins plugin %s at %q, which is not a version. Run \"hybrid lock -upgrade %s\" to pin it again.", DefaultFilename, src, p.Version, src),
				Subject:  rangePtr(p.DeclRange),
			})
			continue
		}
		ok, err := satisfies(r.Constraints, v)
		switch {
		case err != nil:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid version constraint for plugin %s", src),
				Detail:   fmt.Sprintf("The configured constraint for plugin %s is not valid: %s. Fix it in the configuration, then run \"hybrid lock\".", src, err),
				Subject:  rangePtr(r.DeclRange),
			})
		case !ok:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Locked version of plugin %s does not satisfy its constraint", src),
				Detail: fmt.Sprintf("%s pins plugin %s at %s, which does not satisfy the configured constraint %q. Install a version that does (packer init), then run \"hybrid lock -upgrade %s\".",
					DefaultFilename, src, p.Version, r.Constraints, src),
				Subject: rangePtr(p.DeclRange),
			})
		case !sameConstraint(p.Constraints, r.Constraints):
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Version constraint of plugin %s changed", src),
				Detail: fmt.Sprintf("The configuration requires plugin %s %s, but %s was made for %s. The pinned version %s still satisfies it; run \"hybrid lock\" to record the new constraint.",
					src, quoteConstraint(r.Constraints), DefaultFilename, quoteConstraint(p.Constraints), p.Version),
				Subject: rangePtr(r.DeclRange),
			})
		}
	}
	for _, p := range f.pluginList() {
		if _, ok := wanted[p.Source]; !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  fmt.Sprintf("Plugin %s is locked but no longer required", p.Source),
				Detail:   fmt.Sprintf("%s pins plugin %s, which no template requires any more. Run \"hybrid lock\" to remove the stale pin.", DefaultFilename, p.Source),
				Subject:  rangePtr(p.DeclRange),
			})
		}
	}
	return diags
}

func (f *File) checkSources(reqs []SourceRequirement) hcl.Diagnostics {
	var diags hcl.Diagnostics
	wanted := map[string]SourceRequirement{}
	for _, r := range reqs {
		if _, seen := wanted[r.Name]; !seen {
			wanted[r.Name] = r
		}
	}
	for _, name := range sortedKeys(wanted) {
		r := wanted[name]
		s := f.Sources[name]
		if s == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Source %s is not locked", name),
				Detail:   fmt.Sprintf("hybrid.hcl declares source %q, but %s has no commit for it. Run \"hybrid lock\" to resolve and pin it.", name, DefaultFilename),
				Subject:  rangePtr(r.DeclRange),
			})
			continue
		}
		if s.URL != r.URL {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("URL of source %s changed", name),
				Detail: fmt.Sprintf("hybrid.hcl sets source %q to %q, but %s pinned commit %s from %q. Run \"hybrid lock\" to resolve the new URL.",
					name, r.URL, DefaultFilename, short(s.Commit), s.URL),
				Subject: rangePtr(r.DeclRange),
			})
		}
		if s.Ref != r.Ref {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Ref of source %s changed", name),
				Detail: fmt.Sprintf("hybrid.hcl asks for ref %s of source %q, but %s pinned commit %s for ref %s. Run \"hybrid lock\" to resolve the new ref.",
					quoteRef(r.Ref), name, DefaultFilename, short(s.Commit), quoteRef(s.Ref)),
				Subject: rangePtr(r.DeclRange),
			})
		}
	}
	for _, s := range f.sourceList() {
		if _, ok := wanted[s.Name]; !ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  fmt.Sprintf("Source %s is locked but no longer declared", s.Name),
				Detail:   fmt.Sprintf("%s pins source %q, which hybrid.hcl no longer declares. Run \"hybrid lock\" to remove the stale pin.", DefaultFilename, s.Name),
				Subject:  rangePtr(s.DeclRange),
			})
		}
	}
	return diags
}

// CheckPackerVersion compares the packer binary's version (as "packer
// version" printed it) with the pinned one. It fails when there is no pin or
// the versions differ, naming both and what to do.
func (f *File) CheckPackerVersion(found string) error {
	if f.Packer == nil {
		return fmt.Errorf("%s does not pin a packer version; run \"hybrid lock\"", DefaultFilename)
	}
	if !sameVersion(f.Packer.Version, found) {
		return fmt.Errorf("packer %s is installed, but %s pins packer %s; install packer %s, or run \"hybrid lock -upgrade\" to pin %s",
			found, DefaultFilename, f.Packer.Version, f.Packer.Version, found)
	}
	return nil
}

// CheckRequiredVersion checks the installed packer version against one
// template's required_version before any build, naming the template, the
// constraint and the version found.
func CheckRequiredVersion(template, constraint, found string) error {
	err := CheckConstraint(constraint, found)
	if err == nil {
		return nil
	}
	if _, verr := version.NewVersion(found); verr != nil {
		return fmt.Errorf("template %s: cannot check required_version %q: %v", template, constraint, err)
	}
	if _, cerr := version.NewConstraint(constraint); cerr != nil {
		return fmt.Errorf("template %s: %v; fix its required_version", template, err)
	}
	return fmt.Errorf("template %s requires packer %q (required_version), but packer %s is installed; install a packer version that satisfies it, then run \"hybrid lock -upgrade\"",
		template, constraint, found)
}

// rangePtr returns nil for the zero range, so a diagnostic without a known
// location has no Subject rather than a bogus one.
func rangePtr(r hcl.Range) *hcl.Range {
	if r == (hcl.Range{}) {
		return nil
	}
	return r.Ptr()
}

func quoteConstraint(c string) string {
	if c == "" {
		return "no constraint"
	}
	return fmt.Sprintf("%q", c)
}

func quoteRef(r string) string {
	if r == "" {
		return "(the default branch)"
	}
	return fmt.Sprintf("%q", r)
}

// short abbreviates a commit ID for messages.
func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
