package lock

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// A platform is where a plugin binary runs, "<os>_<arch>" as packer names it
// in the binaries it installs and the zip files plugins are released in:
// "linux_amd64", "darwin_arm64", "windows_amd64". The lockfile records each
// plugin's hashes by platform.

// UnknownPlatform is the key of hashes whose platform the lockfile does not
// say: those of a lockfile written before hybrid recorded platforms, whose
// hashes were a plain list. They are accepted on every platform, as they
// were then, until "hybrid lock" finds which platform's binary each is.
const UnknownPlatform = ""

// unknownPlatformKey is how the lockfile writes UnknownPlatform among
// platforms; it is no "<os>_<arch>", so it never collides with one.
const unknownPlatformKey = "unknown"

// CurrentPlatform is the platform hybrid runs on: the binaries packer would
// run here are built for it.
func CurrentPlatform() string { return runtime.GOOS + "_" + runtime.GOARCH }

// Operating systems and architectures Go (and so packer and its plugins) is
// built for, from "go tool dist list".
var (
	knownOS = []string{
		"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js",
		"linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows",
	}
	knownArch = []string{
		"386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le",
		"mipsle", "ppc64", "ppc64le", "riscv64", "s390x", "wasm",
	}
)

// CheckPlatform reports why p is not a platform "<os>_<arch>" with an
// operating system and an architecture Go builds for, so that a typo in
// "hybrid lock -platform" is caught instead of looked for in vain.
func CheckPlatform(p string) error {
	goos, arch, ok := strings.Cut(p, "_")
	if !ok || goos == "" || arch == "" {
		return fmt.Errorf("platform %q is not of the form OS_ARCH, such as linux_amd64 or darwin_arm64", p)
	}
	if !slices.Contains(knownOS, goos) {
		return fmt.Errorf("platform %q names the unknown operating system %q (known: %s)", p, goos, strings.Join(knownOS, ", "))
	}
	if !slices.Contains(knownArch, arch) {
		return fmt.Errorf("platform %q names the unknown architecture %q (known: %s)", p, arch, strings.Join(knownArch, ", "))
	}
	return nil
}

// platformExt is the file name extension of executables on platform p.
func platformExt(p string) string {
	if strings.HasPrefix(p, "windows_") {
		return ".exe"
	}
	return ""
}
