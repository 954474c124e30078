package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseWorkerArgs(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	tests := map[string]struct {
		args    []string
		env     map[string]string
		want    *workerArgs
		wantErr string
	}{
		"defaults": {
			args: []string{"-name=w1"},
			want: &workerArgs{Concurrency: 1, Grace: 30 * time.Minute, RescueAfter: 2 * time.Minute, Name: "w1"},
		},
		"everything": {
			args: []string{"-name=build-01.dc1", "-concurrency=4", "-queue=windows", "-queue=vsphere-dc1", "-grace=10m", "-rescue-after=5m", "-idle-exit=2m"},
			want: &workerArgs{Concurrency: 4, Queues: []string{"windows", "vsphere-dc1"}, Grace: 10 * time.Minute, RescueAfter: 5 * time.Minute, Name: "build-01.dc1", IdleExit: 2 * time.Minute},
		},
		"rescue delay from the environment": {
			args: []string{"-name=w1"},
			env:  map[string]string{"HYBRID_WORKER_RESCUE_AFTER": "30s"},
			want: &workerArgs{Concurrency: 1, Grace: 30 * time.Minute, RescueAfter: 30 * time.Second, Name: "w1"},
		},
		"bad rescue delay in the environment": {env: map[string]string{"HYBRID_WORKER_RESCUE_AFTER": "soon"}, wantErr: "HYBRID_WORKER_RESCUE_AFTER"},
		"zero concurrency":                    {args: []string{"-concurrency=0"}, wantErr: "-concurrency must be between 1 and 256"},
		"queue name with capitals":            {args: []string{"-queue=Windows"}, wantErr: `invalid queue name "Windows"`},
		"queue name that is an option":        {args: []string{"-queue=-x"}, wantErr: `invalid queue name "-x"`},
		"worker name with a space":            {args: []string{"-name=a b"}, wantErr: "invalid worker name"},
		"rescue delay too short":              {args: []string{"-rescue-after=10ms"}, wantErr: "-rescue-after must be at least 1s"},
		"an argument":                         {args: []string{"now"}, wantErr: `unexpected argument "now"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			env = tt.env
			got, diags := parseWorkerArgs(tt.args, getenv)
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", diags, tt.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseApplyDistributed(t *testing.T) {
	a, diags := parseApplyArgs([]string{"-distributed", "-auto-approve"})
	if diags.HasErrors() || !a.Distributed {
		t.Fatalf("-distributed: %+v %v", a, diags)
	}
	for _, args := range [][]string{
		{"-distributed", "-auto-approve", "-var", "x=1"},
		{"-distributed", "-auto-approve", "-var-file=x.pkrvars.hcl"},
	} {
		if _, diags := parseApplyArgs(args); !diags.HasErrors() || !strings.Contains(diags.Error(), "cannot be used with -distributed") {
			t.Errorf("%v: %v, want an error", args, diags)
		}
	}
}
