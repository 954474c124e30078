package templates

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/hybridcore/hybrid/internal/hclguard"
)

// functions returns packer's functions for this evaluation: the pure ones,
// and file functions that read through the scope's Files and record each
// path they read as an input of the build.
func (e *evaluator) functions() map[string]function.Function {
	fs := make(map[string]function.Function, len(pureFunctions)+16)
	for k, f := range pureFunctions {
		fs[k] = f
	}
	fs["abspath"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(e.cwd, p)
			}
			return cty.StringVal(filepath.ToSlash(filepath.Clean(p))), nil
		},
	})
	fs["pathexpand"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if p == "~" || strings.HasPrefix(p, "~/") {
				home, err := os.UserHomeDir()
				if err != nil {
					return cty.UnknownVal(cty.String), nil
				}
				p = filepath.Join(home, p[1:])
			}
			return cty.StringVal(p), nil
		},
	})
	fs["file"] = e.readFunc("file", cty.String, func(b []byte) cty.Value { return cty.StringVal(string(b)) })
	fs["filebase64"] = e.readFunc("filebase64", cty.String, func(b []byte) cty.Value {
		return cty.StringVal(base64.StdEncoding.EncodeToString(b))
	})
	for name, h := range map[string]func() hash.Hash{"filemd5": md5.New, "filesha1": sha1.New, "filesha256": sha256.New, "filesha512": sha512.New} {
		fs[name] = e.readFunc(name, cty.String, digestWith(h, hex.EncodeToString))
	}
	fs["filebase64sha256"] = e.readFunc("filebase64sha256", cty.String, digestWith(sha256.New, base64.StdEncoding.EncodeToString))
	fs["filebase64sha512"] = e.readFunc("filebase64sha512", cty.String, digestWith(sha512.New, base64.StdEncoding.EncodeToString))
	fs["fileexists"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String, AllowUnknown: true, AllowMarked: true}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			rel, ok := e.readPath("fileexists", args[0])
			if !ok {
				return cty.UnknownVal(cty.Bool), nil
			}
			fi, err := e.s.Files.Stat(rel)
			return cty.BoolVal(err == nil && fi.Mode().IsRegular()), nil
		},
	})
	fs["fileset"] = function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "path", Type: cty.String, AllowUnknown: true, AllowMarked: true},
			{Name: "pattern", Type: cty.String, AllowUnknown: true, AllowMarked: true},
		},
		Type: function.StaticReturnType(cty.Set(cty.String)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return e.fileset(args[0], args[1]), nil
		},
	})
	fs["templatefile"] = function.New(&function.Spec{
		Params: []function.Parameter{
			{Name: "path", Type: cty.String, AllowUnknown: true, AllowMarked: true},
			{Name: "vars", Type: cty.DynamicPseudoType, AllowUnknown: true, AllowMarked: true, AllowNull: true},
		},
		Type: function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return e.templatefile(args[0], args[1], fs)
		},
	})
	// Every result of a call that takes a sensitive value is sensitive
	// (can and try included), and what calls build counts against the
	// evaluation's budget.
	return e.t.guard.Functions(fs)
}

func digestWith(h func() hash.Hash, enc func([]byte) string) func([]byte) cty.Value {
	return func(b []byte) cty.Value {
		s := h()
		s.Write(b)
		return cty.StringVal(enc(s.Sum(nil)))
	}
}

// readFunc is a function of one path that reads the file and turns its
// bytes into a value. A path that cannot be known or read gives an
// unknown value, not an error: packer may well read it when it runs, and
// the plan must go on.
func (e *evaluator) readFunc(name string, ty cty.Type, conv func([]byte) cty.Value) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String, AllowUnknown: true, AllowMarked: true}},
		Type:   function.StaticReturnType(ty),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			rel, ok := e.readPath(name, args[0])
			if !ok {
				return cty.UnknownVal(ty), nil
			}
			b, err := e.s.Files.ReadFile(rel)
			if err != nil {
				return cty.UnknownVal(ty), nil
			}
			_, marks := args[0].Unmark()
			return conv(b).WithMarks(marks), nil
		},
	})
}

// readPath resolves the path argument of a file function and records it as
// an input; ok is false when there is nothing to read (unknown, sensitive,
// outside the workspace or in git metadata), each of which it records.
func (e *evaluator) readPath(fn string, arg cty.Value) (string, bool) {
	what := fmt.Sprintf("%s() in %s", fn, e.where)
	if !arg.IsKnown() {
		e.widen(fmt.Sprintf("%s reads a path not known before the build", what))
		return "", false
	}
	if arg.IsMarked() {
		e.widen(fmt.Sprintf("%s reads a path derived from a sensitive value", what))
		return "", false
	}
	if arg.IsNull() {
		return "", false
	}
	p := arg.AsString()
	rel, ok := e.resolveFunc(p)
	switch {
	case !ok:
		e.ev.Untracked = append(e.ev.Untracked, Read{What: fmt.Sprintf("%s %q", what, p), Range: e.rng})
		return "", false
	case readsGit(rel):
		e.ev.GitReads = append(e.ev.GitReads, Read{What: fmt.Sprintf("%s %q", what, p), Range: e.rng})
		return "", false
	}
	e.addInput(rel, InputPath, what)
	e.observe("file", rel)
	return rel, true
}

