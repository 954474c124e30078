package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseForceUnlockArgs(t *testing.T) {
	tests := map[string]struct {
		args    []string
		want    *forceUnlockArgs
		wantErr string
	}{
		"id":    {args: []string{"6f1d2c3b"}, want: &forceUnlockArgs{LockID: "6f1d2c3b"}},
		"force": {args: []string{"-force", "6f1d2c3b"}, want: &forceUnlockArgs{LockID: "6f1d2c3b", Force: true}},
		"missing": {
			args:    []string{"-force"},
			wantErr: `missing LOCK_ID: hybrid force-unlock LOCK_ID (the ID is in the "state is locked" error). Run "hybrid force-unlock -help" for the options.`,
		},
		"two": {
			args:    []string{"a", "b"},
			wantErr: `unexpected argument "b": force-unlock takes one lock ID. Run "hybrid force-unlock -help" for the options.`,
		},
		"blank": {
			args:    []string{" "},
			wantErr: `invalid lock ID " ". Run "hybrid force-unlock -help" for the options.`,
		},
		"dash after terminator": {
			args:    []string{"--", "-force"},
			wantErr: `invalid lock ID "-force". Run "hybrid force-unlock -help" for the options.`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := parseForceUnlockArgs(tc.args)
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

// TestForceUnlockConfirm answers the confirmation prompt on a terminal:
// only "yes" removes the lock.
func TestForceUnlockConfirm(t *testing.T) {
	const id = "6f1d2c3b-0000-4000-8000-000000000001"
	const info = `{"id": "` + id + `", "operation": "apply", "who": "ci@runner", "created": "2024-05-06T07:08:09Z", "pid": 4242}`
	tests := map[string]struct {
		answer   string
		wantCode int
		wantLock bool
		wantOut  string
	}{
		"yes":   {answer: "yes\n", wantCode: 0, wantLock: false, wantOut: "The state has been unlocked."},
		"no":    {answer: "no\n", wantCode: 1, wantLock: true, wantOut: "force-unlock cancelled: the lock is left in place."},
		"y":     {answer: "y\n", wantCode: 1, wantLock: true, wantOut: "force-unlock cancelled"},
		"empty": {answer: "", wantCode: 1, wantLock: true, wantOut: "force-unlock cancelled"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			infoPath := filepath.Join(dir, "state", "packer-hybrid.json.lock.info")
			if err := os.MkdirAll(filepath.Dir(infoPath), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "hybrid.hcl"), []byte("environment \"dev\" {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(infoPath, []byte(info), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			var out, errOut bytes.Buffer
			s := streams{In: strings.NewReader(tc.answer), Out: &out, Err: &errOut, InTTY: true}
			code := (&forceUnlockCommand{s: s}).Run([]string{id})
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, errOut.String())
			}
			for _, want := range []string{"Do you really want to force-unlock?", "held by ci@runner (hybrid apply, pid 4242) since 2024-05-06T07:08:09Z", "Only 'yes' will be accepted", tc.wantOut} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			_, err := os.Stat(infoPath)
			if got := err == nil; got != tc.wantLock {
				t.Errorf("lock info present = %v, want %v", got, tc.wantLock)
			}
		})
	}
}
