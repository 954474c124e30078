package packer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	envBin := filepath.Join(dir, "env", "packer")
	pinned := filepath.Join(dir, "tools", "packer")
	pinned2 := filepath.Join(dir, "tools2", "packer")
	onPath := filepath.Join(dir, "path", "packer")
	plain := filepath.Join(dir, "plain", "packer")
	for _, p := range []string{envBin, pinned, pinned2, onPath} {
		writeFile(t, p, "#!/bin/sh\n", 0o755)
	}
	writeFile(t, plain, "not executable", 0o644)
	missing := filepath.Join(dir, "missing", "packer")

	tests := map[string]struct {
		env     string
		pinned  []string
		path    string
		want    string
		wantErr string
	}{
		"HYBRID_PACKER wins": {
			env: envBin, pinned: []string{pinned}, path: filepath.Dir(onPath), want: envBin,
		},
		"HYBRID_PACKER missing is an error, not a fallback": {
			env: missing, pinned: []string{pinned}, wantErr: "HYBRID_PACKER=" + missing + ": no such file",
		},
		"HYBRID_PACKER not executable": {
			env: plain, wantErr: "HYBRID_PACKER=" + plain + ": not executable",
		},
		"HYBRID_PACKER a directory": {
			env: dir, wantErr: "is a directory",
		},
		"first usable pinned": {
			pinned: []string{"", missing, plain, pinned2, pinned}, path: filepath.Dir(onPath), want: pinned2,
		},
		"PATH last": {
			pinned: []string{missing}, path: filepath.Dir(onPath), want: onPath,
		},
		"nowhere": {
			pinned: []string{missing}, path: filepath.Join(dir, "empty"), wantErr: ErrNotFound.Error(),
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv(EnvPacker, tt.env)
			t.Setenv("PATH", tt.path)
			got, err := Find(FindOptions{Pinned: tt.pinned})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Find error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong binary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindRelativeBecomesAbsolute(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bin", "packer"), "#!/bin/sh\n", 0o755)
	t.Chdir(dir)
	got, err := Find(FindOptions{
		Getenv:   func(string) string { return "" },
		Pinned:   []string{filepath.Join("bin", "packer")},
		LookPath: func(string) (string, error) { return "", errors.New("unused") },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "bin", "packer")
	if real, err := filepath.EvalSymlinks(dir); err == nil && !strings.HasPrefix(got, dir) {
		want = filepath.Join(real, "bin", "packer")
	}
	if got != want {
		t.Errorf("Find = %q, want %q", got, want)
	}
	if _, err := os.Stat(got); err != nil {
		t.Error(err)
	}
}
