package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/go-version"
)

// PluginProtocol is the plugin protocol of the pinned packer (1.9.4, built on
// packer-plugin-sdk v0.4.0): it runs plugin binaries named "x5.0"; a binary
// for a newer minor or another major version is ignored by packer.
const PluginProtocol = "x5.0"

// InstalledPlugin is one plugin binary packer has installed, e.g.
// <dir>/github.com/hashicorp/vsphere/packer-plugin-vsphere_v1.2.1_x5.0_linux_amd64,
// or one found in a plugin mirror (FindMirroredPlugins), possibly inside
// the zip file the plugin is released in.
type InstalledPlugin struct {
	// Source is the plugin address the binary was found under.
	Source string
	// Version is the plugin version from the file name, without the "v".
	Version string
	// Protocol is the plugin protocol from the file name, e.g. "x5.0".
	Protocol string
	// Platform is the platform the binary is built for, from the file name:
	// "linux_amd64".
	Platform string
	// Path is the binary's path, or the path of the zip file holding it.
	Path string
	// Hash is the binary's digest, "sha256:<hex>": what packer records in
	// the _SHA256SUM file beside the binary it installs.
	Hash string
	// Unusable says why packer would ignore this binary (no or a wrong
	// _SHA256SUM file beside it, an unsupported protocol) or why a mirrored
	// one cannot be trusted (a zip that does not match its release's
	// SHA256SUMS); empty when it is fine.
	Unusable string
}

// PluginDirs returns the directories packer 1.9.4 searches for installed
// plugins, in its order. When PACKER_PLUGIN_PATH is set, only its entries.
// Otherwise the directory of the packer executable (packerExe; left out when
// empty), packer's working directory (workDir; left out when empty), then the
// plugins directory of packer's config directory, where "packer init"
// installs: $PACKER_CONFIG_DIR/.packer.d/plugins when that variable is set,
// else $HOME/.packer.d/plugins when $HOME/.packer.d exists, else
// $XDG_CONFIG_HOME/packer/plugins, else $HOME/.config/packer/plugins (on
// Windows %APPDATA%\packer.d\plugins).
func PluginDirs(packerExe, workDir string) []string {
	if pp := os.Getenv("PACKER_PLUGIN_PATH"); pp != "" {
		var dirs []string
		for _, d := range filepath.SplitList(pp) {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
		return dirs
	}
	var dirs []string
	if packerExe != "" {
		dirs = append(dirs, filepath.Dir(packerExe))
	}
	if workDir != "" {
		dirs = append(dirs, workDir)
	}
	if cd := packerConfigDir(); cd != "" {
		dirs = append(dirs, filepath.Join(cd, "plugins"))
	}
	return dirs
}

// packerConfigDir mirrors packer-plugin-sdk v0.4.0 pathing.ConfigDir; it
// returns "" when no home directory is known.
func packerConfigDir() string {
	if runtime.GOOS == "windows" {
		if cd := os.Getenv("PACKER_CONFIG_DIR"); cd != "" {
			return filepath.Join(cd, "packer.d")
		}
		home := os.Getenv("APPDATA")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		if home == "" {
			return ""
		}
		return filepath.Join(home, "packer.d")
	}
	if cd := os.Getenv("PACKER_CONFIG_DIR"); cd != "" {
		return filepath.Join(cd, ".packer.d")
	}
	home := os.Getenv("HOME")
	if home == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(home, ".packer.d")); err == nil {
		return filepath.Join(home, ".packer.d")
	}
	if xdg := os.Getenv("XDG_CONFIG_HOME"); xdg != "" {
		return filepath.Join(xdg, "packer")
	}
	return filepath.Join(home, ".config", "packer")
}

// FindPlugins lists the binaries of plugin source installed in dirs for this
// platform (CurrentPlatform), hashing each one and checking it against
// the _SHA256SUM file beside it as packer does. The result is sorted by
// version, newest first; binaries of one version keep the order of dirs, which
// is packer's order of preference. Missing directories are skipped; files
// whose names do not parse are ignored, as packer ignores them.
func FindPlugins(dirs []string, source string) ([]InstalledPlugin, error) {
	if err := validPluginSource(source); err != nil {
		return nil, err
	}
	parts := strings.Split(source, "/")
	current := CurrentPlatform()

	var all []InstalledPlugin
	for _, dir := range dirs {
		pdir := filepath.Join(dir, parts[0], parts[1], parts[2])
		entries, err := os.ReadDir(pdir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list plugins in %s: %w", pdir, err)
		}
		for _, e := range entries {
			name := e.Name()
			pf, ok := parsePluginFile(name, parts[2])
			if !ok || pf.zip || pf.platform != current {
				continue
			}
			path := filepath.Join(pdir, name)
			info, err := os.Stat(path)
			if err != nil || !info.Mode().IsRegular() {
				continue
			}
			hash, err := HashFile(path)
			if err != nil {
				return nil, err
			}
			ip := InstalledPlugin{
				Source:   source,
				Version:  pf.versionString,
				Protocol: pf.protocol,
				Platform: pf.platform,
				Path:     path,
				Hash:     hash,
			}
			ip.Unusable = unusable(path, pf.protocol, hash)
			all = append(all, ip)
		}
	}
	sortByVersion(all)
	return all, nil
}

