package lock

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// syncedLock and syncedReq agree with each other; the Check cases change one
// of them.
func syncedLock() *File {
	return &File{
		Packer: &Packer{Version: "1.9.4", Constraints: ">= 1.9.0"},
		Plugins: map[string]*Plugin{
			vsphere: {Source: vsphere, Version: "1.2.1", Constraints: ">= 1.2.0, < 2.0.0", Hashes: here(hashA)},
		},
		Sources: map[string]*Source{
			"examples": {Name: "examples", URL: "https://example.com/examples.git", Ref: "main", Commit: commitA},
		},
	}
}

func syncedReq() Requirements {
	return Requirements{
		Packer:  ">= 1.9.0",
		Plugins: []PluginRequirement{{Source: vsphere, Constraints: ">= 1.2.0, < 2.0.0"}},
		Sources: []SourceRequirement{{Name: "examples", URL: "https://example.com/examples.git", Ref: "main"}},
	}
}

// problem is what a Check test compares: the severity, the summary and the
// command the detail ends by recommending.
type problem struct {
	Severity hcl.DiagnosticSeverity
	Summary  string
	Step     string
}

var stepRe = regexp.MustCompile(`"(hybrid lock[^"]*)"[^"]*\.$`)

func problems(t *testing.T, diags hcl.Diagnostics) []problem {
	t.Helper()
	var out []problem
	for _, d := range diags {
		m := stepRe.FindStringSubmatch(d.Detail)
		if m == nil {
			t.Errorf("detail of %q does not end with a hybrid lock step: %s", d.Summary, d.Detail)
			out = append(out, problem{d.Severity, d.Summary, ""})
			continue
		}
		out = append(out, problem{d.Severity, d.Summary, m[1]})
	}
	return out
}

const (
	errSev  = hcl.DiagError
	warnSev = hcl.DiagWarning
)

func TestCheck(t *testing.T) {
	tests := map[string]struct {
		lock func(*File)
		req  func(*Requirements)
		want []problem
	}{
		"in sync": {},
		"constraint spacing and order do not matter": {
			req: func(r *Requirements) {
				r.Packer = ">=1.9.0"
				r.Plugins[0].Constraints = "< 2.0.0,>= 1.2.0"
			},
		},
		"no packer pin": {
			lock: func(f *File) { f.Packer = nil },
			want: []problem{{errSev, "Packer version is not locked", "hybrid lock"}},
		},
		"pinned packer fails constraint": {
			req:  func(r *Requirements) { r.Packer = ">= 1.10.0" },
			want: []problem{{errSev, "Locked packer version does not satisfy its constraint", "hybrid lock -upgrade"}},
		},
		"packer constraint changed, pin still fits": {
			req:  func(r *Requirements) { r.Packer = ">= 1.9.0, < 2.0.0" },
			want: []problem{{errSev, "Packer version constraint changed", "hybrid lock"}},
		},
		"packer constraint removed": {
			req:  func(r *Requirements) { r.Packer = "" },
			want: []problem{{errSev, "Packer version constraint changed", "hybrid lock"}},
		},
		"packer constraint invalid": {
			req:  func(r *Requirements) { r.Packer = ">== 1" },
			want: []problem{{errSev, "Invalid packer version constraint", "hybrid lock"}},
		},
		"plugin added": {
			req: func(r *Requirements) {
				r.Plugins = append(r.Plugins, PluginRequirement{Source: "github.com/hashicorp/ansible", Constraints: ">= 1.0.0"})
			},
			want: []problem{{errSev, "Plugin github.com/hashicorp/ansible is not locked", "hybrid lock"}},
		},
		"plugin version fails": {
			req: func(r *Requirements) { r.Plugins[0].Constraints = ">= 1.3.0" },
			want: []problem{{errSev, "Locked version of plugin github.com/hashicorp/vsphere does not satisfy its constraint",
				"hybrid lock -upgrade github.com/hashicorp/vsphere"}},
		},
		"plugin constraint changed": {
			req:  func(r *Requirements) { r.Plugins[0].Constraints = "~> 1.2" },
			want: []problem{{errSev, "Version constraint of plugin github.com/hashicorp/vsphere changed", "hybrid lock"}},
		},
		"plugin no longer required": {
			req:  func(r *Requirements) { r.Plugins = nil },
			want: []problem{{warnSev, "Plugin github.com/hashicorp/vsphere is locked but no longer required", "hybrid lock"}},
		},
		"plugin required twice counts once": {
			req: func(r *Requirements) { r.Plugins = append(r.Plugins, r.Plugins[0]) },
		},
		"source added": {
			req: func(r *Requirements) {
				r.Sources = append(r.Sources, SourceRequirement{Name: "base", URL: "/srv/git/base.git"})
			},
			want: []problem{{errSev, "Source base is not locked", "hybrid lock"}},
		},
		"source removed": {
			req:  func(r *Requirements) { r.Sources = nil },
			want: []problem{{warnSev, "Source examples is locked but no longer declared", "hybrid lock"}},
		},
		"url changed": {
			req:  func(r *Requirements) { r.Sources[0].URL = "https://example.com/fork.git" },
			want: []problem{{errSev, "URL of source examples changed", "hybrid lock"}},
		},
		"ref changed": {
			req:  func(r *Requirements) { r.Sources[0].Ref = "v2.0.0" },
			want: []problem{{errSev, "Ref of source examples changed", "hybrid lock"}},
		},
		"ref cleared": {
			req:  func(r *Requirements) { r.Sources[0].Ref = "" },
			want: []problem{{errSev, "Ref of source examples changed", "hybrid lock"}},
		},
		"url and ref changed": {
			req: func(r *Requirements) {
				r.Sources[0].URL = "https://example.com/fork.git"
				r.Sources[0].Ref = "dev"
			},
			want: []problem{
				{errSev, "URL of source examples changed", "hybrid lock"},
				{errSev, "Ref of source examples changed", "hybrid lock"},
			},
		},
		"missing lockfile": {
			lock: func(f *File) { *f = File{Missing: true} },
			want: []problem{{errSev, "No lockfile", "hybrid lock"}},
		},
		"empty lockfile": {
			lock: func(f *File) { *f = File{} },
			want: []problem{
				{errSev, "Packer version is not locked", "hybrid lock"},
				{errSev, "Plugin github.com/hashicorp/vsphere is not locked", "hybrid lock"},
				{errSev, "Source examples is not locked", "hybrid lock"},
			},
		},
		"everything at once, in order": {
			lock: func(f *File) {
				f.Plugins["github.com/old/gone"] = &Plugin{Source: "github.com/old/gone", Version: "0.1.0"}
				f.Sources["aaa-stale"] = &Source{Name: "aaa-stale", URL: "/x", Commit: commitB}
			},
			req: func(r *Requirements) {
				r.Packer = "< 1.9.0"
				r.Plugins[0].Constraints = "< 1.0.0"
				r.Sources = append(r.Sources, SourceRequirement{Name: "zzz-new", URL: "/z"})
			},
			want: []problem{
				{errSev, "Locked packer version does not satisfy its constraint", "hybrid lock -upgrade"},
				{errSev, "Locked version of plugin github.com/hashicorp/vsphere does not satisfy its constraint", "hybrid lock -upgrade github.com/hashicorp/vsphere"},
				{warnSev, "Plugin github.com/old/gone is locked but no longer required", "hybrid lock"},
				{errSev, "Source zzz-new is not locked", "hybrid lock"},
				{warnSev, "Source aaa-stale is locked but no longer declared", "hybrid lock"},
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f, req := syncedLock(), syncedReq()
			if tt.lock != nil {
				tt.lock(f)
			}
			if tt.req != nil {
				tt.req(&req)
			}
			diff(t, tt.want, problems(t, f.Check(req)))
		})
	}
}

