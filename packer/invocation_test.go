package packer

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArgs(t *testing.T) {
	tests := map[string]struct {
		inv  Invocation
		cmd  string
		want []string
	}{
		"build": {
			inv: Invocation{
				Template: "builds/linux/ubuntu/22-04-lts",
				Only:     []string{"vsphere-iso.linux-ubuntu"},
				VarFiles: []string{"configs/dev/vsphere.pkrvars.hcl", "configs/dev/ubuntu.pkrvars.hcl"},
				Vars:     map[string]string{"password": "hunter2"},
			},
			cmd: "build",
			want: []string{
				"build", "-machine-readable", "-color=false",
				"-only=vsphere-iso.linux-ubuntu",
				"-var-file=configs/dev/vsphere.pkrvars.hcl", "-var-file=configs/dev/ubuntu.pkrvars.hcl",
				"builds/linux/ubuntu/22-04-lts",
			},
		},
		"validate has no build options": {
			inv:  Invocation{Template: "t", Only: []string{"null.a", "file.b"}},
			cmd:  "validate",
			want: []string{"validate", "-only=null.a", "-only=file.b", "t"},
		},
		"empty template is the work dir": {
			inv:  Invocation{},
			cmd:  "validate",
			want: []string{"validate", "."},
		},
		"template that looks like an option": {
			inv:  Invocation{Template: "-h"},
			cmd:  "build",
			want: []string{"build", "-machine-readable", "-color=false", "./-h"},
		},
		"values that look like options stay values": {
			inv:  Invocation{Template: "/abs/t", Only: []string{"-debug"}, VarFiles: []string{"-force"}},
			cmd:  "build",
			want: []string{"build", "-machine-readable", "-color=false", "-only=-debug", "-var-file=-force", "/abs/t"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := tt.inv.Args(tt.cmd)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong args (-want +got):\n%s", diff)
			}
			for _, v := range tt.inv.Vars {
				if slices.ContainsFunc(got, func(a string) bool { return strings.Contains(a, v) }) {
					t.Errorf("sensitive value %q is on the command line %q", v, got)
				}
			}
		})
	}
}

func TestInvocationCheck(t *testing.T) {
	tests := map[string]struct {
		inv     Invocation
		wantErr string
	}{
		"ok":              {inv: Invocation{Bin: "packer", Only: []string{"null.a"}, VarFiles: []string{"a"}, Vars: map[string]string{"vm_pass-word": "x"}, Env: []string{"A=b", "C="}}},
		"no binary":       {inv: Invocation{}, wantErr: "no packer binary"},
		"empty only":      {inv: Invocation{Bin: "p", Only: []string{""}}, wantErr: "invalid -only value"},
		"comma in only":   {inv: Invocation{Bin: "p", Only: []string{"null.a,null.b"}}, wantErr: "invalid -only value"},
		"empty var file":  {inv: Invocation{Bin: "p", VarFiles: []string{""}}, wantErr: "empty var file"},
		"bad var name":    {inv: Invocation{Bin: "p", Vars: map[string]string{"a=b": "x"}}, wantErr: "invalid variable name"},
		"var name digit":  {inv: Invocation{Bin: "p", Vars: map[string]string{"1a": "x"}}, wantErr: "invalid variable name"},
		"env without =":   {inv: Invocation{Bin: "p", Env: []string{"A"}}, wantErr: "want KEY=VALUE"},
		"env without key": {inv: Invocation{Bin: "p", Env: []string{"=x"}}, wantErr: "want KEY=VALUE"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := tt.inv.check()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("check error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestEnviron(t *testing.T) {
	t.Setenv("CHECKPOINT_DISABLE", "")
	inv := Invocation{Vars: map[string]string{"b": "2", "a": "1"}, Env: []string{"PKR_VAR_a=override"}}
	env := inv.environ()
	n := len(env)
	want := []string{"CHECKPOINT_DISABLE=1", "PKR_VAR_a=1", "PKR_VAR_b=2", "PKR_VAR_a=override"}
	if n < len(want) {
		t.Fatalf("environ() = %q, too short", env)
	}
	if diff := cmp.Diff(want, env[n-len(want):]); diff != "" {
		t.Errorf("wrong environment tail (-want +got):\n%s", diff)
	}
}

func TestRedactor(t *testing.T) {
	inv := Invocation{Vars: map[string]string{"a": "s3,cr\n3t", "b": "cr", "c": ""}, Secrets: []string{"field-password-1"}}
	redact := inv.redactor()
	tests := map[string]string{
		"plain text untouched":        "nothing here",
		"raw value":                   "x s3,cr\n3t y",
		"escaped value":               `1,,ui,say,x s3%!(PACKER_COMMA)cr\n3t y`,
		"short secret never mangles":  "scream",
		"longest secret wins inside":  "s3,cr\n3t",
		"field of a sensitive object": "echo pass=field-password-1;",
		"fragment of a longer word":   "xfield-password-1x",
	}
	want := map[string]string{
		"plain text untouched":        "nothing here",
		"raw value":                   "x <sensitive> y",
		"escaped value":               "1,,ui,say,x <sensitive> y",
		"short secret never mangles":  "scream",
		"longest secret wins inside":  "<sensitive>",
		"field of a sensitive object": "echo pass=<sensitive>;",
		"fragment of a longer word":   "xfield-password-1x",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(want[name], redact(in)); diff != "" {
				t.Errorf("wrong redaction (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	tests := map[string]struct {
		writes []string
		want   []string
	}{
		"split writes":        {writes: []string{"ab", "c\nd", "e\n\nf"}, want: []string{"abc", "de", "", "f"}},
		"no final newline":    {writes: []string{"a\nb"}, want: []string{"a", "b"}},
		"long line in pieces": {writes: []string{long[:100], long[100:] + "\nz\n"}, want: []string{long[:maxLine], long[maxLine:], "z"}},
		"long unterminated":   {writes: []string{long}, want: []string{long[:maxLine], long[maxLine:]}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			w := &lineWriter{emit: func(s string) { got = append(got, s) }}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			w.flush()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong lines (-want +got):\n%s", diff)
			}
		})
	}
}
