package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/hybridcore/hybrid/packer"
)

// pinnedPackerPaths are where the pinned packer build (scripts/packer) may
// be: beside the hybrid executable, and in .tools/bin of the working
// directory or any directory above it (the repository holding the workspace).
func pinnedPackerPaths() []string {
	var out []string
	if exe, err := os.Executable(); err == nil {
		out = append(out, filepath.Join(filepath.Dir(exe), "packer"))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			out = append(out, filepath.Join(dir, ".tools", "bin", "packer"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return out
}

// findPacker locates the packer binary hybrid runs.
func findPacker() (string, error) {
	return packer.Find(packer.FindOptions{Pinned: pinnedPackerPaths()})
}

// packerVersion returns the version and path of the packer hybrid would run,
// or empty strings when there is none.
func packerVersion(ctx context.Context) (string, string) {
	bin, err := findPacker()
	if err != nil {
		return "", ""
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := packer.Version(ctx, bin)
	if err != nil {
		return "", bin
	}
	return v, bin
}
