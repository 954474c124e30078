package config

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Source is a source block: a git repository hybrid checks out under
// <sources>/<name> at the commit the lockfile pins.
type Source struct {
	Name string
	URL  string
	Ref  string // branch, tag or full commit
	// Path is the checkout directory, workspace-relative (sources/<name>).
	Path string
	// RebuildOnCommit makes the source's commit an input of every build
	// whose template it holds: any new commit rebuilds them, even one
	// that changes no file they read.
	RebuildOnCommit bool

	DeclRange hcl.Range
	NameRange hcl.Range
	URLRange  hcl.Range
	RefRange  hcl.Range
}

type rawSource struct {
	Name      string         `hcl:"name,label"`
	NameRange hcl.Range      `hcl:"name,label_range"`
	URL       hcl.Expression `hcl:"url,optional"` // required; decodeSource says so
	Ref       hcl.Expression `hcl:"ref,optional"`
	Rebuild   hcl.Expression `hcl:"rebuild_on_commit,optional"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

// DefaultRef is the ref a source follows when its block gives none.
const DefaultRef = "main"

func decodeSource(raw *rawSource, dirs Directories) (*Source, hcl.Diagnostics) {
	s := &Source{
		Name: raw.Name, Path: path.Join(dirs.Sources, raw.Name),
		DeclRange: raw.DefRange, NameRange: raw.NameRange,
		URLRange: raw.URL.Range(), RefRange: raw.Ref.Range(),
	}
	diags := checkName("source", raw.Name, raw.NameRange)
	var d hcl.Diagnostics
	s.URL, d = evalString(raw.URL, nil, "source url", "")
	diags = append(diags, d...)
	if !d.HasErrors() && strings.TrimSpace(s.URL) == "" {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing source url",
			Detail:   "A source block needs the git url of the repository to check out.",
			Subject:  raw.URL.Range().Ptr(),
		})
	}
	s.Ref, d = evalString(raw.Ref, nil, "source ref", DefaultRef)
	diags = append(diags, d...)
	if !isNull(raw.Rebuild) {
		v, vd := raw.Rebuild.Value(nil)
		diags = append(diags, vd...)
		if !vd.HasErrors() {
			if v.Type() != cty.Bool || !v.IsKnown() {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Incorrect attribute value type",
					Detail:   "rebuild_on_commit must be true or false.",
					Subject:  raw.Rebuild.Range().Ptr(),
				})
			} else {
				s.RebuildOnCommit = v.True()
			}
		}
	}
	return s, diags
}

// Plugin is a plugin block: a packer plugin and the versions it may be.
type Plugin struct {
	Name    string
	Source  string // github.com/hashicorp/vsphere
	Version string // version constraint

	DeclRange    hcl.Range
	SourceRange  hcl.Range
	VersionRange hcl.Range
}

type rawPlugin struct {
	Name      string         `hcl:"name,label"`
	NameRange hcl.Range      `hcl:"name,label_range"`
	Source    hcl.Expression `hcl:"source,optional"`  // required; decodePlugin says so
	Version   hcl.Expression `hcl:"version,optional"` // required; decodePlugin says so
	DefRange  hcl.Range      `hcl:",def_range"`
}

var pluginSourcePattern = regexp.MustCompile(`^[a-z0-9.-]+\.[a-z]{2,}/[A-Za-z0-9_.-]+/[a-z0-9_-]+$`)

func decodePlugin(raw *rawPlugin) (*Plugin, hcl.Diagnostics) {
	p := &Plugin{Name: raw.Name, DeclRange: raw.DefRange, SourceRange: raw.Source.Range(), VersionRange: raw.Version.Range()}
	diags := checkName("plugin", raw.Name, raw.NameRange)
	if d := append(required(raw.Source, "source", raw.DefRange), required(raw.Version, "version", raw.DefRange)...); d.HasErrors() {
		return p, append(diags, d...)
	}
	var d hcl.Diagnostics
	p.Source, d = evalString(raw.Source, nil, "plugin source", "")
	diags = append(diags, d...)
	if !d.HasErrors() && !pluginSourcePattern.MatchString(p.Source) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid plugin source",
			Detail:   fmt.Sprintf("%q is not a plugin source address; write it as HOST/NAMESPACE/NAME, e.g. \"github.com/hashicorp/vsphere\".", p.Source),
			Subject:  raw.Source.Range().Ptr(),
		})
	}
	p.Version, d = evalString(raw.Version, nil, "plugin version", "")
	diags = append(diags, d...)
	if !d.HasErrors() {
		if _, err := version.NewConstraint(p.Version); err != nil {
			diags = append(diags, invalidConstraint(p.Version, err, raw.Version.Range()))
		}
	}
	return p, diags
}
