package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnknownCommand(t *testing.T) {
	names := []string{"apply", "fmt", "plan", "show", "state", "state list", "state show", "sources", "sources sync", "version"}
	tests := map[string]struct {
		args           []string
		wantGiven      string
		wantSuggestion string
	}{
		"known":                {args: []string{"plan", "-json"}},
		"no command":           {args: nil},
		"global options only":  {args: []string{"-help"}},
		"transposed":           {args: []string{"paln"}, wantGiven: "paln", wantSuggestion: "plan"},
		"after global options": {args: []string{"-help", "aply", "-auto-approve"}, wantGiven: "aply", wantSuggestion: "apply"},
		"nothing close":        {args: []string{"deploy"}, wantGiven: "deploy"},
		"nested":               {args: []string{"state", "shwo", "build.dev.base"}, wantGiven: "state shwo", wantSuggestion: "state show"},
		"nested known":         {args: []string{"state", "show", "build.dev.base"}},
		"parent alone":         {args: []string{"state"}},
		"parent with option":   {args: []string{"sources", "-help"}},
		"argument of a leaf":   {args: []string{"show", "saved.plan"}},
		"after double dash":    {args: []string{"--", "paln"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			given, suggestion := unknownCommand(tc.args, names)
			if diff := cmp.Diff([]string{tc.wantGiven, tc.wantSuggestion}, []string{given, suggestion}); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnknownCommandMessage(t *testing.T) {
	if got, want := unknownCommandMessage("paln", "plan"), `hybrid: unknown command "paln". Did you mean "plan"?`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := unknownCommandMessage("deploy", ""), `hybrid: unknown command "deploy". Run "hybrid -help" to list the commands.`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestVersionFlagToCommand(t *testing.T) {
	tests := map[string]struct {
		args, want []string
	}{
		"version flag":      {args: []string{"-version"}, want: []string{"version"}},
		"short":             {args: []string{"-v"}, want: []string{"version"}},
		"double dash":       {args: []string{"--version"}, want: []string{"version"}},
		"with json":         {args: []string{"-version", "-json"}, want: []string{"version", "-json"}},
		"command ignored":   {args: []string{"-version", "plan", "-out=x"}, want: []string{"version"}},
		"command's own":     {args: []string{"plan", "-version"}, want: []string{"plan", "-version"}},
		"no version":        {args: []string{"-help"}, want: []string{"-help"}},
		"after double dash": {args: []string{"--", "-version"}, want: []string{"--", "-version"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, versionFlagToCommand(tc.args)); diff != "" {
				t.Errorf("wrong arguments (-want +got):\n%s", diff)
			}
		})
	}
}
