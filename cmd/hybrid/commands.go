package main

import (
	"sort"

	"github.com/hashicorp/cli"
)

// commands maps every command name to its factory; this table is the whole
// command-line surface.
func commands(s streams) map[string]cli.CommandFactory {
	return map[string]cli.CommandFactory{
		"version":      func() (cli.Command, error) { return &versionCommand{s: s}, nil },
		"validate":     func() (cli.Command, error) { return &validateCommand{s: s}, nil },
		"fmt":          func() (cli.Command, error) { return &fmtCommand{s: s}, nil },
		"images":       func() (cli.Command, error) { return &imagesCommand{s: s}, nil },
		"plan":         func() (cli.Command, error) { return &planCommand{s: s}, nil },
		"apply":        func() (cli.Command, error) { return &applyCommand{s: s}, nil },
		"graph":        func() (cli.Command, error) { return &graphCommand{s: s}, nil },
		"init":         func() (cli.Command, error) { return &initCommand{s: s}, nil },
		"lock":         func() (cli.Command, error) { return &lockCommand{s: s}, nil },
		"sources":      func() (cli.Command, error) { return &sourcesCommand{s: s}, nil },
		"sources sync": func() (cli.Command, error) { return &sourcesSyncCommand{s: s}, nil },
		"state":        func() (cli.Command, error) { return &stateCommand{s: s}, nil },
		"state list":   func() (cli.Command, error) { return &stateListCommand{s: s}, nil },
		"state show":   func() (cli.Command, error) { return &stateShowCommand{s: s}, nil },
		"state pull":   func() (cli.Command, error) { return &statePullCommand{s: s}, nil },
		"state push":   func() (cli.Command, error) { return &statePushCommand{s: s}, nil },
		"show":         func() (cli.Command, error) { return &showCommand{s: s}, nil },
		"force-unlock": func() (cli.Command, error) { return &forceUnlockCommand{s: s}, nil },
	}
}

func sortStrings(s []string) { sort.Strings(s) }
