package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/config"
)

func TestParseInitArgs(t *testing.T) {
	ignoreEnv := cmpopts.IgnoreFields(config.Inputs{}, "Environ")
	tests := map[string]struct {
		args    []string
		want    *initArgs
		wantErr string
	}{
		"none":         {args: nil, want: &initArgs{}},
		"lock timeout": {args: []string{"-lock-timeout=90s", "-no-color"}, want: &initArgs{LockTimeout: 90 * time.Second, NoColor: true}},
		"var file": {
			args: []string{"-var-file", "prod.hcl"},
			want: &initArgs{Inputs: config.Inputs{Args: []config.InputArg{{File: true, Value: "prod.hcl"}}}},
		},
		"argument": {
			args:    []string{"somewhere"},
			wantErr: `unexpected argument "somewhere": init prepares the workspace in the current directory (use -chdir=DIR). Run "hybrid init -help" for the options.`,
		},
		"negative timeout": {
			args:    []string{"-lock-timeout=-1s"},
			wantErr: `invalid value "-1s" for flag -lock-timeout: must not be negative; give how long to wait for the state lock, such as 30s or 5m, or 0 not to wait. Run "hybrid init -help" for the options.`,
		},
		"bad timeout": {
			args:    []string{"-lock-timeout=soon"},
			wantErr: `invalid value "soon" for flag -lock-timeout: not a duration; give how long to wait for the state lock, such as 30s or 5m. Run "hybrid init -help" for the options.`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := parseInitArgs(tc.args)
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

func TestEnsureDir(t *testing.T) {
	dir := t.TempDir() + "/a/b"
	created, err := ensureDir(dir)
	if err != nil || !created {
		t.Fatalf("first ensureDir = %v, %v; want true, nil", created, err)
	}
	created, err = ensureDir(dir)
	if err != nil || created {
		t.Fatalf("second ensureDir = %v, %v; want false, nil", created, err)
	}
}
