package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/posener/complete"
)

func TestHelpOptions(t *testing.T) {
	help := strings.TrimSpace(`
Usage: hybrid example [options]

  -not-an-option is in the description.

Options:
  -json                Print JSON.
  -out=FILE            Save the plan to FILE; a long description that
                       wraps -onto the next line.
  -var 'NAME=VALUE'    Set a variable.
  -format=dot|mermaid  Output format.
  -list=false          Do not list.
`)
	want := []helpOption{
		{name: "-json"},
		{name: "-out", takesValue: true},
		{name: "-var", takesValue: true},
		{name: "-format", takesValue: true, choices: []string{"dot", "mermaid"}},
		{name: "-list"},
	}
	if diff := cmp.Diff(want, helpOptions(help), cmp.AllowUnexported(helpOption{})); diff != "" {
		t.Errorf("wrong options (-want +got):\n%s", diff)
	}
}

// TestAutocompleteFlagsAreAccepted checks that every option completion
// offers, read from a command's help, is one the command accepts, and that
// each command offers the options every user reaches for.
func TestAutocompleteFlagsAreAccepted(t *testing.T) {
	parsers := map[string]func([]string) hcl.Diagnostics{
		"apply":        func(a []string) hcl.Diagnostics { _, d := parseApplyArgs(a); return d },
		"fmt":          func(a []string) hcl.Diagnostics { _, d := parseFmtArgs(a); return d },
		"force-unlock": func(a []string) hcl.Diagnostics { _, d := parseForceUnlockArgs(a); return d },
		"graph":        func(a []string) hcl.Diagnostics { _, d := parseGraphArgs(a); return d },
		"images":       func(a []string) hcl.Diagnostics { _, d := parseImagesArgs(a); return d },
		"init":         func(a []string) hcl.Diagnostics { _, d := parseInitArgs(a); return d },
		"lock":         func(a []string) hcl.Diagnostics { _, d := parseLockArgs(a); return d },
		"plan":         func(a []string) hcl.Diagnostics { _, d := parsePlanArgs(a); return d },
		"show":         func(a []string) hcl.Diagnostics { _, d := parseShowArgs(a); return d },
		"sources sync": func(a []string) hcl.Diagnostics { _, d := parseSourcesSyncArgs(a); return d },
		"state list":   func(a []string) hcl.Diagnostics { _, d := parseStateListArgs(a); return d },
		"state show":   func(a []string) hcl.Diagnostics { _, d := parseStateShowArgs(a); return d },
		"state pull":   func(a []string) hcl.Diagnostics { _, d := parseStatePullArgs(a); return d },
		"state push":   func(a []string) hcl.Diagnostics { _, d := parseStatePushArgs(append(a, "FILE")); return d },
		"validate":     func(a []string) hcl.Diagnostics { _, d := parseValidateArgs(a); return d },
		"version":      func(a []string) hcl.Diagnostics { _, d := parseVersionArgs(a); return d },
	}
	for name, factory := range withAutocomplete(commands(streams{})) {
		t.Run(name, func(t *testing.T) {
			c, err := factory()
			if err != nil {
				t.Fatal(err)
			}
			flags := c.(autocompleteCommand).AutocompleteFlags()
			parse, ok := parsers[name]
			if !ok {
				if len(flags) > 0 {
					t.Fatalf("%s has options; add its parser to this test", name)
				}
				return
			}
			if _, ok := flags["-no-color"]; !ok {
				t.Errorf("%s does not offer -no-color", name)
			}
			for flag := range flags {
				for _, d := range parse([]string{flag}) {
					if strings.Contains(d.Detail, "not defined") {
						t.Errorf("%s offers %s, which it does not accept: %s", name, flag, d.Detail)
					}
				}
			}
		})
	}
}

// completionFixture is a workspace whose hybrid.hcl declares two
// environments, an image built in one of them only, two images made by
// for_each, and a source.
const completionFixture = `
environment "dev" {}
environment "prod" {}

source "examples" {
  url = "https://example.invalid/templates.git"
}

image "base" {
  template = "templates/base"
  build    = "file.base"
}

image "app" {
  template     = "templates/app"
  build        = "file.app"
  environments = [environment.prod]
}

image "win" {
  for_each = toset(["2019", "2022"])
  template = "templates/win"
  build    = "null.win-${each.key}"
}
`

