package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseShowArgs(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    *showArgs
		wantErr string
	}{
		"state":         {args: nil, want: &showArgs{}},
		"state json":    {args: []string{"-json"}, want: &showArgs{JSON: true}},
		"plan":          {args: []string{"-no-color", "tfplan.json"}, want: &showArgs{NoColor: true, PlanFile: "tfplan.json"}},
		"plan json":     {args: []string{"-json", "saved"}, want: &showArgs{JSON: true, PlanFile: "saved"}},
		"plan markdown": {args: []string{"-markdown", "saved"}, want: &showArgs{Markdown: true, PlanFile: "saved"}},
		"markdown without plan": {
			args:    []string{"-markdown"},
			wantErr: `-markdown shows a saved plan: give PLANFILE, made with hybrid plan -out=PLANFILE. Run "hybrid show -help" for the options.`,
		},
		"markdown and json": {
			args:    []string{"-markdown", "-json", "saved"},
			wantErr: `-json and -markdown cannot be combined: choose one output. Run "hybrid show -help" for the options.`,
		},
		"two files": {
			args:    []string{"a", "b"},
			wantErr: `unexpected argument "b": show takes at most one plan file. Run "hybrid show -help" for the options.`,
		},
		"option after file": {args: []string{"saved", "-json"}, want: &showArgs{JSON: true, PlanFile: "saved"}},
		"file after --":     {args: []string{"-no-color", "--", "-saved"}, want: &showArgs{NoColor: true, PlanFile: "-saved"}},
		"unknown option": {
			args:    []string{"-yaml"},
			wantErr: `flag provided but not defined: -yaml. Run "hybrid show -help" for the options.`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := parseShowArgs(tc.args)
			if tc.wantErr != "" {
				if !diags.HasErrors() {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				if diff := cmp.Diff(tc.wantErr, diags[0].Detail); diff != "" {
					t.Errorf("wrong error (-want +got):\n%s", diff)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("unexpected error: %s", diags.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
		})
	}
}
