// Command hybrid is a declarative reconciler for Packer image pipelines:
// `hybrid plan` says which images are out of date and why, and
// `hybrid apply` builds exactly those.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/hashicorp/cli"
	"github.com/mattn/go-isatty"

	"github.com/hybridcore/hybrid/internal/version"
	"github.com/hybridcore/hybrid/logs"
)

func main() {
	os.Exit(realMain(os.Args[1:], defaultStreams()))
}

// streams are the process's standard streams, passed to every command so
// tests can run commands in-process.
type streams struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	InTTY  bool // stdin is a terminal: apply may ask for approval
	OutTTY bool // stdout is a terminal: colour by default
}

func defaultStreams() streams {
	return streams{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		InTTY:  isatty.IsTerminal(os.Stdin.Fd()),
		OutTTY: isatty.IsTerminal(os.Stdout.Fd()),
	}
}

// realMain runs hybrid with its arguments and returns the exit code.
func realMain(args []string, s streams) int {
	args, chdir, err := extractChdir(args)
	if err != nil {
		fmt.Fprintf(s.Err, "Error: %v\n", err)
		return 1
	}
	if chdir != "" {
		if err := os.Chdir(chdir); err != nil {
			fmt.Fprintf(s.Err, "Error: cannot switch to -chdir directory: %v\n", err)
			return 1
		}
	}
	// Every command logs through slog with one setup: records reach stderr
	// only when HYBRID_LOG asks for them, so commands speak to people
	// through their views. Commands that change the workspace also log to
	// logs/hybrid.log (setupLogs).
	if logger, closeLog, err := logs.Setup(logs.Options{Command: commandName(args), Stderr: s.Err, JSON: os.Getenv("HYBRID_LOG_FORMAT") == "json", Redactor: logRedactor}); err != nil {
		fmt.Fprintf(s.Err, "Error: %v\n", err)
		return 1
	} else {
		slog.SetDefault(logger)
		defer closeLog()
	}
	defer closeBackends()
	cmds := withAutocomplete(commands(s))
	if !completing() {
		args = versionFlagToCommand(args)
		names := make([]string, 0, len(cmds))
		for name := range cmds {
			names = append(names, name)
		}
		if given, suggestion := unknownCommand(args, names); given != "" {
			fmt.Fprintln(s.Err, unknownCommandMessage(given, suggestion))
			return 1
		}
	}
	c := &cli.CLI{
		Name:                  "hybrid",
		Version:               version.Version,
		Args:                  args,
		Commands:              cmds,
		HelpFunc:              helpFunc,
		HelpWriter:            s.Out,
		ErrorWriter:           s.Err,
		Autocomplete:          true,
		AutocompleteInstall:   "install-autocomplete",
		AutocompleteUninstall: "uninstall-autocomplete",
	}
	code, err := c.Run()
	if err != nil {
		fmt.Fprintf(s.Err, "Error: %v\n", err)
		return 1
	}
	return code
}

// commandName is the command in args (the first word that is not an
// option), for log records.
func commandName(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return "hybrid"
}

// completing reports whether the shell runs hybrid to complete a command
// line (see autocomplete.go) rather than to run one.
func completing() bool { return os.Getenv("COMP_LINE") != "" }

// versionFlagToCommand turns a -v, -version or --version given before the
// command into the version command, so that "hybrid -version" prints exactly
// what "hybrid version" prints (terraform does the same). The other global
// options stay (hybrid -version -json); a command after them is ignored.
func versionFlagToCommand(args []string) []string {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") || a == "--" {
			return args // reached the command
		}
		if a == "-v" || a == "-version" || a == "--version" {
			out := []string{"version"}
			for _, o := range args[:i] {
				out = append(out, o)
			}
			for _, o := range args[i+1:] {
				if !strings.HasPrefix(o, "-") || o == "--" {
					break
				}
				out = append(out, o)
			}
			return out
		}
	}
	return args
}

// extractChdir removes the global -chdir=DIR option, which must come before
// the command name as in terraform.
func extractChdir(args []string) ([]string, string, error) {
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			return args, "", nil // reached the command name
		}
		switch {
		case strings.HasPrefix(a, "-chdir=") || strings.HasPrefix(a, "--chdir="):
			dir := a[strings.Index(a, "=")+1:]
			if dir == "" {
				return nil, "", fmt.Errorf("-chdir needs a directory: -chdir=DIR")
			}
			rest := append(append([]string{}, args[:i]...), args[i+1:]...)
			return rest, dir, nil
		case a == "-chdir" || a == "--chdir":
			if i+1 >= len(args) {
				return nil, "", fmt.Errorf("-chdir needs a directory: -chdir=DIR")
			}
			rest := append(append([]string{}, args[:i]...), args[i+2:]...)
			return rest, args[i+1], nil
		}
	}
	return args, "", nil
}

func helpFunc(cmds map[string]cli.CommandFactory) string {
	var b strings.Builder
	b.WriteString("Usage: hybrid [global options] <command> [options] [args]\n\n")
	b.WriteString("hybrid reconciles Packer image pipelines: plan shows which images are out of\n")
	b.WriteString("date and why, apply builds exactly those.\n\nCommands:\n")
	names := make([]string, 0, len(cmds))
	width := 0
	for name := range cmds {
		names = append(names, name)
		if len(name) > width {
			width = len(name)
		}
	}
	sortStrings(names)
	for _, name := range names {
		cmd, err := cmds[name]()
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "    %-*s  %s\n", width, name, cmd.Synopsis())
	}
	b.WriteString("\nGlobal options:\n")
	b.WriteString("    -chdir=DIR               Switch to DIR before running the command.\n")
	b.WriteString("    -help                    Show this help, or a command's help after its name.\n")
	b.WriteString("    -version                 Show the version (same as the version command).\n")
	b.WriteString("    -install-autocomplete    Make bash, zsh and fish complete hybrid commands,\n")
	b.WriteString("                             options, addresses and environment names.\n")
	b.WriteString("    -uninstall-autocomplete  Undo -install-autocomplete.\n")
	return b.String()
}
