package lock

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// releaseZip writes a plugin release zip as GitHub releases publish it:
// dir/<binary name>.zip holding entry (the binary's name, unless given)
// with content. It returns the zip's path, the zip's hex digest and the
// lockfile hash of the binary inside.
func releaseZip(t *testing.T, dir, binary, entry, content string) (string, string, string) {
	t.Helper()
	if entry == "" {
		entry = binary
	}
	path := filepath.Join(dir, binary+".zip")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create(entry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	zipHash, err := HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bin := sha256.Sum256([]byte(content))
	return path, zipHash[len("sha256:"):], "sha256:" + hex.EncodeToString(bin[:])
}

func TestFindMirroredPlugins(t *testing.T) {
	mirror := t.TempDir()
	layout := filepath.Join(mirror, filepath.FromSlash(vsphere))

	// Release files at the top of the mirror, with the release's checksums.
	darwin, darwinSum, darwinHash := releaseZip(t, mirror, "packer-plugin-vsphere_v1.2.1_x5.0_darwin_arm64", "", "darwin binary")
	windows, windowsSum, windowsHash := releaseZip(t, mirror, "packer-plugin-vsphere_v1.2.1_x5.0_windows_amd64", "packer-plugin-vsphere_v1.2.1_x5.0_windows_amd64.exe", "windows binary")
	tampered, _, _ := releaseZip(t, mirror, "packer-plugin-vsphere_v1.2.1_x5.0_linux_arm64", "", "tampered")
	unlisted, _, _ := releaseZip(t, mirror, "packer-plugin-vsphere_v1.2.1_x5.0_freebsd_amd64", "", "unlisted")
	sums := fmt.Sprintf("%s  %s\n%s  %s\n%s  %s\n",
		darwinSum, filepath.Base(darwin), windowsSum, filepath.Base(windows), "00"+darwinSum[2:], filepath.Base(tampered))
	if err := os.WriteFile(filepath.Join(mirror, "packer-plugin-vsphere_v1.2.1_SHA256SUMS"), []byte(sums), 0o644); err != nil {
		t.Fatal(err)
	}
	// A release without its checksums file, a zip without the binary, a
	// file that is no zip.
	linux130, _, linux130Hash := releaseZip(t, mirror, "packer-plugin-vsphere_v1.3.0_x5.0_linux_amd64", "", "linux 1.3.0")
	empty, _, _ := releaseZip(t, mirror, "packer-plugin-vsphere_v1.3.0_x5.0_darwin_arm64", "README.md", "no binary")
	notZip := filepath.Join(mirror, "packer-plugin-vsphere_v1.3.0_x5.0_darwin_amd64.zip")
	if err := os.WriteFile(notZip, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Binaries laid out as packer installs them: with a matching checksum
	// file, with none, with a wrong one, and of an unsupported protocol.
	installed, installedHash := installPlugin(t, mirror, vsphere, "1.2.1", "x5.0", "_linux_amd64", "linux binary", "")
	bare, bareHash := installPlugin(t, mirror, vsphere, "1.2.1", "x5.0", "_openbsd_amd64", "openbsd binary", "-")
	wrong, wrongHash := installPlugin(t, mirror, vsphere, "1.2.1", "x5.0", "_netbsd_amd64", "netbsd binary", "00")
	newer, newerHash := installPlugin(t, mirror, vsphere, "1.2.1", "x6.0", "_solaris_amd64", "solaris binary", "")
	// Not this plugin, not a plugin file.
	installPlugin(t, mirror, "github.com/hashicorp/ansible", "1.1.0", "x5.0", "_linux_amd64", "ansible", "")
	if err := os.WriteFile(filepath.Join(layout, "README"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := FindMirroredPlugins([]string{mirror, filepath.Join(mirror, "missing")}, vsphere)
	if err != nil {
		t.Fatal(err)
	}
	ip := func(v, proto, platform, path, hash, unusable string) InstalledPlugin {
		return InstalledPlugin{Source: vsphere, Version: v, Protocol: proto, Platform: platform, Path: path, Hash: hash, Unusable: unusable}
	}
	sumsName := "packer-plugin-vsphere_v1.2.1_SHA256SUMS"
	want := []InstalledPlugin{
		ip("1.3.0", "x5.0", "darwin_amd64", notZip, "", filepath.Base(notZip)+" is not a readable zip file: zip: not a valid zip file"),
		ip("1.3.0", "x5.0", "darwin_arm64", empty, "", filepath.Base(empty)+" holds no packer-plugin-vsphere_v1.3.0_x5.0_darwin_arm64"),
		ip("1.3.0", "x5.0", "linux_amd64", linux130, linux130Hash, ""),
		ip("1.2.1", "x5.0", "darwin_arm64", darwin, darwinHash, ""),
		ip("1.2.1", "x5.0", "freebsd_amd64", unlisted, "", filepath.Base(unlisted)+" is not listed in "+sumsName),
		ip("1.2.1", "x5.0", "linux_arm64", tampered, "", fmt.Sprintf("%s does not match %s (it has sha256:%s, the release lists sha256:%s)", filepath.Base(tampered), sumsName, mustHex(t, tampered), "00"+darwinSum[2:])),
		ip("1.2.1", "x5.0", "windows_amd64", windows, windowsHash, ""),
		ip("1.2.1", "x5.0", "linux_amd64", installed, installedHash, ""),
		ip("1.2.1", "x5.0", "netbsd_amd64", wrong, wrongHash, "checksum file "+filepath.Base(wrong)+"_SHA256SUM is malformed"),
		ip("1.2.1", "x5.0", "openbsd_amd64", bare, bareHash, ""),
		ip("1.2.1", "x6.0", "solaris_amd64", newer, newerHash, "plugin protocol x6.0 is not supported by packer (it speaks x5.0)"),
	}
	diff(t, want, got)

	if _, err := FindMirroredPlugins([]string{mirror}, "../../etc"); err == nil {
		t.Error("FindMirroredPlugins accepted a bad source")
	}
}

// mustHex returns the hex digest of the file at path.
func mustHex(t *testing.T, path string) string {
	t.Helper()
	h, err := HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return h[len("sha256:"):]
}
