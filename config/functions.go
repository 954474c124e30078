package config

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/hybridcore/hybrid/internal/fsutil"
	"github.com/hybridcore/hybrid/internal/funcs"
	"github.com/hybridcore/hybrid/internal/hclguard"
)

// Functions returns the functions hybrid.hcl expressions may call: the cty
// standard library under Terraform's names, plus file, fileexists and
// templatefile, which read files inside the workspace root only.
//
// Every function is wrapped (hclguard.Guard.Function): a result computed
// from a sensitive value is sensitive, can() and try() included, and what a
// call may build is capped.
func Functions(root string) map[string]function.Function {
	return guardedFunctions(root, hclguard.New(hclguard.DefaultLimits))
}

// guardedFunctions is Functions charging what they build to g.
func guardedFunctions(root string, g *hclguard.Guard) map[string]function.Function {
	fs := map[string]function.Function{
		"abs":             stdlib.AbsoluteFunc,
		"can":             tryfunc.CanFunc,
		"ceil":            stdlib.CeilFunc,
		"chomp":           stdlib.ChompFunc,
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        stdlib.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"csvdecode":       stdlib.CSVDecodeFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"floor":           stdlib.FloorFunc,
		"format":          stdlib.FormatFunc,
		"formatdate":      stdlib.FormatDateFunc,
		"formatlist":      stdlib.FormatListFunc,
		"indent":          stdlib.IndentFunc,
		"join":            stdlib.JoinFunc,
		"jsondecode":      stdlib.JSONDecodeFunc,
		"jsonencode":      stdlib.JSONEncodeFunc,
		"keys":            stdlib.KeysFunc,
		"length":          funcs.Length,
		"log":             stdlib.LogFunc,
		"lookup":          stdlib.LookupFunc,
		"lower":           stdlib.LowerFunc,
		"max":             stdlib.MaxFunc,
		"merge":           stdlib.MergeFunc,
		"min":             stdlib.MinFunc,
		"parseint":        stdlib.ParseIntFunc,
		"pow":             stdlib.PowFunc,
		"range":           stdlib.RangeFunc,
		"regex":           stdlib.RegexFunc,
		"regexall":        stdlib.RegexAllFunc,
		"replace":         stdlib.ReplaceFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"signum":          stdlib.SignumFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"split":           stdlib.SplitFunc,
		"strrev":          stdlib.ReverseFunc,
		"substr":          stdlib.SubstrFunc,
		"timeadd":         stdlib.TimeAddFunc,
		"title":           stdlib.TitleFunc,
		"tobool":          stdlib.MakeToFunc(cty.Bool),
		"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":        stdlib.MakeToFunc(cty.Number),
		"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":        stdlib.MakeToFunc(cty.String),
		"trim":            stdlib.TrimFunc,
		"trimprefix":      stdlib.TrimPrefixFunc,
		"trimspace":       stdlib.TrimSpaceFunc,
		"trimsuffix":      stdlib.TrimSuffixFunc,
		"try":             tryfunc.TryFunc,
		"upper":           stdlib.UpperFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,
	}
	fs["file"] = fileFunc(root)
	fs["fileexists"] = fileExistsFunc(root)
	fs = g.Functions(fs)
	// templatefile may not call itself, which would allow unbounded
	// recursion: its templates get the other functions.
	fs["templatefile"] = g.Function("templatefile", templateFileFunc(root, maps.Clone(fs), g))
	return fs
}

// resolveInRoot turns a workspace-relative path into an absolute one and
// checks that it, and whatever its symlinks lead to, stays inside root.
func resolveInRoot(root, p string) (string, error) {
	if filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q must be relative to the workspace", p)
	}
	abs := filepath.Join(root, filepath.FromSlash(p))
	if !fsutil.Within(root, abs) {
		return "", fmt.Errorf("path %q leads outside the workspace", p)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if os.IsNotExist(err) {
			return abs, err
		}
		return "", err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	if !fsutil.Within(realRoot, real) {
		return "", fmt.Errorf("path %q resolves through a symlink to %s, outside the workspace", p, real)
	}
	return real, nil
}

func fileFunc(root string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if _, err := resolveInRoot(root, args[0].AsString()); err != nil {
				return cty.UnknownVal(cty.String), err
			}
			// Read through os.Root, like every workspace file.
			b, err := readWorkspaceFile(root, args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.String), fmt.Errorf("read %s: %w", args[0].AsString(), unwrapPathError(err))
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

func fileExistsFunc(root string) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p, err := resolveInRoot(root, args[0].AsString())
			if os.IsNotExist(err) {
				return cty.False, nil
			}
			if err != nil {
				return cty.UnknownVal(cty.Bool), err
			}
			fi, err := os.Stat(p)
			return cty.BoolVal(err == nil && fi.Mode().IsRegular()), nil
		},
	})
}

// templateFileFunc renders a template file with funcs, its templates
// checked and instrumented by g like hybrid.hcl itself.
func templateFileFunc(root string, funcs map[string]function.Function, g *hclguard.Guard) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "path", Type: cty.String},
			{Name: "vars", Type: cty.DynamicPseudoType, AllowMarked: true},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if _, err := resolveInRoot(root, name); err != nil {
				return cty.UnknownVal(cty.String), err
			}
			// Read through os.Root, like every workspace file.
			src, err := readWorkspaceFile(root, name)
			if err != nil {
				return cty.UnknownVal(cty.String), fmt.Errorf("read %s: %w", name, unwrapPathError(err))
			}
			start := hcl.Pos{Line: 1, Column: 1}
			if diags := hclguard.CheckTemplate(src, path.Clean(name), start); diags.HasErrors() {
				return cty.UnknownVal(cty.String), diags
			}
			expr, diags := hclsyntax.ParseTemplate(src, path.Clean(name), start)
			if diags.HasErrors() {
				return cty.UnknownVal(cty.String), diags
			}
			g.Instrument(expr)
			vars, marks := args[1].Unmark()
			if !vars.Type().IsObjectType() && !vars.Type().IsMapType() {
				return cty.UnknownVal(cty.String), fmt.Errorf("templatefile vars must be an object")
			}
			ctxVars := map[string]cty.Value{}
			if !vars.IsNull() {
				for it := vars.ElementIterator(); it.Next(); {
					k, v := it.Element()
					ctxVars[k.AsString()] = v
				}
			}
			out, diags := expr.Value(&hcl.EvalContext{Variables: ctxVars, Functions: funcs})
			if diags.HasErrors() {
				return cty.UnknownVal(cty.String), diags
			}
			// A template that is one interpolation gives its value as it
			// is; the result must be a string all the same.
			out, marks2 := out.UnmarkDeep()
			str, err := convert.Convert(out, cty.String)
			if err != nil {
				return cty.UnknownVal(cty.String), fmt.Errorf("%s does not render to a string: %v", name, err)
			}
			return str.WithMarks(marks, marks2), nil
		},
	})
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
