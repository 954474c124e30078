package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/lock"
)

// installTestPlugin writes a plugin binary with CONTENT where packer looks
// in dir, with a _SHA256SUM file holding sum (the binary's own when "").
func installTestPlugin(t *testing.T, dir, source, version, content, sum string) string {
	t.Helper()
	pdir := filepath.Join(dir, filepath.FromSlash(source))
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := "packer-plugin-" + filepath.Base(source) + "_v" + version + "_" + lock.PluginProtocol + "_" + runtime.GOOS + "_" + runtime.GOARCH
	bin := filepath.Join(pdir, name)
	if err := os.WriteFile(bin, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	if sum == "" {
		sum = hashOf(content)
	}
	if err := os.WriteFile(bin+"_SHA256SUM", []byte(strings.TrimPrefix(sum, "sha256:")), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin
}

func hashOf(content string) string {
	s := sha256.Sum256([]byte(content))
	return "sha256:" + hex.EncodeToString(s[:])
}

// TestCheckPluginBinaries checks that each plugin with a problem gives one
// diagnostic, of the right severity, that says what is wrong and what to
// do; and that a matching binary gives none.
func TestCheckPluginBinaries(t *testing.T) {
	const src = "github.com/hybridtest/hybridtest"
	here := lock.CurrentPlatform()
	pin := &lock.Plugin{Source: src, Version: "0.0.1", Hashes: map[string][]string{here: {hashOf("pinned")}}}
	type want struct {
		severity hcl.DiagnosticSeverity
		summary  string
		detail   []string // substrings of the detail
	}
	tests := map[string]struct {
		install  func(t *testing.T, dir string)
		required bool
		pinned   bool
		hashes   map[string][]string // the pin's, when not pin's
		want     []want
	}{
		"matches": {
			install: func(t *testing.T, dir string) { installTestPlugin(t, dir, src, "0.0.1", "pinned", "") },
			pinned:  true, required: true,
		},
		"other versions are not looked at": {
			install: func(t *testing.T, dir string) {
				installTestPlugin(t, dir, src, "0.0.1", "pinned", "")
				installTestPlugin(t, dir, src, "0.0.2", "newer", "")
			},
			pinned: true, required: true,
		},
		"swapped binary": {
			install: func(t *testing.T, dir string) { installTestPlugin(t, dir, src, "0.0.1", "swapped", "") },
			pinned:  true,
			want: []want{{hcl.DiagError, "Plugin " + src + " does not match hybrid.lock.hcl", []string{
				"has " + hashOf("swapped"), "pins the hash " + hashOf("pinned") + " for " + here + ".",
				`"packer plugins install ` + src + ` v0.0.1"`, `"hybrid lock -upgrade ` + src + `"`,
			}}},
		},
		"swapped beside a good one is still one error": {
			install: func(t *testing.T, dir string) {
				installTestPlugin(t, dir, src, "0.0.1", "pinned", "")
				installTestPlugin(t, filepath.Join(dir, "second"), src, "0.0.1", "swapped", "")
			},
			pinned: true, required: true,
			want: []want{{hcl.DiagError, "Plugin " + src + " does not match hybrid.lock.hcl", []string{"has " + hashOf("swapped")}}},
		},
		"another platform's hash does not vouch for this one": {
			install: func(t *testing.T, dir string) { installTestPlugin(t, dir, src, "0.0.1", "swapped", "") },
			pinned:  true,
			hashes:  map[string][]string{here: {hashOf("pinned")}, "plan9_arm": {hashOf("swapped")}},
			want: []want{{hcl.DiagError, "Plugin " + src + " does not match hybrid.lock.hcl", []string{
				"has " + hashOf("swapped"), "pins the hash " + hashOf("pinned") + " for " + here + ".",
			}}},
		},
		"hashes of an unknown platform (an older lockfile) are accepted": {
			install: func(t *testing.T, dir string) { installTestPlugin(t, dir, src, "0.0.1", "pinned", "") },
			pinned:  true, required: true,
			hashes: map[string][]string{lock.UnknownPlatform: {hashOf("pinned")}},
		},
		"and checked": {
			install: func(t *testing.T, dir string) { installTestPlugin(t, dir, src, "0.0.1", "swapped", "") },
			pinned:  true,
			hashes:  map[string][]string{lock.UnknownPlatform: {hashOf("pinned")}},
			want: []want{{hcl.DiagError, "Plugin " + src + " does not match hybrid.lock.hcl", []string{
				"but hybrid.lock.hcl pins the hash " + hashOf("pinned") + ".",
			}}},
		},
		"hashes for other platforms only": {
			install: func(t *testing.T, dir string) { installTestPlugin(t, dir, src, "0.0.1", "pinned", "") },
			pinned:  true, required: true,
			hashes: map[string][]string{"plan9_arm": {hashOf("pinned")}, "plan9_386": {hashOf("other")}},
			want: []want{{hcl.DiagError, "hybrid.lock.hcl has no hash of plugin " + src + " for " + here, []string{
				"with hashes for plan9_386, plan9_arm only", "has " + hashOf("pinned"), `"hybrid lock -platform=` + here + `"`,
			}}},
		},
		"not installed, needed by a build that runs": {
			install: func(t *testing.T, dir string) {},
			pinned:  true, required: true,
			want: []want{{hcl.DiagError, "Plugin " + src + " v0.0.1 is not installed", []string{`"packer plugins install ` + src + ` v0.0.1"`}}},
		},
		"not installed, no build that needs it runs": {
			install: func(t *testing.T, dir string) {},
			pinned:  true,
			want:    []want{{hcl.DiagWarning, "Plugin " + src + " v0.0.1 is not installed", []string{"will fail until it is"}}},
		},
		"checksum file does not match": {
			install: func(t *testing.T, dir string) { installTestPlugin(t, dir, src, "0.0.1", "pinned", hashOf("other")) },
			pinned:  true, required: true,
			want: []want{{hcl.DiagError, "Packer cannot use plugin " + src + " v0.0.1", []string{"does not match its checksum file"}}},
		},
		"not pinned: the lockfile check reports it": {
			install:  func(t *testing.T, dir string) { installTestPlugin(t, dir, src, "0.0.1", "swapped", "") },
			required: true,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tt.install(t, dir)
			lf := &lock.File{Plugins: map[string]*lock.Plugin{}}
			if tt.pinned {
				lf.Plugins[src] = pin
				if tt.hashes != nil {
					lf.Plugins[src] = &lock.Plugin{Source: src, Version: pin.Version, Hashes: tt.hashes}
				}
			}
			diags := checkPluginBinaries(lf, []pluginNeed{{Source: src, Dirs: []string{dir, filepath.Join(dir, "second")}, Required: tt.required}})
			var got []want
			for _, d := range diags {
				w := want{severity: d.Severity, summary: d.Summary}
				for _, ww := range tt.want {
					for _, s := range ww.detail {
						if strings.Contains(d.Detail, s) {
							w.detail = append(w.detail, s)
						}
					}
				}
				got = append(got, w)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("wrong diagnostics (-want +got):\n%s\n%s", diff, diags.Error())
			}
		})
	}
}