func TestPredictors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hybrid.hcl"), []byte(completionFixture), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		p    complete.Predictor
		line string
		want []string
	}{
		"addresses": {p: predictAddresses, line: "hybrid -chdir=" + dir + " plan -target ", want: []string{
			"build.dev.base", "build.dev.win-2019", "build.dev.win-2022",
			"build.prod.app", "build.prod.base", "build.prod.win-2019", "build.prod.win-2022",
			"render.dev.base", "render.dev.win-2019", "render.dev.win-2022",
			"render.prod.app", "render.prod.base", "render.prod.win-2019", "render.prod.win-2022",
			"source.examples",
		}},
		"environments": {p: predictEnvironments, line: "hybrid -chdir " + dir + " plan -env ", want: []string{"dev", "prod"}},
		"images":       {p: predictImages, line: "hybrid -chdir=" + dir + " images ", want: []string{"app", "base", "win-2019", "win-2022"}},
		"sources":      {p: predictSources, line: "hybrid -chdir=" + dir + " sources sync ", want: []string{"examples"}},
		"no workspace": {p: predictEnvironments, line: "hybrid -chdir=" + t.TempDir() + " plan -env ", want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("COMP_LINE", tc.line)
			if diff := cmp.Diff(tc.want, tc.p.Predict(complete.Args{})); diff != "" {
				t.Errorf("wrong predictions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCommandCompletion checks the options and values offered for a whole
// command line, as the shell would ask for them.
func TestCommandCompletion(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hybrid.hcl"), []byte(completionFixture), 0o644); err != nil {
		t.Fatal(err)
	}
	root := complete.Command{Sub: complete.Commands{}}
	for name, factory := range withAutocomplete(commands(streams{})) {
		if strings.Contains(name, " ") {
			continue // no line below uses a nested command
		}
		c, _ := factory()
		ac := c.(autocompleteCommand)
		root.Sub[name] = complete.Command{Flags: ac.AutocompleteFlags(), Args: ac.AutocompleteArgs()}
	}
	tests := map[string]struct {
		line []string // completed words, then the one being typed
		want []string
	}{
		"graph format":   {line: []string{"graph", "-format", ""}, want: []string{"dot", "mermaid"}},
		"apply env":      {line: []string{"apply", "-env", ""}, want: []string{"dev", "prod"}},
		"version option": {line: []string{"version", "-"}, want: []string{"-json", "-no-color"}},
		"fmt option":     {line: []string{"fmt", "-no"}, want: []string{"-no-color"}},
		"plan target":    {line: []string{"plan", "-target", "build.prod.w"}, want: []string{"build.prod.win-2019", "build.prod.win-2022"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			all := append([]string{"-chdir=" + dir}, tc.line...)
			t.Setenv("COMP_LINE", "hybrid "+strings.Join(all, " "))
			a := complete.Args{All: all, Completed: all[:len(all)-1], Last: all[len(all)-1], LastCompleted: all[len(all)-2]}
			var got []string
			for _, o := range root.Predict(a) {
				if strings.HasPrefix(o, a.Last) {
					got = append(got, o)
				}
			}
			sortStrings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("wrong completions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompletionDir(t *testing.T) {
	tests := map[string]struct {
		words []string
		want  string
	}{
		"none":            {words: []string{"plan", "-target", ""}, want: "."},
		"equals":          {words: []string{"-chdir=ws", "plan"}, want: "ws"},
		"separate":        {words: []string{"-chdir", "ws", "plan"}, want: "ws"},
		"double dash":     {words: []string{"--chdir=ws", "plan"}, want: "ws"},
		"after a command": {words: []string{"plan", "-chdir=ws"}, want: "."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := completionDir(tc.words); got != tc.want {
				t.Errorf("completionDir(%q) = %q, want %q", tc.words, got, tc.want)
			}
		})
	}
}