func TestCheckSubjects(t *testing.T) {
	f, diags := Parse([]byte(`
source "stale" {
  url    = "/x"
  commit = "`+commitA+`"
}
`), "hybrid.lock.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	f.Packer = &Packer{Version: "1.9.4"}
	cfgRange := hcl.Range{Filename: "hybrid.hcl", Start: hcl.Pos{Line: 7, Column: 1}, End: hcl.Pos{Line: 7, Column: 10}}
	got := f.Check(Requirements{Sources: []SourceRequirement{{Name: "new", URL: "/n", DeclRange: cfgRange}}})
	if len(got) != 2 {
		t.Fatalf("got %d diagnostics, want 2: %v", len(got), got)
	}
	if s := got[0].Subject; s == nil || s.Filename != "hybrid.hcl" || s.Start.Line != 7 {
		t.Errorf("unlocked source points at %v, want hybrid.hcl:7", s)
	}
	if s := got[1].Subject; s == nil || s.Filename != "hybrid.lock.hcl" || s.Start.Line != 2 {
		t.Errorf("stale pin points at %v, want hybrid.lock.hcl:2", s)
	}
	// With no known range there is no Subject at all.
	got = (&File{}).Check(Requirements{})
	if len(got) != 1 || got[0].Subject != nil {
		t.Errorf("want one diagnostic without a subject, got %v", got)
	}
}

func TestCheckPackerVersion(t *testing.T) {
	tests := map[string]struct {
		pin     *Packer
		found   string
		wantErr string
	}{
		"same":        {&Packer{Version: "1.9.4"}, "1.9.4", ""},
		"same with v": {&Packer{Version: "1.9.4"}, "v1.9.4", ""},
		"differs": {&Packer{Version: "1.9.4"}, "1.9.5",
			`packer 1.9.5 is installed, but hybrid.lock.hcl pins packer 1.9.4; install packer 1.9.4, or run "hybrid lock -upgrade" to pin 1.9.5`},
		"no pin": {nil, "1.9.4", `does not pin a packer version; run "hybrid lock"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			checkErr(t, (&File{Packer: tt.pin}).CheckPackerVersion(tt.found), tt.wantErr)
		})
	}
}

func TestCheckDetailsNameValues(t *testing.T) {
	f, req := syncedLock(), syncedReq()
	req.Sources[0].URL = "https://example.com/fork.git"
	diags := f.Check(req)
	if len(diags) != 1 {
		t.Fatalf("want 1 diagnostic, got %v", diags)
	}
	for _, want := range []string{"https://example.com/fork.git", "https://example.com/examples.git", commitA[:12]} {
		if !strings.Contains(diags[0].Detail, want) {
			t.Errorf("detail %q does not mention %q", diags[0].Detail, want)
		}
	}
}

func TestCheckRequiredVersion(t *testing.T) {
	tests := map[string]struct {
		constraint, found string
		wantErr           string
	}{
		"meets":         {">= 1.9.0", "1.9.4", ""},
		"no constraint": {"", "1.9.4", ""},
		"too old": {">= 1.10.0", "1.9.4",
			`template builds/linux/ubuntu requires packer ">= 1.10.0" (required_version), but packer 1.9.4 is installed; install a packer version that satisfies it, then run "hybrid lock -upgrade"`},
		"bad constraint": {">>= 1", "1.9.4", `template builds/linux/ubuntu: invalid version constraint ">>= 1"`},
		"bad version":    {">= 1", "dev", `template builds/linux/ubuntu: cannot check required_version ">= 1": invalid version "dev"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			checkErr(t, CheckRequiredVersion("builds/linux/ubuntu", tt.constraint, tt.found), tt.wantErr)
		})
	}
}
