package main

import (
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/cli"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/posener/complete"

	"github.com/hybridcore/hybrid/config"
)

// Shell completion. "hybrid -install-autocomplete" adds a line to the
// user's bash and zsh start-up files (and a fish completion file) that makes
// the shell run hybrid itself with COMP_LINE set to complete a command line;
// hashicorp/cli answers it from the command table, through posener/complete,
// with the options and arguments below. -chdir is not offered: posener
// would offer it after the command too, where it is not accepted; a -chdir
// typed before the command is honoured when names are read from hybrid.hcl.

// optionValues predict the value of an option by its name, in every command
// that has it; options not listed take a value nothing can predict, or none.
var optionValues = map[string]complete.Predictor{
	"-target":   predictAddresses,
	"-env":      predictEnvironments,
	"-var-file": complete.PredictFiles("*.hcl"),
	"-plan":     complete.PredictFiles("*"),
	"-out":      complete.PredictFiles("*"),
}

// commandArgs predict each command's positional arguments, as its usage
// line names them.
var commandArgs = map[string]complete.Predictor{
	"apply":        complete.PredictFiles("*"), // PLANFILE
	"show":         complete.PredictFiles("*"), // PLANFILE
	"fmt":          complete.PredictFiles("*.hcl"),
	"images":       predictImages,
	"lock":         predictSources,
	"sources sync": predictSources,
	"state show":   predictAddresses,
}

// withAutocomplete wraps every command so that it completes its options
// and arguments.
func withAutocomplete(cmds map[string]cli.CommandFactory) map[string]cli.CommandFactory {
	out := make(map[string]cli.CommandFactory, len(cmds))
	for name, factory := range cmds {
		out[name] = func() (cli.Command, error) {
			c, err := factory()
			if err != nil {
				return nil, err
			}
			return autocompleteCommand{Command: c, name: name}, nil
		}
	}
	return out
}

// autocompleteCommand is a command that tells the shell what may follow it.
type autocompleteCommand struct {
	cli.Command
	name string
}

var _ cli.CommandAutocomplete = autocompleteCommand{}

// AutocompleteArgs predicts the command's positional arguments.
func (c autocompleteCommand) AutocompleteArgs() complete.Predictor {
	if p, ok := commandArgs[c.name]; ok {
		return p
	}
	return complete.PredictNothing
}

// AutocompleteFlags predicts the command's options: the ones its help
// lists, so completion offers exactly what the help documents.
func (c autocompleteCommand) AutocompleteFlags() complete.Flags {
	flags := complete.Flags{}
	for _, o := range helpOptions(c.Help()) {
		switch p, known := optionValues[o.name]; {
		case known:
			flags[o.name] = p
		case len(o.choices) > 0:
			flags[o.name] = complete.PredictSet(o.choices...)
		case o.takesValue:
			flags[o.name] = complete.PredictAnything
		default:
			flags[o.name] = complete.PredictNothing
		}
	}
	return flags
}

// helpOption is one option as a command's help lists it.
type helpOption struct {
	name       string   // "-target"
	takesValue bool     // -target=ADDR, -var 'NAME=VALUE'; not -json, -list=false
	choices    []string // -format=dot|mermaid: dot, mermaid
}

// helpOptions reads the options from the "Options:" section of a command's
// help, where each starts a line indented by two spaces: "-json", "-out=FILE",
// "-var 'NAME=VALUE'", "-format=dot|mermaid", "-list=false". The
// description follows after two spaces or more.
func helpOptions(help string) []helpOption {
	var out []helpOption
	inOptions := false
	for _, line := range strings.Split(help, "\n") {
		if strings.TrimSpace(line) == "Options:" {
			inOptions = true
			continue
		}
		if !inOptions || !strings.HasPrefix(line, "  -") {
			continue
		}
		usage, _, _ := strings.Cut(strings.TrimPrefix(line, "  "), "  ")
		name, value, hasValue := usage, "", false
		if i := strings.IndexAny(usage, "= "); i >= 0 {
			name, value, hasValue = usage[:i], usage[i+1:], true
		}
		o := helpOption{name: name}
		value = strings.Trim(value, "'\"")
		if hasValue && value != "true" && value != "false" {
			o.takesValue = true
			if strings.Contains(value, "|") {
				o.choices = strings.Split(value, "|")
			}
		}
		out = append(out, o)
	}
	return out
}

var (
	predictAddresses    = predictFromConfig(func(n completionNames) []string { return n.addresses })
	predictEnvironments = predictFromConfig(func(n completionNames) []string { return n.environments })
	predictImages       = predictFromConfig(func(n completionNames) []string { return n.images })
	predictSources      = predictFromConfig(func(n completionNames) []string { return n.sources })
)

// predictFromConfig predicts names that hybrid.hcl declares, read from the
// workspace the command line being completed runs in. That is read from the
// whole line (COMP_LINE): the Args a predictor is given start after the
// command, past any -chdir.
func predictFromConfig(pick func(completionNames) []string) complete.Predictor {
	return complete.PredictFunc(func(complete.Args) []string {
		words := strings.Fields(os.Getenv("COMP_LINE"))
		if len(words) > 0 {
			words = words[1:] // the program's name
		}
		return pick(readCompletionNames(completionDir(words)))
	})
}

// completionNames are the names hybrid.hcl declares that command lines
// refer to.
type completionNames struct {
	environments []string
	images       []string
	sources      []string
	// addresses are every build, render and source node: build.dev.base,
	// render.dev.base, source.examples.
	addresses []string
}

// readCompletionNames reads the names in dir/hybrid.hcl. It decodes
// hybrid.hcl alone (no templates, sources, state or packer), so a
// completion stays quick; a configuration with errors offers the names that
// could be decoded, and a directory without one offers none.
func readCompletionNames(dir string) completionNames {
	cfg, _ := config.Load(hclparse.NewParser(), dir, config.Inputs{Environ: os.Environ()})
	var n completionNames
	if cfg == nil {
		return n
	}
	n.environments = cfg.EnvironmentNames()
	n.images = cfg.ImageNames()
	n.sources = cfg.SourceNames()
	for _, name := range n.images {
		for _, env := range cfg.ImageEnvironments(cfg.Images[name]) {
			n.addresses = append(n.addresses, "build."+env+"."+name, "render."+env+"."+name)
		}
	}
	for _, name := range n.sources {
		n.addresses = append(n.addresses, "source."+name)
	}
	sort.Strings(n.addresses)
	return n
}

// completionDir is the workspace of the command line being completed: the
// directory of its -chdir option, if it has one before the command, else
// the current directory.
func completionDir(words []string) string {
	for i, w := range words {
		if strings.HasPrefix(w, "--") {
			w = w[1:]
		}
		switch {
		case !strings.HasPrefix(w, "-"):
			return "." // reached the command
		case strings.HasPrefix(w, "-chdir="):
			return strings.TrimPrefix(w, "-chdir=")
		case w == "-chdir" && i+1 < len(words):
			return words[i+1]
		}
	}
	return "."
}
