package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// TestLockTimeoutSameEverywhere checks that every command that takes the
// state lock reads -lock-timeout the same way: durations of zero or more,
// and one message for a negative or malformed one.
func TestLockTimeoutSameEverywhere(t *testing.T) {
	parsers := map[string]func([]string) (time.Duration, hcl.Diagnostics){
		"plan": func(args []string) (time.Duration, hcl.Diagnostics) {
			a, d := parsePlanArgs(args)
			if a == nil {
				return 0, d
			}
			return a.LockTimeout, d
		},
		"apply": func(args []string) (time.Duration, hcl.Diagnostics) {
			a, d := parseApplyArgs(args)
			if a == nil {
				return 0, d
			}
			return a.LockTimeout, d
		},
		"init": func(args []string) (time.Duration, hcl.Diagnostics) {
			a, d := parseInitArgs(args)
			if a == nil {
				return 0, d
			}
			return a.LockTimeout, d
		},
		"sources sync": func(args []string) (time.Duration, hcl.Diagnostics) {
			a, d := parseSourcesSyncArgs(args)
			if a == nil {
				return 0, d
			}
			return a.LockTimeout, d
		},
	}
	tests := map[string]struct {
		arg     string
		want    time.Duration
		wantErr string
	}{
		"zero":     {arg: "-lock-timeout=0s", want: 0},
		"seconds":  {arg: "-lock-timeout=90s", want: 90 * time.Second},
		"minutes":  {arg: "-lock-timeout=5m", want: 5 * time.Minute},
		"negative": {arg: "-lock-timeout=-1s", wantErr: `invalid value "-1s" for flag -lock-timeout: must not be negative; give how long to wait for the state lock, such as 30s or 5m, or 0 not to wait. Run "hybrid %s -help" for the options.`},
		"no unit":  {arg: "-lock-timeout=5", wantErr: `invalid value "5" for flag -lock-timeout: not a duration; give how long to wait for the state lock, such as 30s or 5m. Run "hybrid %s -help" for the options.`},
	}
	for cmd, parse := range parsers {
		for name, tc := range tests {
			t.Run(cmd+"/"+name, func(t *testing.T) {
				got, diags := parse([]string{tc.arg})
				if tc.wantErr != "" {
					if !diags.HasErrors() {
						t.Fatalf("%s %s accepted, want an error", cmd, tc.arg)
					}
					want := fmt.Sprintf(tc.wantErr, cmd)
					if diff := cmp.Diff(want, diags[0].Detail); diff != "" {
						t.Errorf("wrong error (-want +got):\n%s", diff)
					}
					return
				}
				if diags.HasErrors() {
					t.Fatalf("unexpected error: %s", diags.Error())
				}
				if got != tc.want {
					t.Errorf("LockTimeout = %s, want %s", got, tc.want)
				}
			})
		}
	}
}

// TestParseFlags checks that options may come before, between and after
// positional arguments, and that "--" ends them.
func TestParseFlags(t *testing.T) {
	tests := map[string]struct {
		args     []string
		wantJSON bool
		wantEnvs []string
		wantPos  []string
		wantErr  string
	}{
		"options first":     {args: []string{"-json", "a"}, wantJSON: true, wantPos: []string{"a"}},
		"options last":      {args: []string{"a", "-json"}, wantJSON: true, wantPos: []string{"a"}},
		"interleaved":       {args: []string{"-env", "dev", "a", "-json", "b", "-env=prod"}, wantJSON: true, wantEnvs: []string{"dev", "prod"}, wantPos: []string{"a", "b"}},
		"value after arg":   {args: []string{"a", "-env", "b"}, wantEnvs: []string{"b"}, wantPos: []string{"a"}},
		"double dash":       {args: []string{"a", "--", "-json", "b"}, wantPos: []string{"a", "-json", "b"}},
		"dash alone is arg": {args: []string{"-", "-json"}, wantJSON: true, wantPos: []string{"-"}},
		"none":              {args: nil},
		"unknown after arg": {args: []string{"a", "-yaml"}, wantErr: "flag provided but not defined: -yaml"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			fs := newFlagSet("test")
			jsonOut := fs.Bool("json", false, "")
			var envs []string
			fs.Var((*stringsFlag)(&envs), "env", "")
			err := parseFlags(fs, tc.args)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *jsonOut != tc.wantJSON {
				t.Errorf("-json = %v, want %v", *jsonOut, tc.wantJSON)
			}
			if diff := cmp.Diff(tc.wantEnvs, envs); diff != "" {
				t.Errorf("wrong -env (-want +got):\n%s", diff)
			}
			got := fs.Args()
			if len(got) == 0 {
				got = nil
			}
			if diff := cmp.Diff(tc.wantPos, got); diff != "" {
				t.Errorf("wrong positional arguments (-want +got):\n%s", diff)
			}
		})
	}
}
