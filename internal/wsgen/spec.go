package wsgen

import (
	"errors"
	"fmt"
)

// Spec is the shape of a generated workspace.
type Spec struct {
	// Seed selects the content; the same Spec always gives the same bytes.
	Seed uint64
	// Images is the number of image blocks, base and derived together.
	Images int
	// DerivedPercent of the images are derived images: built from a base
	// image's artifact (depends_on), from a template in templates/apps.
	DerivedPercent int
	// Envs is the number of environments (dev, test, stage, prod, dr, then
	// env6...), each inheriting from the previous one; every image is
	// built in every environment, so a plan has Images x Envs builds.
	Envs int
	// Sources is the number of git sources under sources/<name>, alternating
	// Linux and Windows template repositories of ten platforms (vsphere,
	// proxmox, qemu...).
	Sources int
	// Files is the exact number of input files: files a plan hashes because
	// they are in a template directory, an input glob or a provisioner asset
	// directory that some image uses.
	Files int
	// TotalBytes is the size the input files add up to. The templates' own
	// files have their natural size; the other input files are sized to
	// reach the total exactly, or hold one byte each when the templates
	// alone exceed it.
	TotalBytes int64
}

// Default is the workspace of the plan benchmarks: 200 images in 5
// environments (1,000 builds), 20 sources, 20,000 input files of ~200 MB.
func Default() Spec {
	return Spec{Seed: 1, Images: 200, DerivedPercent: 20, Envs: 5, Sources: 20, Files: 20000, TotalBytes: 200 << 20}
}

// Small is a quickstart-sized workspace: 4 images (one derived) in 2
// environments, 2 sources, 80 input files of ~256 KB.
func Small() Spec {
	return Spec{Seed: 1, Images: 4, DerivedPercent: 25, Envs: 2, Sources: 2, Files: 80, TotalBytes: 256 << 10}
}

// Limits that keep names valid and the workspace meaningful.
const (
	maxEnvs    = 50
	maxSources = 200
	maxFiles   = 10_000_000
	maxBytes   = 1 << 40
)

// Validate reports the first field out of range. Generate also checks that
// Files leaves room for the templates' own files.
func (s Spec) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(s.Images >= 1, "images is %d; generate at least 1", s.Images)
	check(s.DerivedPercent >= 0 && s.DerivedPercent <= 90, "derived percent is %d; use 0 to 90", s.DerivedPercent)
	check(s.Envs >= 1 && s.Envs <= maxEnvs, "envs is %d; use 1 to %d", s.Envs, maxEnvs)
	check(s.Sources >= 1 && s.Sources <= maxSources, "sources is %d; use 1 to %d", s.Sources, maxSources)
	check(s.Files >= 1 && s.Files <= maxFiles, "files is %d; use 1 to %d", s.Files, maxFiles)
	check(s.TotalBytes >= 0 && s.TotalBytes <= maxBytes, "total bytes is %d; use 0 to %d", s.TotalBytes, int64(maxBytes))
	return errors.Join(errs...)
}

// derivedCount is how many of the images are derived; at least one base
// image always remains.
func (s Spec) derivedCount() int {
	n := s.Images * s.DerivedPercent / 100
	if n > s.Images-1 {
		n = s.Images - 1
	}
	return n
}
