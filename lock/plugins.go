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
// <dir>/github.com/hashicorp/vsphere/packer-plugin-vsphere_v1.2.1_x5.0_linux_amd64.
type InstalledPlugin struct {
	// Source is the plugin address the binary was found under.
	Source string
	// Version is the plugin version from the file name, without the "v".
	Version string
	// Protocol is the plugin protocol from the file name, e.g. "x5.0".
	Protocol string
	// Path is the binary's path.
	Path string
	// Hash is the binary's digest, "sha256:<hex>".
	Hash string
	// Unusable says why packer would ignore this binary (no or a wrong
	// _SHA256SUM file beside it, an unsupported protocol); empty when packer
	// can run it.
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
// platform (runtime.GOOS and GOARCH), hashing each one and checking it against
// the _SHA256SUM file beside it as packer does. The result is sorted by
// version, newest first; binaries of one version keep the order of dirs, which
// is packer's order of preference. Missing directories are skipped; files
// whose names do not parse are ignored, as packer ignores them.
func FindPlugins(dirs []string, source string) ([]InstalledPlugin, error) {
	return findPlugins(dirs, source, nil)
}

// findPlugins is FindPlugins limited to the versions keep accepts (all when
// keep is nil), so that only those binaries are hashed.
func findPlugins(dirs []string, source string, keep func(*version.Version) bool) ([]InstalledPlugin, error) {
	if err := validPluginSource(source); err != nil {
		return nil, err
	}
	parts := strings.Split(source, "/")
	typ := parts[2]
	prefix := "packer-plugin-" + typ + "_"
	suffix := "_" + runtime.GOOS + "_" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		suffix += ".exe"
	}

	type found struct {
		InstalledPlugin
		v     *version.Version
		order int
	}
	var all []found
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
			if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) < len(prefix)+len(suffix) {
				continue
			}
			// v1.2.1_x5.0
			vStr, proto, ok := strings.Cut(name[len(prefix):len(name)-len(suffix)], "_")
			if !ok || !strings.HasPrefix(vStr, "v") {
				continue
			}
			v, err := version.NewVersion(vStr)
			if err != nil || (keep != nil && !keep(v)) {
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
				Version:  strings.TrimPrefix(vStr, "v"),
				Protocol: proto,
				Path:     path,
				Hash:     hash,
			}
			ip.Unusable = unusable(path, proto, hash)
			all = append(all, found{InstalledPlugin: ip, v: v, order: len(all)})
		}
	}
	slices.SortStableFunc(all, func(a, b found) int {
		if c := b.v.Compare(a.v); c != 0 {
			return c
		}
		return a.order - b.order
	})
	out := make([]InstalledPlugin, len(all))
	for i, f := range all {
		out[i] = f.InstalledPlugin
	}
	return out, nil
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

// VerifyPluginHashes checks, for every pinned plugin, the binaries of the
// pinned version installed in dirs: every one of them must have a hash listed
// in the lockfile, and at least one must be usable by packer. It returns the
// binary packer will run for each plugin (the first usable one in dirs order),
// keyed by source, and an error listing every problem, each with what to do.
func (f *File) VerifyPluginHashes(dirs []string) (map[string]InstalledPlugin, error) {
	use := map[string]InstalledPlugin{}
	var errs []error
	for _, p := range f.pluginList() {
		pinned, err := version.NewVersion(p.Version)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: %s pins the invalid version %q; run \"hybrid lock -upgrade %s\"", p.Source, DefaultFilename, p.Version, p.Source))
			continue
		}
		installed, err := findPlugins(dirs, p.Source, pinned.Equal)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: %w", p.Source, err))
			continue
		}
		var usable []InstalledPlugin
		var unusableMsgs []string
		for _, ip := range installed {
			if !slices.Contains(p.Hashes, ip.Hash) {
				errs = append(errs, fmt.Errorf("plugin %s binary %s has hash %s which is not in %s; it may have been tampered with; reinstall it or run \"hybrid lock -upgrade %s\"",
					p.Source, ip.Path, ip.Hash, DefaultFilename, p.Source))
				continue
			}
			if ip.Unusable != "" {
				unusableMsgs = append(unusableMsgs, fmt.Sprintf("%s: %s", ip.Path, ip.Unusable))
				continue
			}
			usable = append(usable, ip)
		}
		switch {
		case len(usable) > 0:
			use[p.Source] = usable[0]
		case len(unusableMsgs) > 0:
			errs = append(errs, fmt.Errorf("plugin %s %s is installed but packer cannot use it (%s); reinstall it with \"packer plugins install %s v%s\"",
				p.Source, p.Version, strings.Join(unusableMsgs, "; "), p.Source, p.Version))
		default:
			errs = append(errs, fmt.Errorf("plugin %s %s is pinned in %s but not installed in %s; install it with \"packer plugins install %s v%s\", or run \"hybrid lock -upgrade %s\" to pin an installed version",
				p.Source, p.Version, DefaultFilename, strings.Join(dirs, string(os.PathListSeparator)), p.Source, p.Version, p.Source))
		}
	}
	return use, errors.Join(errs...)
}
