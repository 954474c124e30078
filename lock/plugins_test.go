package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const platform = "_" + runtime.GOOS + "_" + runtime.GOARCH

// installPlugin writes a fake plugin binary the way packer installs one:
// <dir>/<source>/packer-plugin-<type>_v<version>_<proto><platform>, plus the
// _SHA256SUM file unless sum is "-" (sum "" means the correct digest). It
// returns the binary's path and lockfile hash.
func installPlugin(t *testing.T, dir, source, ver, proto, suffix, content, sum string) (string, string) {
	t.Helper()
	typ := source[strings.LastIndex(source, "/")+1:]
	pdir := filepath.Join(dir, filepath.FromSlash(source))
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(pdir, "packer-plugin-"+typ+"_v"+ver+"_"+proto+suffix)
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(content))
	if sum == "" {
		sum = hex.EncodeToString(digest[:])
	}
	if sum != "-" {
		if err := os.WriteFile(path+"_SHA256SUM", []byte(sum), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path, "sha256:" + hex.EncodeToString(digest[:])
}

func TestHashFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(path, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// sha256sum of "hello\n"
	want := "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	if got != want {
		t.Errorf("HashFile = %s, want %s", got, want)
	}
	if _, err := HashFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("HashFile of a missing file succeeded")
	}
}

func TestFindPlugins(t *testing.T) {
	first, second := t.TempDir(), t.TempDir()
	p121a, h121a := installPlugin(t, first, vsphere, "1.2.1", "x5.0", platform, "vsphere 1.2.1 first", "")
	p130, h130 := installPlugin(t, first, vsphere, "1.3.0", "x5.0", platform, "vsphere 1.3.0", "")
	p121b, h121b := installPlugin(t, second, vsphere, "1.2.1", "x5.0", platform, "vsphere 1.2.1 second", "")
	p110, h110 := installPlugin(t, second, vsphere, "1.10.0", "x5.0", platform, "vsphere 1.10.0", "-")
	p140, h140 := installPlugin(t, second, vsphere, "1.4.0", "x5.0", platform, "vsphere 1.4.0", strings.Repeat("0", 64))
	p150, h150 := installPlugin(t, second, vsphere, "1.5.0", "x5.1", platform, "vsphere 1.5.0", "")
	p160, h160 := installPlugin(t, second, vsphere, "1.6.0", "x5.0", platform, "vsphere 1.6.0", "zz")
	// Ignored: another platform, a bad version, no protocol, another plugin, a directory.
	installPlugin(t, first, vsphere, "9.0.0", "x5.0", "_plan9_mips", "other platform", "")
	installPlugin(t, first, vsphere, "banana", "x5.0", platform, "bad version", "")
	if err := os.WriteFile(filepath.Join(first, filepath.FromSlash(vsphere), "packer-plugin-vsphere_v8.0.0"+platform), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	installPlugin(t, first, "github.com/hashicorp/ansible", "1.1.0", "x5.0", platform, "ansible", "")
	if err := os.MkdirAll(filepath.Join(first, filepath.FromSlash(vsphere), "packer-plugin-vsphere_v7.0.0_x5.0"+platform), 0o755); err != nil {
		t.Fatal(err)
	}

	got, err := FindPlugins([]string{first, filepath.Join(first, "missing"), second}, vsphere)
	if err != nil {
		t.Fatal(err)
	}
	ip := func(ver, proto, path, hash, unusable string) InstalledPlugin {
		return InstalledPlugin{Source: vsphere, Version: ver, Protocol: proto, Platform: CurrentPlatform(), Path: path, Hash: hash, Unusable: unusable}
	}
	want := []InstalledPlugin{
		ip("1.10.0", "x5.0", p110, h110, "no readable checksum file "+filepath.Base(p110)+"_SHA256SUM"),
		ip("1.6.0", "x5.0", p160, h160, "checksum file "+filepath.Base(p160)+"_SHA256SUM is malformed"),
		ip("1.5.0", "x5.1", p150, h150, "plugin protocol x5.1 is not supported by packer (it speaks x5.0)"),
		ip("1.4.0", "x5.0", p140, h140, "binary does not match its checksum file "+filepath.Base(p140)+"_SHA256SUM"),
		ip("1.3.0", "x5.0", p130, h130, ""),
		ip("1.2.1", "x5.0", p121a, h121a, ""),
		ip("1.2.1", "x5.0", p121b, h121b, ""),
	}
	diff(t, want, got)

	// Dir order decides between binaries of one version.
	got, err = FindPlugins([]string{second, first}, vsphere)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got); n != 7 || got[5].Path != p121b || got[6].Path != p121a {
		t.Errorf("with dirs reversed, 1.2.1 binaries are not in dir order: %v", got)
	}
}

func TestFindPluginsRejectsBadSource(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{"", "vsphere", "hashicorp/vsphere", "github.com/../..", "../../etc", "github.com/hashicorp/vsphere/extra", "github.com/a b/c"} {
		if _, err := FindPlugins([]string{dir}, src); err == nil {
			t.Errorf("FindPlugins accepted source %q", src)
		}
	}
}

func TestFindPluginsUnreadableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any directory")
	}
	dir := t.TempDir()
	installPlugin(t, dir, vsphere, "1.2.1", "x5.0", platform, "x", "")
	pdir := filepath.Join(dir, filepath.FromSlash(vsphere))
	if err := os.Chmod(pdir, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(pdir, 0o755) })
	if _, err := FindPlugins([]string{dir}, vsphere); err == nil {
		t.Error("FindPlugins ignored an unreadable plugin directory")
	}
}

func TestPluginDirs(t *testing.T) {
	home := t.TempDir()
	sep := string(os.PathListSeparator)
	tests := map[string]struct {
		env       map[string]string
		oldDotDir bool
		exe, wd   string
		want      []string
	}{
		"PACKER_PLUGIN_PATH only": {
			env:  map[string]string{"PACKER_PLUGIN_PATH": "/a" + sep + sep + "/b", "PACKER_CONFIG_DIR": "/cfg"},
			exe:  "/usr/bin/packer",
			want: []string{"/a", "/b"},
		},
		"XDG default": {
			exe:  "/opt/packer/packer",
			wd:   "/work",
			want: []string{"/opt/packer", "/work", filepath.Join(home, ".config", "packer", "plugins")},
		},
		"XDG_CONFIG_HOME": {
			env:  map[string]string{"XDG_CONFIG_HOME": "/xdg"},
			want: []string{"/xdg/packer/plugins"},
		},
		"old .packer.d wins over XDG": {
			env:       map[string]string{"XDG_CONFIG_HOME": "/xdg"},
			oldDotDir: true,
			want:      []string{filepath.Join(home, ".packer.d", "plugins")},
		},
		"PACKER_CONFIG_DIR": {
			env:       map[string]string{"PACKER_CONFIG_DIR": "/cfg"},
			oldDotDir: true,
			want:      []string{"/cfg/.packer.d/plugins"},
		},
		"no home": {
			env:  map[string]string{"HOME": ""},
			wd:   ".",
			want: []string{"."},
		},
	}
	if runtime.GOOS == "windows" {
		t.Skip("the cases spell Unix paths")
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("HOME", home)
			for _, k := range []string{"PACKER_PLUGIN_PATH", "PACKER_CONFIG_DIR", "XDG_CONFIG_HOME"} {
				t.Setenv(k, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			dot := filepath.Join(home, ".packer.d")
			if tt.oldDotDir {
				if err := os.Mkdir(dot, 0o755); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Remove(dot) })
			}
			diff(t, tt.want, PluginDirs(tt.exe, tt.wd))
		})
	}
}