// templatefile renders a template file as packer does, with vars as its
// variables and every function but templatefile itself.
func (e *evaluator) templatefile(pathArg, vars cty.Value, funcs map[string]function.Function) (cty.Value, error) {
	rel, ok := e.readPath("templatefile", pathArg)
	if !ok {
		return cty.UnknownVal(cty.String), nil
	}
	src, err := e.s.Files.ReadFile(rel)
	if err != nil {
		return cty.UnknownVal(cty.String), nil
	}
	if diags := hclguard.CheckTemplate(src, rel, hcl.Pos{Line: 1, Column: 1}); diags.HasErrors() {
		return cty.UnknownVal(cty.String), nil
	}
	expr, diags := hclsyntax.ParseTemplate(src, rel, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return cty.UnknownVal(cty.String), nil
	}
	e.t.guard.Instrument(expr)
	vars, marks := vars.Unmark()
	ctxVars := map[string]cty.Value{}
	if !vars.IsKnown() {
		return cty.UnknownVal(cty.String), nil
	}
	if !vars.IsNull() && (vars.Type().IsObjectType() || vars.Type().IsMapType()) {
		for it := vars.ElementIterator(); it.Next(); {
			k, v := it.Element()
			ctxVars[k.AsString()] = v
		}
	}
	inner := make(map[string]function.Function, len(funcs))
	for k, f := range funcs {
		if k != "templatefile" {
			inner[k] = f
		}
	}
	// Files the template reads are inputs too; they are reported as read
	// by the expression that called templatefile.
	out, diags := expr.Value(&hcl.EvalContext{Variables: ctxVars, Functions: inner})
	if diags.HasErrors() {
		return cty.UnknownVal(cty.String), nil
	}
	return out.WithMarks(marks), nil
}

// fileset lists the files under base matching pattern, as packer's
// fileset does, and records the pattern as an input glob.
func (e *evaluator) fileset(baseArg, patternArg cty.Value) cty.Value {
	what := fmt.Sprintf("fileset() in %s", e.where)
	if !baseArg.IsKnown() || !patternArg.IsKnown() {
		e.widen(what + " lists a path not known before the build")
		return cty.UnknownVal(cty.Set(cty.String))
	}
	if baseArg.IsMarked() || patternArg.IsMarked() {
		e.widen(what + " lists a path derived from a sensitive value")
		return cty.UnknownVal(cty.Set(cty.String))
	}
	base, pattern := baseArg.AsString(), patternArg.AsString()
	rel, ok := e.resolveFunc(base)
	switch {
	case !ok:
		e.ev.Untracked = append(e.ev.Untracked, Read{What: fmt.Sprintf("%s %q", what, base), Range: e.rng})
		return cty.UnknownVal(cty.Set(cty.String))
	case readsGit(rel):
		e.ev.GitReads = append(e.ev.GitReads, Read{What: fmt.Sprintf("%s %q", what, base), Range: e.rng})
		return cty.UnknownVal(cty.Set(cty.String))
	}
	e.addInput(path.Join(rel, pattern), InputGlob, what)
	e.observe("glob", path.Join(rel, pattern))
	var matches []cty.Value
	for _, f := range listFiles(e.s.Files, rel) {
		if MatchGlob(pattern, f) {
			matches = append(matches, cty.StringVal(f))
		}
	}
	if len(matches) == 0 {
		return cty.SetValEmpty(cty.String)
	}
	return cty.SetVal(matches)
}

// maxListed bounds how many files fileset looks at, so a hostile template
// cannot make a plan walk forever.
const maxListed = 100_000

// listFiles returns the regular files under dir, relative to it, sorted.
func listFiles(files Files, dir string) []string {
	var out []string
	var walk func(rel string)
	walk = func(rel string) {
		entries, err := files.ReadDir(joinPath(dir, rel))
		if err != nil {
			return
		}
		for _, en := range entries {
			if len(out) >= maxListed {
				return
			}
			name := joinPath(rel, en.Name())
			switch {
			case en.IsDir():
				if en.Name() != ".git" {
					walk(name)
				}
			case en.Type().IsRegular():
				out = append(out, name)
			case en.Type()&fs.ModeSymlink != 0:
				if fi, err := files.Stat(joinPath(dir, name)); err == nil && fi.Mode().IsRegular() {
					out = append(out, name)
				}
			}
		}
	}
	walk("")
	sort.Strings(out)
	return out
}

// MatchGlob matches a slash path against a glob in which ** stands for any
// number of path segments, as packer's fileset and hybrid's input globs
// read them.
func MatchGlob(pattern, name string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
