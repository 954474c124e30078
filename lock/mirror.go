package lock

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxPluginBinary bounds how much of a zipped plugin binary is hashed: far
// above any real plugin, it stops a hostile zip from inflating without end.
const maxPluginBinary = 1 << 30

// FindMirroredPlugins lists the binaries of plugin source, for every
// platform, found in plugin mirror directories: what "hybrid lock
// -plugin-dir" reads to record the hashes of platforms other than this one,
// with no network. A mirror directory may hold, at its top or in the
// <hostname>/<namespace>/<type> directory below it (the layout packer
// installs into):
//
//   - binaries as packer installs them,
//     packer-plugin-vsphere_v1.2.1_x5.0_darwin_arm64 (with or without the
//     _SHA256SUM file beside them, which must match when present);
//   - release zip files as published on the plugin's GitHub releases page,
//     packer-plugin-vsphere_v1.2.1_x5.0_darwin_arm64.zip, whose binary's
//     hash is recorded, the hash packer would write when it installs that
//     zip. When the release's packer-plugin-vsphere_v1.2.1_SHA256SUMS file
//     is beside the zip, the zip must match it, as "packer init" demands.
//
// The result is sorted by version, newest first, then in the order found.
// Missing directories are skipped; files whose names do not parse are
// ignored.
func FindMirroredPlugins(dirs []string, source string) ([]InstalledPlugin, error) {
	if err := validPluginSource(source); err != nil {
		return nil, err
	}
	parts := strings.Split(source, "/")
	var out []InstalledPlugin
	for _, dir := range dirs {
		for _, d := range []string{dir, filepath.Join(dir, parts[0], parts[1], parts[2])} {
			found, err := mirroredIn(d, source, parts[2])
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		}
	}
	sortByVersion(out)
	return out, nil
}

// mirroredIn lists the binaries and zips of one plugin directly in dir.
func mirroredIn(dir, source, typ string) ([]InstalledPlugin, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list plugins in %s: %w", dir, err)
	}
	var out []InstalledPlugin
	sums := map[string]map[string]string{} // SHA256SUMS file name -> zip name -> hex
	for _, e := range entries {
		pf, ok := parsePluginFile(e.Name(), typ)
		if !ok {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
			continue
		}
		ip := InstalledPlugin{Source: source, Version: pf.versionString, Protocol: pf.protocol, Platform: pf.platform, Path: path}
		if !pf.zip {
			if ip.Hash, err = HashFile(path); err != nil {
				return nil, err
			}
			ip.Unusable = protocolProblem(pf.protocol)
			if ip.Unusable == "" {
				if _, err := os.Stat(path + "_SHA256SUM"); err == nil {
					ip.Unusable = unusable(path, pf.protocol, ip.Hash)
				}
			}
			out = append(out, ip)
			continue
		}
		sumsName := "packer-plugin-" + typ + "_v" + pf.versionString + "_SHA256SUMS"
		if _, read := sums[sumsName]; !read {
			if sums[sumsName], err = readSHA256SUMS(filepath.Join(dir, sumsName)); err != nil {
				return nil, err
			}
		}
		ip.Hash, ip.Unusable, err = hashZippedPlugin(path, pf.platform, sums[sumsName], sumsName)
		if err != nil {
			return nil, err
		}
		if ip.Unusable == "" {
			ip.Unusable = protocolProblem(pf.protocol)
		}
		out = append(out, ip)
	}
	return out, nil
}

// readSHA256SUMS reads a release's checksum file ("<hex>  <file name>" per
// line); a missing file gives nil.
func readSHA256SUMS(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 {
			out[strings.TrimPrefix(fields[1], "*")] = strings.ToLower(fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// hashZippedPlugin returns the hash of the plugin binary inside a release
// zip, as packer would install it: the zip's entry named like the zip,
// without ".zip" (with ".exe" for Windows). When the release's SHA256SUMS
// were read (sums is not nil), the zip must be listed there with its own
// hash; otherwise the binary is reported unusable, with why. The error is
// for a zip that cannot be read at all.
func hashZippedPlugin(path, platform string, sums map[string]string, sumsName string) (hash, problem string, err error) {
	base := filepath.Base(path)
	if sums != nil {
		want, listed := sums[base]
		if !listed {
			return "", fmt.Sprintf("%s is not listed in %s", base, sumsName), nil
		}
		got, err := HashFile(path)
		if err != nil {
			return "", "", err
		}
		if "sha256:"+want != got {
			return "", fmt.Sprintf("%s does not match %s (it has %s, the release lists sha256:%s)", base, sumsName, got, want), nil
		}
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return "", fmt.Sprintf("%s is not a readable zip file: %v", base, err), nil
	}
	defer zr.Close()
	name := strings.TrimSuffix(base, ".zip") + platformExt(platform)
	i := slices.IndexFunc(zr.File, func(f *zip.File) bool { return f.Name == name })
	if i < 0 {
		return "", fmt.Sprintf("%s holds no %s", base, name), nil
	}
	rc, err := zr.File[i].Open()
	if err != nil {
		return "", fmt.Sprintf("%s: cannot open %s: %v", base, name, err), nil
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rc, maxPluginBinary+1))
	switch {
	case err != nil:
		return "", fmt.Sprintf("%s: cannot read %s: %v", base, name, err), nil
	case n > maxPluginBinary:
		return "", fmt.Sprintf("%s: %s is larger than %d MiB", base, name, maxPluginBinary>>20), nil
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), "", nil
}
