package lock

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const (
	hashC     = "sha256:c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
	hashD     = "sha256:d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0"
	commitNew = "1111111111111111111111111111111111111111"
)

// installed is what FindPlugins reported on the machine of the Update tests:
// vsphere 1.2.1 (the pinned one, hash A), 1.3.0 (hash C, in two places, one
// binary of it seen with hash D), 2.0.0 (outside the constraint) and 1.4.0
// (newer, but packer cannot use it).
func installed() map[string][]InstalledPlugin {
	ip := func(v, hash, unusable string) InstalledPlugin {
		return InstalledPlugin{Source: vsphere, Version: v, Protocol: "x5.0", Platform: CurrentPlatform(), Path: "/p/" + v, Hash: hash, Unusable: unusable}
	}
	return map[string][]InstalledPlugin{
		vsphere: {
			ip("2.0.0", hashB, ""),
			ip("1.4.0", hashB, "no readable checksum file"),
			ip("1.3.0", hashC, ""),
			ip("1.3.0", hashD, ""),
			ip("1.2.1", hashA, ""),
		},
		"github.com/hashicorp/ansible": {
			{Source: "github.com/hashicorp/ansible", Version: "1.1.0", Protocol: "x5.0", Platform: CurrentPlatform(), Path: "/a", Hash: hashB},
		},
	}
}

