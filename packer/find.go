package packer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// EnvPacker names the environment variable that, when set, is the packer
// binary to run. It wins over the pinned tool and PATH.
const EnvPacker = "HYBRID_PACKER"

// ErrNotFound is returned by Find when no packer binary is available.
var ErrNotFound = errors.New("packer not found: set HYBRID_PACKER, build the pinned packer with scripts/packer, or put packer on PATH")

// FindOptions tells Find where the pinned packer may be.
type FindOptions struct {
	// Pinned lists candidate paths in order, typically the repository's
	// .tools/bin/packer. Missing or non-executable entries are skipped.
	Pinned []string

	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string

	// LookPath searches PATH; nil means exec.LookPath.
	LookPath func(string) (string, error)
}

// Find returns the absolute path of the packer binary to run, trying in order
// $HYBRID_PACKER, opts.Pinned and packer on PATH. A set HYBRID_PACKER that does
// not name an executable file is an error rather than a reason to fall back,
// so a typo never silently runs a different packer. The path is absolute
// because builds run in their own working directory.
func Find(opts FindOptions) (string, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	lookPath := opts.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}

	if p := getenv(EnvPacker); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w; point it at a packer binary or unset it", EnvPacker, p, err)
		}
		return filepath.Abs(p)
	}
	for _, p := range opts.Pinned {
		if p == "" {
			continue
		}
		if checkExecutable(p) == nil {
			return filepath.Abs(p)
		}
	}
	if p, err := lookPath("packer"); err == nil && p != "" {
		return filepath.Abs(p)
	}
	return "", ErrNotFound
}

// checkExecutable reports why p is not a file this process can execute.
func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("no such file")
		}
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0 {
		return errors.New("not executable")
	}
	return nil
}
