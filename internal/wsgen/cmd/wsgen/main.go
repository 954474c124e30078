// Command wsgen writes a generated hybrid workspace, by default the one the
// plan benchmarks use (200 images x 5 environments, 20 sources, 20,000
// input files of ~200 MB):
//
//	go run ./internal/wsgen/cmd/wsgen -out /tmp/big
//	go run ./internal/wsgen/cmd/wsgen -out /tmp/small -small
//	go run ./internal/wsgen/cmd/wsgen -out /tmp/ws -images 50 -envs 3 -files 2000 -mb 20
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hybridcore/hybrid/internal/wsgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("wsgen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	def := wsgen.Default()
	out := fl.String("out", "", "directory to write the workspace to (must be empty or missing)")
	small := fl.Bool("small", false, "start from the quickstart-sized spec instead of the benchmark one")
	seed := fl.Uint64("seed", def.Seed, "seed of the content")
	images := fl.Int("images", -1, "number of images (default 200, or 4 with -small)")
	derived := fl.Int("derived", -1, "percent of the images that are derived images")
	envs := fl.Int("envs", -1, "number of environments")
	sources := fl.Int("sources", -1, "number of git sources")
	files := fl.Int("files", -1, "number of input files")
	mb := fl.Float64("mb", -1, "total size of the input files in MiB")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fl.NArg() > 0 {
		fmt.Fprintln(stderr, "Usage: wsgen -out DIR [-small] [-seed N] [-images N] [-derived PCT] [-envs N] [-sources N] [-files N] [-mb N]")
		return 2
	}
	spec := def
	if *small {
		spec = wsgen.Small()
	}
	spec.Seed = *seed
	for _, o := range []struct {
		v   int
		dst *int
	}{{*images, &spec.Images}, {*derived, &spec.DerivedPercent}, {*envs, &spec.Envs}, {*sources, &spec.Sources}, {*files, &spec.Files}} {
		if o.v >= 0 {
			*o.dst = o.v
		}
	}
	if *mb >= 0 {
		spec.TotalBytes = int64(*mb * (1 << 20))
	}
	start := time.Now()
	if err := wsgen.Generate(*out, spec); err != nil {
		fmt.Fprintf(stderr, "wsgen: %v\n", err)
		return 1
	}
	var n int
	var size int64
	filepath.WalkDir(*out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n++
				size += fi.Size()
			}
		}
		return nil
	})
	fmt.Fprintf(stdout, "wrote %s: %d images x %d environments, %d sources, %d files outside .git (%.1f MiB) in %s\n",
		*out, spec.Images, spec.Envs, spec.Sources, n, float64(size)/(1<<20), time.Since(start).Round(time.Millisecond))
	return 0
}
