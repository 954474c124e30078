package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/config"
)

func TestParseLockArgs(t *testing.T) {
	ignoreEnv := cmpopts.IgnoreFields(config.Inputs{}, "Environ")
	tests := map[string]struct {
		args    []string
		want    *lockArgs
		wantErr string
	}{
		"none":    {args: nil, want: &lockArgs{}},
		"upgrade": {args: []string{"-upgrade"}, want: &lockArgs{Upgrade: true}},
		"upgrade names": {
			args: []string{"-upgrade", "examples", "github.com/hashicorp/vsphere", "examples"},
			want: &lockArgs{Upgrade: true, Names: []string{"examples", "github.com/hashicorp/vsphere"}},
		},
		"vars": {
			args: []string{"-var", "a=1", "-var-file=x.hcl", "-no-color"},
			want: &lockArgs{NoColor: true, Inputs: config.Inputs{Args: []config.InputArg{{Value: "a=1"}, {File: true, Value: "x.hcl"}}}},
		},
		"platforms": {
			args: []string{"-platform=linux_amd64", "-platform", "darwin_arm64", "-platform=linux_amd64", "-plugin-dir=mirror", "-plugin-dir=/srv/plugins"},
			want: &lockArgs{Platforms: []string{"linux_amd64", "darwin_arm64"}, PluginDirs: []string{"mirror", "/srv/plugins"}},
		},
		"misspelled platform": {
			args:    []string{"-platform=darwin_amd46"},
			wantErr: `invalid value "darwin_amd46" for flag -platform: platform "darwin_amd46" names the unknown architecture "amd46" (known: 386, amd64, arm, arm64, loong64, mips, mips64, mips64le, mipsle, ppc64, ppc64le, riscv64, s390x, wasm). Run "hybrid lock -help" for the options.`,
		},
		"names without upgrade": {
			args:    []string{"examples"},
			wantErr: "naming examples needs -upgrade (hybrid lock -upgrade examples); without it, existing pins stay. Run \"hybrid lock -help\" for the options.",
		},
		"option after name": {
			args: []string{"-upgrade", "examples", "-no-color"},
			want: &lockArgs{Upgrade: true, NoColor: true, Names: []string{"examples"}},
		},
		"dash name": {
			args:    []string{"-upgrade", "--", "-examples"},
			wantErr: "invalid name \"-examples\": no name starts with a dash. Run \"hybrid lock -help\" for the options.",
		},
		"unknown option": {
			args:    []string{"-upgrad"},
			wantErr: "flag provided but not defined: -upgrad. Run \"hybrid lock -help\" for the options.",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := parseLockArgs(tc.args)
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
			if diff := cmp.Diff(tc.want, got, ignoreEnv); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
		})
	}
}
