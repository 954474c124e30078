package packer

import (
	"os"
	"path/filepath"
	"testing"
)

// pinnedForTests is the repository's pinned packer, seen from this
// package's directory.
var pinnedForTests = filepath.Join("..", ".tools", "bin", "packer")

// packerBin returns the real packer binary to test against: HYBRID_PACKER,
// then the repository's pinned tool, then PATH. Without one the test fails
// under CI=true and is skipped otherwise.
func packerBin(t *testing.T) string {
	t.Helper()
	bin, err := Find(FindOptions{Pinned: []string{pinnedForTests}})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("this test needs packer: %v", err)
		}
		t.Skipf("this test needs packer: %v", err)
	}
	return bin
}

// templateDir returns the absolute path of a template under
// testdata/templates.
func templateDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "templates", name))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes a test input file.
func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}
