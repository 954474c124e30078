package layers

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/hybridcore/hybrid/"

// layer of each top-level package, from DESIGN.md: graph, logs -> config,
// state, lock -> sources, templates, provisioners, packer -> plan -> apply
// -> cmd/hybrid. Packages under internal/ are helpers any layer may use.
// docs/schema, the JSON Schemas of the machine-readable output, imports
// nothing of hybrid's.
var layer = map[string]int{
	"graph": 0, "logs": 0, "docs/schema": 0,
	"config": 1, "state": 1, "lock": 1,
	"sources": 2, "templates": 2, "provisioners": 2, "packer": 2,
	"plan":       3,
	"apply":      4,
	"cmd/hybrid": 5,
}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "tools" || name == "examples") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		if strings.HasPrefix(pkg, "internal/") {
			return nil
		}
		own, ok := topLevel(pkg)
		if !ok {
			t.Errorf("package %s is in no layer: add it to the layer table (and to DESIGN.md's)", pkg)
			return nil
		}
		seen[own] = true
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(path, module) {
				continue
			}
			dep := strings.TrimPrefix(path, module)
			if strings.HasPrefix(dep, "internal/") {
				continue
			}
			target, ok := topLevel(dep)
			if !ok {
				t.Errorf("%s imports %s, which is in no layer", rel, dep)
				continue
			}
			if target == own {
				continue
			}
			if layer[target] >= layer[own] {
				t.Errorf("%s (layer %d) imports %s (layer %d): a package may only import lower layers", filepath.Join(rel, filepath.Base(p)), layer[own], target, layer[target])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for pkg := range layer {
		if !seen[pkg] {
			missing = append(missing, pkg)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("packages in the layer table but not in the tree: %v", missing)
	}
}

// topLevel maps a package path to the layer-table entry that owns it.
func topLevel(pkg string) (string, bool) {
	for p := range layer {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return p, true
		}
	}
	return "", false
}