// sortByVersion sorts plugin binaries by version, newest first, keeping the
// order of binaries of one version.
func sortByVersion(ps []InstalledPlugin) {
	slices.SortStableFunc(ps, func(a, b InstalledPlugin) int {
		va, errA := version.NewVersion(a.Version)
		vb, errB := version.NewVersion(b.Version)
		if errA != nil || errB != nil {
			return 0
		}
		return vb.Compare(va)
	})
}

// pluginFile is what the name of a plugin binary or release zip says:
// packer-plugin-<type>_v<version>_<protocol>_<os>_<arch>[.exe|.zip].
type pluginFile struct {
	versionString string // without the "v"
	protocol      string
	platform      string
	zip           bool
}

// parsePluginFile parses the name of a binary or release zip of the plugin
// of type typ ("vsphere"); ok is false for any other file. A binary for
// Windows ends in ".exe" and only a binary for Windows does; a zip file is
// named like the binary it holds, without ".exe".
func parsePluginFile(name, typ string) (pf pluginFile, ok bool) {
	prefix := "packer-plugin-" + typ + "_"
	if !strings.HasPrefix(name, prefix) {
		return pf, false
	}
	rest := name[len(prefix):]
	if r, isZip := strings.CutSuffix(rest, ".zip"); isZip {
		rest, pf.zip = r, true
	}
	r, isExe := strings.CutSuffix(rest, ".exe")
	if isExe && pf.zip {
		return pf, false
	}
	rest = r
	fields := strings.Split(rest, "_")
	if len(fields) != 4 || !strings.HasPrefix(fields[0], "v") || fields[2] == "" || fields[3] == "" {
		return pf, false
	}
	pf.platform = fields[2] + "_" + fields[3]
	if !pf.zip && isExe != (platformExt(pf.platform) == ".exe") {
		return pf, false
	}
	if _, err := version.NewVersion(fields[0]); err != nil {
		return pf, false
	}
	pf.versionString, pf.protocol = strings.TrimPrefix(fields[0], "v"), fields[1]
	return pf, true
}

// unusable says why packer 1.9.4 would not run a binary, or "" if it would.
func unusable(path, proto, hash string) string {
	if msg := protocolProblem(proto); msg != "" {
		return msg
	}
	sumPath := path + "_SHA256SUM"
	data, err := os.ReadFile(sumPath)
	if err != nil {
		return fmt.Sprintf("no readable checksum file %s", filepath.Base(sumPath))
	}
	// Packer reads the first 64 characters as hex and ignores the rest.
	if len(data) < sha256.Size*2 {
		return fmt.Sprintf("checksum file %s is malformed", filepath.Base(sumPath))
	}
	want, err := hex.DecodeString(string(data[:sha256.Size*2]))
	if err != nil {
		return fmt.Sprintf("checksum file %s is malformed", filepath.Base(sumPath))
	}
	if "sha256:"+hex.EncodeToString(want) != hash {
		return fmt.Sprintf("binary does not match its checksum file %s", filepath.Base(sumPath))
	}
	return ""
}

// protocolProblem checks a protocol like "x5.0" against PluginProtocol: the
// major version must be equal and the minor version not newer.
func protocolProblem(proto string) string {
	major, minor, ok := parseProtocol(proto)
	wantMajor, wantMinor, _ := parseProtocol(PluginProtocol)
	switch {
	case !ok:
		return fmt.Sprintf("unrecognised plugin protocol %q", proto)
	case major != wantMajor || minor > wantMinor:
		return fmt.Sprintf("plugin protocol %s is not supported by packer (it speaks %s)", proto, PluginProtocol)
	}
	return ""
}

func parseProtocol(p string) (major, minor int, ok bool) {
	ma, mi, found := strings.Cut(strings.TrimPrefix(p, "x"), ".")
	if !found || !strings.HasPrefix(p, "x") {
		return 0, 0, false
	}
	a, errA := strconv.Atoi(ma)
	b, errB := strconv.Atoi(mi)
	return a, b, errA == nil && errB == nil
}

// HashFile returns the SHA-256 digest of the file at path as "sha256:<hex>",
// the form the lockfile records.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
