package lock

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestUpdatePlatforms covers the hashes Update records by platform: this
// platform's installed binaries by default, and with Inputs.Platforms
// ("hybrid lock -platform") the binaries found for each platform named,
// for pins made, moved and kept.
func TestUpdatePlatforms(t *testing.T) {
	here := CurrentPlatform()
	const there = "plan9_arm" // never the platform the tests run on
	bin := func(v, platform, hash, unusable string) InstalledPlugin {
		return InstalledPlugin{Source: vsphere, Version: v, Protocol: "x5.0", Platform: platform, Path: "/m/" + v + "_" + platform, Hash: hash, Unusable: unusable}
	}
	byPlatform := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}

	tests := map[string]struct {
		old       map[string][]string // hashes of the old vsphere 1.2.1 pin; nil for no pin
		found     []InstalledPlugin
		platforms []string
		up        Upgrade
		want      *Plugin
		wantDiags []string // summaries, errors and warnings
	}{
		"a new pin records this platform by default": {
			found: []InstalledPlugin{bin("1.2.1", here, hashA, ""), bin("1.2.1", there, hashB, "")},
			want:  &Plugin{Version: "1.2.1", Hashes: byPlatform(here, hashA)},
		},
		"a new pin records every platform asked for": {
			found:     []InstalledPlugin{bin("1.2.1", here, hashA, ""), bin("1.2.1", there, hashB, "")},
			platforms: []string{here, there},
			want:      &Plugin{Version: "1.2.1", Hashes: byPlatform(here, hashA, there, hashB)},
		},
		"only the platforms asked for": {
			found:     []InstalledPlugin{bin("1.2.1", here, hashA, ""), bin("1.2.1", there, hashB, "")},
			platforms: []string{there},
			want:      &Plugin{Version: "1.2.1", Hashes: byPlatform(there, hashB)},
		},
		"a platform with no binary is an error": {
			found:     []InstalledPlugin{bin("1.2.1", here, hashA, ""), bin("1.2.1", there, hashB, "does not match its SHA256SUMS")},
			platforms: []string{here, there, "windows_amd64"},
			wantDiags: []string{"No binary of plugin github.com/hashicorp/vsphere v1.2.1 for plan9_arm, windows_amd64"},
		},
		"a kept pin stays as it is without -platform": {
			old:   byPlatform(here, hashA),
			found: []InstalledPlugin{bin("1.2.1", here, hashC, ""), bin("1.2.1", there, hashB, "")},
			want:  &Plugin{Version: "1.2.1", Hashes: byPlatform(here, hashA)},
		},
		"a kept pin gains the platforms it lacks, and no other hash": {
			old:       byPlatform(here, hashA),
			found:     []InstalledPlugin{bin("1.2.1", here, hashC, ""), bin("1.2.1", there, hashB, ""), bin("1.3.0", there, hashD, "")},
			platforms: []string{here, there},
			want:      &Plugin{Version: "1.2.1", Hashes: byPlatform(here, hashA, there, hashB)},
		},
		"a kept pin missing a platform's binary is an error": {
			old:       byPlatform(here, hashA),
			found:     []InstalledPlugin{bin("1.3.0", there, hashD, "")},
			platforms: []string{there},
			wantDiags: []string{"No binary of plugin github.com/hashicorp/vsphere v1.2.1 for plan9_arm"},
		},
		"hashes of an unknown platform move to the platform found": {
			old:       byPlatform(UnknownPlatform, hashA, UnknownPlatform, hashB),
			found:     []InstalledPlugin{bin("1.2.1", here, hashA, "")},
			platforms: []string{here},
			want:      &Plugin{Version: "1.2.1", Hashes: byPlatform(here, hashA, UnknownPlatform, hashB)},
		},
		"upgrade at the same version adds this platform's hash": {
			old:   byPlatform(here, hashA, there, hashB),
			found: []InstalledPlugin{bin("1.2.1", here, hashC, "")},
			up:    Upgrade{Names: []string{vsphere}},
			want:  &Plugin{Version: "1.2.1", Hashes: byPlatform(here, hashA, here, hashC, there, hashB)},
		},
		"a moved pin records the old pin's platforms again": {
			old:   byPlatform(here, hashA, there, hashB),
			found: []InstalledPlugin{bin("1.3.0", here, hashC, ""), bin("1.3.0", there, hashD, "")},
			up:    Upgrade{All: true},
			want:  &Plugin{Version: "1.3.0", Hashes: byPlatform(here, hashC, there, hashD)},
		},
		"a moved pin warns of the platforms it loses": {
			old:       byPlatform(here, hashA, there, hashB),
			found:     []InstalledPlugin{bin("1.3.0", here, hashC, "")},
			up:        Upgrade{All: true},
			want:      &Plugin{Version: "1.3.0", Hashes: byPlatform(here, hashC)},
			wantDiags: []string{"Plugin github.com/hashicorp/vsphere v1.3.0 has no hash for plan9_arm"},
		},
		"the version is the newest found for the platforms asked for": {
			found:     []InstalledPlugin{bin("1.3.0", here, hashC, ""), bin("1.2.1", here, hashA, ""), bin("1.2.1", there, hashB, "")},
			platforms: []string{there},
			want:      &Plugin{Version: "1.2.1", Hashes: byPlatform(there, hashB)},
		},
		"and must be found for each of them": {
			found:     []InstalledPlugin{bin("1.3.0", here, hashC, ""), bin("1.2.1", here, hashA, ""), bin("1.2.1", there, hashB, "")},
			platforms: []string{here, there},
			wantDiags: []string{"No binary of plugin github.com/hashicorp/vsphere v1.3.0 for plan9_arm"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var old *File
			if tt.old != nil {
				old = &File{
					Packer:  &Packer{Version: "1.9.4"},
					Plugins: map[string]*Plugin{vsphere: {Source: vsphere, Version: "1.2.1", Hashes: tt.old}},
				}
			}
			req := Requirements{Plugins: []PluginRequirement{{Source: vsphere}}}
			in := Inputs{PackerVersion: "1.9.4", Plugins: map[string][]InstalledPlugin{vsphere: tt.found}, Platforms: tt.platforms}
			got, diags := Update(old, req, in, tt.up)
			var summaries []string
			for _, d := range diags {
				summaries = append(summaries, d.Summary)
				if !strings.HasSuffix(d.Detail, ".") || !strings.Contains(d.Detail, "-plugin-dir") {
					t.Errorf("diagnostic %q does not say how to supply the binaries: %q", d.Summary, d.Detail)
				}
			}
			diff(t, tt.wantDiags, summaries)
			if tt.want == nil {
				if !diags.HasErrors() || got != nil {
					t.Fatalf("want an error and no file, got %v", got)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			tt.want.Source = vsphere
			diff(t, tt.want, got.Plugins[vsphere])
			back, d := Parse(got.Bytes(), DefaultFilename)
			if d.HasErrors() {
				t.Fatalf("result does not parse: %s\n%s", d.Error(), got.Bytes())
			}
			diff(t, got, back)
		})
	}
}

// TestMissingPlatformsDetail checks that the error for a missing platform
// says where hybrid looked, what it rejected and where the release files
// are.
func TestMissingPlatformsDetail(t *testing.T) {
	found := []InstalledPlugin{{Source: vsphere, Version: "1.2.1", Platform: "darwin_arm64", Path: "/m/x.zip", Unusable: "x.zip does not match its SHA256SUMS"}}
	d := missingPlatforms(&Plugin{Source: vsphere, Version: "1.2.1"}, []string{"darwin_arm64"}, found, "-plugin-dir /m", hcl.Range{})
	for _, want := range []string{
		"found no binary of github.com/hashicorp/vsphere v1.2.1 for darwin_arm64 in -plugin-dir /m",
		"  /m/x.zip: x.zip does not match its SHA256SUMS\n",
		"packer-plugin-vsphere_v1.2.1_x5.0_darwin_arm64.zip with packer-plugin-vsphere_v1.2.1_SHA256SUMS",
		"https://github.com/hashicorp/packer-plugin-vsphere/releases/tag/v1.2.1",
		`"hybrid lock -platform=darwin_arm64" on a darwin_arm64 machine`,
	} {
		if !strings.Contains(d.Detail, want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail)
		}
	}
}

