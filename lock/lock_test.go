package lock

import (
	"flag"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// ignoreRanges compares decoded files without their source positions.
var ignoreRanges = cmpopts.IgnoreTypes(hcl.Range{})

// Fixed digests and commits used across the tests.
const (
	hashA   = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	hashB   = "sha256:a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	commitA = "8f3c1a2b9d0e4f5a6b7c8d9e0f1a2b3c4d5e6f70"
	commitB = "4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e"
)

const vsphere = "github.com/hashicorp/vsphere"

// fullFile is the lockfile of the golden test: every kind of pin.
func fullFile() *File {
	return &File{
		Packer: &Packer{Version: "1.9.4", Constraints: ">= 1.9.0"},
		Plugins: map[string]*Plugin{
			vsphere: {
				Source:      vsphere,
				Version:     "1.2.1",
				Constraints: ">= 1.2.0, < 2.0.0",
				Hashes:      map[string][]string{"linux_amd64": {hashB, hashA, hashB}, "darwin_arm64": {hashA}},
			},
			"github.com/hashicorp/ansible": {
				Source:  "github.com/hashicorp/ansible",
				Version: "1.1.0",
				// As a lockfile from before platforms were recorded lists them.
				Hashes: map[string][]string{UnknownPlatform: {hashA}},
			},
		},
		Sources: map[string]*Source{
			"examples": {
				Name:   "examples",
				URL:    "https://github.com/vmware-samples/packer-examples-for-vsphere.git",
				Ref:    "main",
				Commit: commitA,
			},
			"base": {
				Name:   "base",
				URL:    "/srv/git/base-${weird}.git",
				Commit: commitB,
			},
		},
	}
}

// here returns hashes recorded for the platform the tests run on.
func here(hashes ...string) map[string][]string {
	return map[string][]string{CurrentPlatform(): hashes}
}

func diff(t *testing.T, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, ignoreRanges); d != "" {
		t.Errorf("wrong result (-want +got):\n%s", d)
	}
}
