package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseStateListArgs(t *testing.T) {
	if _, diags := parseStateListArgs(nil); diags.HasErrors() {
		t.Fatalf("unexpected error: %s", diags.Error())
	}
	a, diags := parseStateListArgs([]string{"-no-color"})
	if diags.HasErrors() || !a.NoColor {
		t.Fatalf("parseStateListArgs(-no-color) = %+v, %v", a, diags)
	}
	_, diags = parseStateListArgs([]string{"source.examples"})
	want := `unexpected argument "source.examples". Run "hybrid state list -help" for the options.`
	if !diags.HasErrors() || diags[0].Detail != want {
		t.Errorf("got %v, want error %q", diags, want)
	}
}

func TestParseStateShowArgs(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    *stateShowArgs
		wantErr string
	}{
		"address":  {args: []string{"build.prod.ubuntu"}, want: &stateShowArgs{Address: "build.prod.ubuntu"}},
		"no color": {args: []string{"-no-color", "source.examples"}, want: &stateShowArgs{Address: "source.examples", NoColor: true}},
		"missing": {
			args:    nil,
			wantErr: `missing ADDRESS: hybrid state show ADDRESS (hybrid state list prints them). Run "hybrid state show -help" for the options.`,
		},
		"two": {
			args:    []string{"source.a", "source.b"},
			wantErr: `unexpected argument "source.b": state show takes one address. Run "hybrid state show -help" for the options.`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := parseStateShowArgs(tc.args)
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

// TestWorkspaceStatePath checks that the state commands find the state
// directory from the hybrid block, even when the rest of hybrid.hcl has
// errors, but not when the hybrid block itself has one.
func TestWorkspaceStatePath(t *testing.T) {
	tests := map[string]struct {
		hcl     string
		want    string // relative to the workspace
		wantErr string
	}{
		"default": {
			hcl:  "environment \"dev\" {}\n",
			want: "state/packer-hybrid.json",
		},
		"custom dir": {
			hcl:  "hybrid {\n  directories {\n    state = \"var/state\"\n  }\n}\n",
			want: "var/state/packer-hybrid.json",
		},
		"error elsewhere": {
			hcl:  "hybrid {\n  directories {\n    state = \"var/state\"\n  }\n}\nvariable \"secret\" {\n  type = string\n}\n",
			want: "var/state/packer-hybrid.json",
		},
		"error in the hybrid block": {
			hcl:     "hybrid {\n  directories {\n    state = \"/abs\"\n  }\n}\n",
			wantErr: "Absolute path not allowed",
		},
		"does not parse": {
			hcl:     "hybrid {\n",
			wantErr: "Unclosed configuration block",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "hybrid.hcl"), []byte(tc.hcl), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			store, _, diags := workspaceState(context.Background())
			if tc.wantErr != "" {
				if !diags.HasErrors() {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				if diags[0].Summary != tc.wantErr {
					t.Errorf("error %q, want %q", diags[0].Summary, tc.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("unexpected error: %s", diags.Error())
			}
			got := store.local.Path()
			real, _ := filepath.EvalSymlinks(dir)
			rel, err := filepath.Rel(real, got)
			if err != nil {
				rel = got
			}
			if diff := cmp.Diff(tc.want, filepath.ToSlash(rel)); diff != "" {
				t.Errorf("wrong path (-want +got):\n%s", diff)
			}
		})
	}
}
