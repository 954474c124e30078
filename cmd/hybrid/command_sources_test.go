package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/sources"
)

func TestParseSourcesSyncArgs(t *testing.T) {
	ignoreEnv := cmpopts.IgnoreFields(config.Inputs{}, "Environ")
	tests := map[string]struct {
		args    []string
		want    *sourcesSyncArgs
		wantErr string
	}{
		"all":   {args: nil, want: &sourcesSyncArgs{}},
		"names": {args: []string{"tools", "examples", "tools"}, want: &sourcesSyncArgs{Names: []string{"tools", "examples"}}},
		"options": {
			args: []string{"-lock-timeout", "5m", "-no-color", "-var", "x=1", "examples"},
			want: &sourcesSyncArgs{LockTimeout: 5 * time.Minute, NoColor: true, Names: []string{"examples"},
				Inputs: config.Inputs{Args: []config.InputArg{{Value: "x=1"}}}},
		},
		"option after name": {
			args: []string{"examples", "-lock-timeout=1s"},
			want: &sourcesSyncArgs{LockTimeout: time.Second, Names: []string{"examples"}},
		},
		"negative timeout": {
			args:    []string{"-lock-timeout=-5s"},
			wantErr: `invalid value "-5s" for flag -lock-timeout: must not be negative; give how long to wait for the state lock, such as 30s or 5m, or 0 not to wait. Run "hybrid sources sync -help" for the options.`,
		},
		"empty name": {
			args:    []string{""},
			wantErr: `empty name. Run "hybrid sources sync -help" for the options.`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := parseSourcesSyncArgs(tc.args)
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

func TestSyncLine(t *testing.T) {
	const a, b = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d", "4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e"
	tests := map[string]struct {
		res  sources.SyncResult
		ref  string
		want string
	}{
		"cloned branch": {
			res:  sources.SyncResult{Dir: "sources/examples", Kind: sources.KindBranch, Action: sources.ActionCloned, Commit: a},
			ref:  "main",
			want: "Checked out sources/examples at 1a2b3c4d5e6f (branch main)",
		},
		"updated tag": {
			res:  sources.SyncResult{Dir: "sources/examples", Kind: sources.KindTag, Action: sources.ActionUpdated, From: a, Commit: b},
			ref:  "v1.2",
			want: "Moved sources/examples from 1a2b3c4d5e6f to 4d5e6f7a8b9c (tag v1.2)",
		},
		"unchanged commit": {
			res:  sources.SyncResult{Dir: "sources/x", Kind: sources.KindCommit, Action: sources.ActionUnchanged, From: b, Commit: b},
			ref:  b,
			want: "sources/x is already at 4d5e6f7a8b9c (commit)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, syncLine(&tc.res, tc.ref)); diff != "" {
				t.Errorf("wrong line (-want +got):\n%s", diff)
			}
		})
	}
}
