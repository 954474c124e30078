package main

import (
	"errors"
	"flag"
	"os"
	"time"

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

// lockTimeoutFlag registers -lock-timeout on fs, the one way every command
// that takes the state lock reads it: a duration of zero or more (zero: fail
// at once when the lock is held).
func lockTimeoutFlag(fs *flag.FlagSet, d *time.Duration) {
	fs.Var((*lockTimeout)(d), "lock-timeout", "")
}

// lockTimeout is the value of -lock-timeout.
type lockTimeout time.Duration

func (l *lockTimeout) String() string { return time.Duration(*l).String() }

// Set refuses what is not a duration, and negative durations, which would
// otherwise mean "do not wait" without saying so.
func (l *lockTimeout) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return errors.New("not a duration; give how long to wait for the state lock, such as 30s or 5m")
	case d < 0:
		return errors.New("must not be negative; give how long to wait for the state lock, such as 30s or 5m, or 0 not to wait")
	}
	*l = lockTimeout(d)
	return nil
}

// parseFlags parses args with fs as people type them: options may follow
// positional arguments as well as precede them (hybrid show p.plan -json,
// hybrid state show ADDR -no-color). An argument "--" ends the options;
// everything after it is positional, even when it starts with a dash.
// Afterwards fs.Args and fs.NArg give the positional arguments in order.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse consumes a "--" and stops after it; it stops before
		// any other positional argument.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parse the positional arguments alone, after a "--" so none is read
	// as an option: fs.Args then holds them, and the options parsed
	// above keep their values.
	return fs.Parse(append([]string{"--"}, positional...))
}
