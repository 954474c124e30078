package packer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpandDirs(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"output/dev", "output/prod/deep/deeper/deepest", ".git/objects", "state", "templates"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got := expandDirs([]string{root}, 3, []string{filepath.Join(root, "state")})
	for i := range got {
		got[i], _ = filepath.Rel(root, got[i])
	}
	want := []string{".", "output", "templates", "output/dev", "output/prod", "output/prod/deep"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("expandDirs (-want +got):\n%s", diff)
	}
	if got := expandDirs([]string{root}, 0, nil); len(got) != 1 {
		t.Errorf("depth 0 searched %v, want only the root", got)
	}
}