func TestUpdate(t *testing.T) {
	// Remote refs: what the resolver answers now.
	remote := map[string]string{
		"https://example.com/examples.git main":   commitNew,
		"https://example.com/fork.git main":       commitB,
		"https://example.com/examples.git v2.0.0": commitB,
		"/srv/git/base.git ":                      commitB,
	}

	tests := map[string]struct {
		old          func(*File) // nil old lockfile when it sets nothing and fresh is true
		fresh        bool
		req          func(*Requirements)
		packer       string // found; default 1.9.5
		up           Upgrade
		want         func(*File) // changes to syncedLock
		wantErrs     []string    // summaries
		wantResolved []string    // names passed to the resolver, in order
	}{
		"fresh lockfile pins everything": {
			fresh: true,
			want: func(f *File) {
				f.Packer.Version = "1.9.5"
				f.Plugins[vsphere].Version = "1.3.0"
				f.Plugins[vsphere].Hashes = here(hashC, hashD)
				f.Sources["examples"].Commit = commitNew
			},
			wantResolved: []string{"examples"},
		},
		"in sync: nothing moves, nothing is resolved": {},
		"constraint text follows the configuration": {
			req: func(r *Requirements) {
				r.Packer = ">= 1.9.0, < 2.0.0"
				r.Plugins[0].Constraints = "~> 1.2"
			},
			want: func(f *File) {
				f.Packer.Constraints = ">= 1.9.0, < 2.0.0"
				f.Plugins[vsphere].Constraints = "~> 1.2"
			},
		},
		"pinned packer fails constraint without upgrade": {
			req:      func(r *Requirements) { r.Packer = ">= 1.9.5" },
			wantErrs: []string{"Locked packer version does not satisfy its constraint"},
		},
		"pinned plugin fails constraint without upgrade": {
			req:      func(r *Requirements) { r.Plugins[0].Constraints = ">= 1.3.0" },
			wantErrs: []string{"Locked version of plugin github.com/hashicorp/vsphere does not satisfy its constraint"},
		},
		"url changed is resolved again": {
			req: func(r *Requirements) { r.Sources[0].URL = "https://example.com/fork.git" },
			want: func(f *File) {
				f.Sources["examples"].URL = "https://example.com/fork.git"
				f.Sources["examples"].Commit = commitB
			},
			wantResolved: []string{"examples"},
		},
		"ref changed is resolved again": {
			req:          func(r *Requirements) { r.Sources[0].Ref = "v2.0.0" },
			want:         func(f *File) { f.Sources["examples"].Ref = "v2.0.0"; f.Sources["examples"].Commit = commitB },
			wantResolved: []string{"examples"},
		},
		"new source and plugin are pinned, old pins stay": {
			req: func(r *Requirements) {
				r.Sources = append(r.Sources, SourceRequirement{Name: "base", URL: "/srv/git/base.git"})
				r.Plugins = append(r.Plugins, PluginRequirement{Source: "github.com/hashicorp/ansible"})
			},
			want: func(f *File) {
				f.Sources["base"] = &Source{Name: "base", URL: "/srv/git/base.git", Commit: commitB}
				f.Plugins["github.com/hashicorp/ansible"] = &Plugin{Source: "github.com/hashicorp/ansible", Version: "1.1.0", Hashes: here(hashB)}
			},
			wantResolved: []string{"base"},
		},
		"stale pins are dropped": {
			req:  func(r *Requirements) { r.Sources = nil; r.Plugins = nil },
			want: func(f *File) { f.Sources = nil; f.Plugins = nil },
		},
		"upgrade all moves every pin": {
			up: Upgrade{All: true},
			want: func(f *File) {
				f.Packer.Version = "1.9.5"
				f.Plugins[vsphere].Version = "1.3.0"
				f.Plugins[vsphere].Hashes = here(hashC, hashD)
				f.Sources["examples"].Commit = commitNew
			},
			wantResolved: []string{"examples"},
		},
		"upgrade one source moves only it": {
			old: func(f *File) {
				f.Sources["other"] = &Source{Name: "other", URL: "/srv/git/base.git", Commit: commitA}
			},
			req: func(r *Requirements) {
				r.Sources = append(r.Sources, SourceRequirement{Name: "other", URL: "/srv/git/base.git"})
			},
			up: Upgrade{Names: []string{"examples"}},
			want: func(f *File) {
				f.Sources["examples"].Commit = commitNew
				f.Sources["other"] = &Source{Name: "other", URL: "/srv/git/base.git", Commit: commitA}
			},
			wantResolved: []string{"examples"},
		},
		"upgrade one plugin moves only it": {
			up: Upgrade{Names: []string{vsphere}},
			want: func(f *File) {
				f.Plugins[vsphere].Version = "1.3.0"
				f.Plugins[vsphere].Hashes = here(hashC, hashD)
			},
		},
		"upgrade at the same version adds hashes": {
			old: func(f *File) { f.Plugins[vsphere].Version = "1.3.0"; f.Plugins[vsphere].Hashes = here(hashA) },
			up:  Upgrade{Names: []string{vsphere}},
			want: func(f *File) {
				f.Plugins[vsphere].Version = "1.3.0"
				f.Plugins[vsphere].Hashes = here(hashA, hashC, hashD)
			},
		},
		"upgrade of packer uses the version found": {
			packer: "1.9.4",
			up:     Upgrade{All: true},
			old:    func(f *File) { f.Packer.Version = "1.9.0" },
			want: func(f *File) {
				f.Plugins[vsphere].Version = "1.3.0"
				f.Plugins[vsphere].Hashes = here(hashC, hashD)
				f.Sources["examples"].Commit = commitNew
			},
			wantResolved: []string{"examples"},
		},
		"unknown upgrade name": {
			up:       Upgrade{Names: []string{"nope"}},
			wantErrs: []string{`Unknown name "nope" to upgrade`},
		},
		"packer not found": {
			fresh:        true,
			packer:       "-",
			wantErrs:     []string{"Packer version unknown"},
			wantResolved: []string{"examples"},
		},
		"installed packer fails constraint": {
			fresh:        true,
			packer:       "1.8.0",
			wantErrs:     []string{"Installed packer does not satisfy its constraint"},
			wantResolved: []string{"examples"},
		},
		"no installed plugin fits": {
			fresh:        true,
			req:          func(r *Requirements) { r.Plugins[0].Constraints = ">= 1.4.0, < 2.0.0" },
			wantErrs:     []string{"No installed version of plugin github.com/hashicorp/vsphere fits"},
			wantResolved: []string{"examples"},
		},
		"resolver fails": {
			req:          func(r *Requirements) { r.Sources[0].Ref = "no-such-branch" },
			wantErrs:     []string{"Cannot resolve source examples"},
			wantResolved: []string{"examples"},
		},
		"resolver returns a short commit": {
			req:          func(r *Requirements) { r.Sources[0].URL = "short" },
			wantErrs:     []string{"Cannot resolve source examples"},
			wantResolved: []string{"examples"},
		},
		"invalid source in the requirements": {
			req: func(r *Requirements) {
				r.Sources = append(r.Sources,
					SourceRequirement{Name: "../up", URL: "/x"},
					SourceRequirement{Name: "opt", URL: "--upload-pack=touch x"},
					SourceRequirement{Name: "ref", URL: "/x", Ref: "--output=x"})
			},
			wantErrs: []string{"Invalid source", "Invalid source", "Invalid source"},
		},
		"invalid plugin in the requirements": {
			req:      func(r *Requirements) { r.Plugins[0].Source = "../../x" },
			wantErrs: []string{"Invalid plugin source"},
		},
		"every problem at once": {
			fresh:        true,
			packer:       "-",
			req:          func(r *Requirements) { r.Plugins[0].Constraints = ">= 5"; r.Sources[0].Ref = "no-such-branch" },
			wantErrs:     []string{"Packer version unknown", "No installed version of plugin github.com/hashicorp/vsphere fits", "Cannot resolve source examples"},
			wantResolved: []string{"examples"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var old *File
			if !tt.fresh {
				old = syncedLock()
				if tt.old != nil {
					tt.old(old)
				}
			}
			req := syncedReq()
			if tt.req != nil {
				tt.req(&req)
			}
			var resolved []string
			in := Inputs{
				PackerVersion: "1.9.5",
				Plugins:       installed(),
				ResolveSource: func(name, url, ref string) (string, error) {
					resolved = append(resolved, name)
					if url == "short" {
						return "abc123", nil
					}
					c, ok := remote[url+" "+ref]
					if !ok {
						return "", errors.New("git ls-remote " + url + ": no ref " + ref)
					}
					return c, nil
				},
			}
			switch tt.packer {
			case "":
			case "-":
				in.PackerVersion = ""
			default:
				in.PackerVersion = tt.packer
			}
			var before []byte
			if old != nil {
				before = old.Bytes()
			}

			got, diags := Update(old, req, in, tt.up)

			diff(t, tt.wantResolved, resolved)
			if old != nil && string(before) != string(old.Bytes()) {
				t.Error("Update modified the old File")
			}
			if len(tt.wantErrs) > 0 {
				var summaries []string
				for _, d := range diags {
					summaries = append(summaries, d.Summary)
					if d.Severity != hcl.DiagError || !strings.HasSuffix(d.Detail, ".") {
						t.Errorf("diagnostic %q: severity %v, detail %q", d.Summary, d.Severity, d.Detail)
					}
				}
				diff(t, tt.wantErrs, summaries)
				if got != nil {
					t.Error("Update returned a File along with errors")
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			want := syncedLock()
			if tt.want != nil {
				tt.want(want)
			}
			if req.Packer != want.Packer.Constraints && tt.want == nil {
				t.Fatal("test case inconsistent")
			}
			diff(t, want, got)

			// What Update produces always reads back as itself.
			back, diags := Parse(got.Bytes(), DefaultFilename)
			if diags.HasErrors() {
				t.Fatalf("result does not parse: %s\n%s", diags.Error(), got.Bytes())
			}
			diff(t, got, back)
		})
	}
}

func TestUpdateDoesNotShareHashes(t *testing.T) {
	old := syncedLock()
	got, diags := Update(old, syncedReq(), Inputs{}, Upgrade{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	got.Plugins[vsphere].Hashes[CurrentPlatform()][0] = "changed"
	if old.Plugins[vsphere].Hashes[CurrentPlatform()][0] != hashA {
		t.Error("the new File shares its hash slice with the old one")
	}
}

func TestUpdateUpgradeNamesHint(t *testing.T) {
	_, diags := Update(syncedLock(), syncedReq(), Inputs{}, Upgrade{Names: []string{"packer"}})
	if len(diags) != 1 {
		t.Fatalf("want one diagnostic, got %v", diags)
	}
	for _, want := range []string{"examples", vsphere, `"hybrid lock -upgrade" without names`} {
		if !strings.Contains(diags[0].Detail, want) {
			t.Errorf("detail %q does not mention %q", diags[0].Detail, want)
		}
	}
}

func TestChanges(t *testing.T) {
	old := syncedLock()
	old.Sources["gone"] = &Source{Name: "gone", URL: "/g", Commit: commitB}
	next := syncedLock()
	next.Packer.Version = "1.9.5"
	next.Plugins[vsphere].Hashes = here(hashA, hashC)
	next.Plugins[vsphere].Hashes["plan9_arm"] = []string{hashD}
	next.Plugins["github.com/hashicorp/ansible"] = &Plugin{Source: "github.com/hashicorp/ansible", Version: "1.1.0"}
	next.Sources["examples"].Commit = commitNew
	next.Sources["examples"].Ref = "dev"

	got := Changes(old, next)
	want := []Change{
		{Address: "packer", Before: "1.9.4", After: "1.9.5"},
		{Address: "plugin.github.com/hashicorp/ansible", After: "1.1.0"},
		{Address: "plugin.github.com/hashicorp/vsphere", Before: "1.2.1", After: "1.2.1", Detail: "hashes added for plan9_arm, hashes changed for " + CurrentPlatform()},
		{Address: "source.examples", Before: commitA[:12], After: commitNew[:12], Detail: "ref changed"},
		{Address: "source.gone", Before: commitB[:12]},
	}
	diff(t, want, got)

	var lines []string
	for _, c := range got {
		lines = append(lines, c.String())
	}
	wantLines := []string{
		"packer: 1.9.4 -> 1.9.5",
		"plugin.github.com/hashicorp/ansible: pinned 1.1.0",
		"plugin.github.com/hashicorp/vsphere: 1.2.1 (hashes added for plan9_arm, hashes changed for " + CurrentPlatform() + ")",
		"source.examples: 8f3c1a2b9d0e -> 111111111111 (ref changed)",
		"source.gone: removed (was 4d5e6f7a8b9c)",
	}
	diff(t, wantLines, lines)

	if c := Changes(syncedLock(), syncedLock()); len(c) != 0 {
		t.Errorf("identical files: changes %v", c)
	}
	if c := Changes(nil, syncedLock()); len(c) != 3 || !slices.ContainsFunc(c, func(c Change) bool { return c.Address == "packer" && c.Before == "" }) {
		t.Errorf("from nothing: changes %v", c)
	}
}
