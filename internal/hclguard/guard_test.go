package hclguard

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

const secret = "Summer2024!"

// evalCtx is a context whose var.secret, var.creds.pass and var.list[1]
// are marked "sensitive", with wrapped functions.
func evalCtx(g *Guard) *hcl.EvalContext {
	s := cty.StringVal(secret).Mark("sensitive")
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{
			"secret": s,
			"creds":  cty.ObjectVal(map[string]cty.Value{"user": cty.StringVal("admin"), "pass": cty.StringVal(secret)}).Mark("sensitive"),
			"list":   cty.TupleVal([]cty.Value{cty.StringVal("a"), s}),
			"plain":  cty.StringVal("plain"),
		}),
			"local": cty.ObjectVal(map[string]cty.Value{"part": cty.StringVal(strings.Repeat("abcdefghij", 30_000))}),
		},
		Functions: g.Functions(map[string]function.Function{
			"can": tryfunc.CanFunc, "try": tryfunc.TryFunc,
			"regex": stdlib.RegexFunc, "length": stdlib.LengthFunc, "keys": stdlib.KeysFunc,
			"contains": stdlib.ContainsFunc, "upper": stdlib.UpperFunc, "substr": stdlib.SubstrFunc,
			"jsonencode": stdlib.JSONEncodeFunc, "tonumber": stdlib.MakeToFunc(cty.Number),
			"format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc, "join": stdlib.JoinFunc,
			"replace": stdlib.ReplaceFunc, "indent": stdlib.IndentFunc, "setproduct": stdlib.SetProductFunc,
			"range": stdlib.RangeFunc, "element": stdlib.ElementFunc, "lookup": stdlib.LookupFunc,
			"split": stdlib.SplitFunc, "pow": stdlib.PowFunc,
		}),
	}
}

func eval(t *testing.T, g *Guard, src string) (cty.Value, hcl.Diagnostics) {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "e.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse %s: %s", src, diags.Error())
	}
	g.Instrument(expr)
	g.Reset()
	return expr.Value(evalCtx(g))
}

// TestMarksCannotBeLaundered evaluates expressions that derive a value from
// a sensitive one and checks that each result is marked.
func TestMarksCannotBeLaundered(t *testing.T) {
	exprs := []string{
		`can(regex("^S", var.secret))`,
		`can(regex("^x", var.secret))`,
		`try(regex("^S", var.secret), "no")`,
		`try(tonumber(var.secret), "not a number")`,
		`can(var.creds.pass)`,
		`can(var.creds.missing)`,
		`var.secret == "x" ? "yes" : "no"`,
		`[for c in split("", "abc"): c if var.secret != ""]`,
		`[for x in var.list: x]`,
		`{for k, v in var.creds: k => 1}`,
		`length(split("", var.secret))`,
		`length(var.list)`,
		`keys(var.creds)`,
		`contains(var.list, "a")`,
		`upper(substr(var.secret, 0, 1))`,
		`"${var.secret}"`,
		`"%{if var.secret == "x"}a%{endif}"`,
		`var.creds.pass`,
		`jsonencode(var.list)`,
		`lookup({a = 1}, var.secret, 2)`,
		`element(["a", "b"], length(split("", var.secret)))`,
		`[for c in ["S", "x"]: can(regex("^${c}", var.secret))]`,
	}
	g := New(DefaultLimits)
	for _, src := range exprs {
		v, diags := eval(t, g, src)
		if diags.HasErrors() {
			t.Errorf("%s: %s", src, diags.Error())
			continue
		}
		if !v.ContainsMarked() {
			t.Errorf("%s = %#v carries no mark", src, v)
		}
	}
	// What does not touch a secret stays unmarked.
	for _, src := range []string{`can(regex("^p", var.plain))`, `length(split("", var.plain))`, `upper(var.list[0])`, `try(var.plain, "x")`} {
		v, diags := eval(t, g, src)
		if diags.HasErrors() || v.ContainsMarked() {
			t.Errorf("%s = %#v (%s), want an unmarked value", src, v, diags.Error())
		}
	}
	t.Logf("%d laundering expressions, all marked", len(exprs))
}

func TestErrorsDoNotQuoteSecrets(t *testing.T) {
	g := New(DefaultLimits)
	for _, src := range []string{`tonumber(var.secret)`, `regex("(", var.secret)`, `try(tonumber(var.secret))`, `format("%d", var.secret)`} {
		_, diags := eval(t, g, src)
		if !diags.HasErrors() {
			t.Errorf("%s: no error", src)
		}
		if text := diags.Error(); strings.Contains(text, secret) || strings.Contains(text, "Summer") {
			t.Errorf("%s: error quotes the secret: %s", src, text)
		}
	}
}

