package main

import (
	"flag"
	"os"

	"github.com/hybridcore/hybrid/config"
)

// inputFlag collects -var and -var-file in command-line order, because a
// later one wins.
type inputFlag struct {
	in   *config.Inputs
	file bool
}

func (f inputFlag) String() string { return "" }

func (f inputFlag) Set(s string) error {
	f.in.Args = append(f.in.Args, config.InputArg{File: f.file, Value: s})
	return nil
}

// varFlags registers -var and -var-file on fs, and takes HYBRID_VAR_
// variables from the environment.
func varFlags(fs *flag.FlagSet, in *config.Inputs) {
	in.Environ = os.Environ()
	fs.Var(inputFlag{in: in}, "var", "")
	fs.Var(inputFlag{in: in, file: true}, "var-file", "")
}
