package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ws")
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"no out", nil, 2, "Usage: wsgen -out DIR"},
		{"stray argument", []string{"-out", dir, "extra"}, 2, "Usage: wsgen -out DIR"},
		{"bad flag", []string{"-out", dir, "-images", "x"}, 2, "invalid value"},
		{"bad spec", []string{"-out", dir, "-small", "-envs", "0"}, 1, "envs is 0"},
		{"small", []string{"-out", dir, "-small", "-images", "3", "-files", "60", "-mb", "0.1"}, 0, "3 images x 2 environments"},
		{"not empty", []string{"-out", dir, "-small"}, 1, "is not empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if got := stdout.String() + stderr.String(); !strings.Contains(got, tc.out) {
				t.Errorf("output %q does not contain %q", got, tc.out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "hybrid.hcl")); err != nil {
		t.Errorf("no workspace written: %v", err)
	}
}