// TestAddMissing covers what "hybrid init" adds to an existing lockfile:
// pins for what it lacks, and nothing else changed.
func TestAddMissing(t *testing.T) {
	old := syncedLock()
	old.Plugins[vsphere].Version = "1.0.0" // outside its constraint now: Check's business
	old.Sources["examples"].URL = "https://example.com/moved.git"
	old.Sources["stale"] = &Source{Name: "stale", URL: "/srv/git/stale.git", Commit: commitB}
	before := old.Bytes()

	req := syncedReq()
	req.Packer = ">= 1.9.5"
	req.Plugins = append(req.Plugins, PluginRequirement{Source: "github.com/hashicorp/ansible"})
	req.Sources = append(req.Sources, SourceRequirement{Name: "base", URL: "/srv/git/base.git"})
	var resolved []string
	in := Inputs{
		PackerVersion: "",
		Plugins:       installed(),
		ResolveSource: func(name, url, ref string) (string, error) {
			resolved = append(resolved, name)
			return commitNew, nil
		},
	}
	got, diags := AddMissing(old, req, in)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if string(old.Bytes()) != string(before) {
		t.Error("AddMissing modified the old File")
	}
	diff(t, []string{"base"}, resolved)

	want := syncedLock()
	want.Plugins[vsphere].Version = "1.0.0"
	want.Sources["examples"].URL = "https://example.com/moved.git"
	want.Sources["stale"] = &Source{Name: "stale", URL: "/srv/git/stale.git", Commit: commitB}
	want.Sources["base"] = &Source{Name: "base", URL: "/srv/git/base.git", Commit: commitNew}
	want.Plugins["github.com/hashicorp/ansible"] = &Plugin{Source: "github.com/hashicorp/ansible", Version: "1.1.0", Hashes: here(hashB)}
	diff(t, want, got)

	if !old.Lacks(req) || got.Lacks(req) {
		t.Errorf("Lacks: old %v, new %v; want true, false", old.Lacks(req), got.Lacks(req))
	}

	// Nothing missing: the same pins, and neither packer nor git is asked.
	resolved = nil
	again, diags := AddMissing(got, req, Inputs{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	diff(t, got, again)
	if len(Changes(got, again)) != 0 || len(resolved) != 0 {
		t.Errorf("a complete lockfile changed: %v", Changes(got, again))
	}

	// No packer pin: packer is pinned, and needs the version found.
	old.Packer = nil
	_, diags = AddMissing(old, req, in)
	if !diags.HasErrors() || diags[0].Summary != "Packer version unknown" {
		t.Errorf("AddMissing without packer = %v, want the packer version asked for", diags)
	}
	in.PackerVersion = "1.9.5"
	got, diags = AddMissing(old, req, in)
	if diags.HasErrors() || got.Packer == nil || got.Packer.Version != "1.9.5" {
		t.Errorf("AddMissing with packer 1.9.5: packer %+v, %v", got.Packer, diags)
	}
}
