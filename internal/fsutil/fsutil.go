// Package fsutil holds the path checks hybrid shares across packages:
// whether a path stays inside the workspace, and slash-separated paths
// relative to another.
package fsutil

import (
	"path/filepath"
	"strings"
)

// Within reports whether p is root or inside it; both must be clean and of
// the same kind (both absolute or both relative).
func Within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// Rel returns target relative to base, both slash-separated and relative to
// the same directory (the workspace root), with forward slashes. It
// returns target unchanged when no relative path exists.
func Rel(base, target string) string {
	r, err := filepath.Rel(filepath.FromSlash(base), filepath.FromSlash(target))
	if err != nil {
		return target
	}
	return filepath.ToSlash(r)
}