// TestLimits evaluates expressions that build huge values from small
// inputs; each must fail fast with a clear error.
func TestLimits(t *testing.T) {
	exprs := map[string]string{
		"format width":       `format("%999999999s", "a")`,
		"format precision":   `format("%.999999999f", 1)`,
		"format repeated":    `format("${join("", [for i in range(40): "%[1]s"])}", join("", [for i in range(1000): "0123456789abcdefghijklmnopqrstuvwxyz"]))`,
		"formatlist width":   `formatlist("%99999s", range(100))`,
		"indent":             `indent(999999999, "a\nb")`,
		"join":               `join(join("", [for i in range(1000): "0123456789abcdefghijklmnopqrstuvwxyz"]), range(1000))`,
		"replace":            `replace(join("", [for i in range(1000): "aaaaaaaaaa"]), "a", join("", [for i in range(1000): "bbbbbbbbbb"]))`,
		"setproduct":         `setproduct(range(100), range(100), range(100))`,
		"nested for":         `[for i in range(1000): [for j in range(1000): [for k in range(1000): k]]]`,
		"template parts":     `[for i in range(1000): "${join("", [for j in range(1000): "abcdefghij"])}${i}"]`,
		"long template":      `"${local.part}` + strings.Repeat(`${local.part}`, 200) + `"`,
		"string doubling in": `[for i in range(30): join("", [for j in range(pow(2, i)): "x"])]`,
	}
	g := New(DefaultLimits)
	for name, src := range exprs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, diags := eval(t, g, src)
			took := time.Since(start)
			if !diags.HasErrors() {
				t.Fatalf("no error")
			}
			text := diags.Error()
			if !strings.Contains(text, "more than hybrid allows") && !strings.Contains(text, "Value too large") && !strings.Contains(text, "more than 1024 values") {
				t.Errorf("error does not say a limit was hit: %s", text)
			}
			t.Logf("refused in %v: %s", took, diags[0].Detail)
		})
	}
}

// TestInstrumentKeepsMeaning checks that instrumented expressions give the
// values and references they gave before.
func TestInstrumentKeepsMeaning(t *testing.T) {
	srcs := []string{
		`[for x in var.list: upper(x) if x != ""]`,
		`{for k, v in var.creds: k => "${v}-${k}"}`,
		`"a ${var.plain} %{for x in var.list}${x},%{endfor} b"`,
		`[for x in [for y in range(3): y * 2]: x + 1]`,
	}
	g := New(DefaultLimits)
	for _, src := range srcs {
		plain, _ := hclsyntax.ParseExpression([]byte(src), "e.hcl", hcl.InitialPos)
		guarded, _ := hclsyntax.ParseExpression([]byte(src), "e.hcl", hcl.InitialPos)
		g.Instrument(guarded)
		g.Instrument(guarded) // twice is the same as once
		ctx := evalCtx(g)
		want, wd := plain.Value(ctx)
		g.Reset()
		got, gd := guarded.Value(ctx)
		if wd.HasErrors() || gd.HasErrors() || !got.RawEquals(want) {
			t.Errorf("%s: got %#v (%v), want %#v (%v)", src, got, gd, want, wd)
		}
		if a, b := fmt.Sprint(traversals(plain)), fmt.Sprint(traversals(guarded)); a != b {
			t.Errorf("%s: references %s, want %s", src, b, a)
		}
	}
}

func traversals(e hcl.Expression) []string {
	var out []string
	for _, tr := range e.Variables() {
		out = append(out, fmt.Sprintf("%s@%s", tr.RootName(), tr.SourceRange()))
	}
	return out
}

func TestLimitsCheck(t *testing.T) {
	l := DefaultLimits
	tests := map[string]cty.Value{
		"long string": cty.StringVal(strings.Repeat("x", l.MaxString+1)),
		"digits":      cty.StringVal("v" + strings.Repeat("7", l.MaxDigits+1)),
		"deep":        deepList(l.MaxDepth + 2),
		"weight":      cty.TupleVal(repeatVal(cty.StringVal(strings.Repeat("x", 1<<20)), 20)),
		"number":      cty.MustParseNumberVal("1e30000"),
		"elements":    cty.TupleVal(repeatVal(cty.True, l.MaxElements+1)),
	}
	for name, v := range tests {
		if err := l.Check(v.Mark("sensitive")); err == nil {
			t.Errorf("%s: accepted", name)
		} else if _, ok := err.(*LimitError); !ok {
			t.Errorf("%s: %T %v", name, err, err)
		}
	}
	if err := l.Check(cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x"), "b": deepList(10)})); err != nil {
		t.Errorf("small value refused: %v", err)
	}
}

func deepList(n int) cty.Value {
	v := cty.True
	for range n {
		v = cty.TupleVal([]cty.Value{v})
	}
	return v
}

func repeatVal(v cty.Value, n int) []cty.Value {
	out := make([]cty.Value, n)
	for i := range out {
		out[i] = v
	}
	return out
}
