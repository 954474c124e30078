package hclguard

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/customdecode"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Functions returns fs with every function wrapped by Function.
func (g *Guard) Functions(fs map[string]function.Function) map[string]function.Function {
	out := make(map[string]function.Function, len(fs))
	for name, f := range fs {
		out[name] = g.Function(name, f)
	}
	return out
}

// Function wraps f, known to expressions as name, so that:
//
//   - if any argument carries a mark (such as "sensitive"), however deep in
//     it, the result carries every such mark, and an error the call returns
//     is replaced by one that does not quote the arguments. For functions
//     whose arguments are unevaluated expressions (can, try), the marks are
//     those of every variable the expressions refer to: can(regex("^S",
//     var.secret)) is as sensitive as var.secret.
//   - a call whose arguments would make it build a value over g's limits
//     (format and formatlist widths, indent, join, replace, setproduct,
//     parseint, jsondecode) fails before building it, and every result is
//     checked and charged to g's budget; once it is spent, calls return
//     unknown values without running.
func (g *Guard) Function(name string, f function.Function) function.Function {
	for _, p := range f.Params() {
		if p.Type.Equals(customdecode.ExpressionClosureType) {
			return g.closureFunction(f)
		}
	}
	if vp := f.VarParam(); vp != nil && vp.Type.Equals(customdecode.ExpressionClosureType) {
		return g.closureFunction(f)
	}
	return g.valueFunction(name, f)
}

// valueFunction wraps a function of values. An argument whose parameter
// handles marks itself (AllowMarked) is passed as it is: the function keeps
// its marks where they belong (merge keeps them on the members they came
// with). Any other is passed unmarked, and the result gets its marks. If an
// argument carries a mark and the result, however computed, carries none,
// the result gets every mark of the arguments.
func (g *Guard) valueFunction(name string, f function.Function) function.Function {
	inner := f.Params()
	innerVar := f.VarParam()
	handlesMarks := func(i int) bool {
		if i < len(inner) {
			return inner[i].AllowMarked
		}
		return innerVar != nil && innerVar.AllowMarked
	}
	// prepare returns the arguments to pass, the marks taken from them,
	// and whether any argument was marked at all.
	prepare := func(args []cty.Value) ([]cty.Value, []cty.ValueMarks, bool) {
		var taken []cty.ValueMarks
		marked := false
		call := args
		for i, a := range args {
			if !a.ContainsMarked() {
				continue
			}
			marked = true
			if handlesMarks(i) {
				continue
			}
			if len(taken) == 0 {
				call = append([]cty.Value(nil), args...)
			}
			u, m := a.UnmarkDeep()
			call[i] = u
			taken = append(taken, m)
		}
		return call, taken, marked
	}

	params := f.Params()
	for i := range params {
		params[i].AllowMarked = true
		params[i].AllowUnknown = true
		params[i].AllowDynamicType = true
	}
	var varParam *function.Parameter
	if vp := f.VarParam(); vp != nil {
		vp.AllowMarked = true
		vp.AllowUnknown = true
		vp.AllowDynamicType = true
		varParam = vp
	}
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      params,
		VarParam:    varParam,
		Type: func(args []cty.Value) (cty.Type, error) {
			call, _, _ := prepare(args)
			return f.ReturnTypeForValues(call)
		},
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			call, taken, marked := prepare(args)
			allMarks := func() []cty.ValueMarks {
				_, m := unmarkArgs(args)
				return m
			}
			if g.Spent() {
				return cty.UnknownVal(retType).WithMarks(allMarks()...), nil
			}
			plain, _ := unmarkArgs(args)
			if err := g.precheck(name, plain); err != nil {
				g.spend()
				return cty.UnknownVal(retType), fmt.Errorf("the result would be %w, more than hybrid allows in an expression", err)
			}
			v, err := f.Call(call)
			if err != nil {
				if marked {
					err = hidden(err)
				}
				return cty.UnknownVal(retType), err
			}
			if err := g.charge(v); err != nil {
				if err == errSpent {
					return cty.UnknownVal(retType).WithMarks(allMarks()...), nil
				}
				return cty.UnknownVal(retType), fmt.Errorf("the result is %w, more than hybrid allows in an expression", err)
			}
			v = v.WithMarks(taken...)
			if marked && !v.ContainsMarked() {
				v = v.WithMarks(allMarks()...)
			}
			return v, nil
		},
	})
}

// closureFunction wraps a function of unevaluated expressions (can, try):
// its result gets the marks of everything the expressions refer to.
func (g *Guard) closureFunction(f function.Function) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		// The result's type is what the call returns; asking f for it
		// would evaluate every expression twice.
		Type: function.StaticReturnType(cty.DynamicPseudoType),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			var marks []cty.ValueMarks
			for _, a := range args {
				if a.Type().Equals(customdecode.ExpressionClosureType) {
					marks = append(marks, closureMarks(customdecode.ExpressionClosureFromVal(a))...)
				}
			}
			if g.Spent() {
				return cty.DynamicVal.WithMarks(marks...), nil
			}
			v, err := f.Call(args)
			if err != nil {
				return cty.DynamicVal, hideIfMarked(err, marks)
			}
			return v.WithMarks(marks...), nil
		},
	})
}

// closureMarks returns the marks of every value c's expression refers to.
// A reference that does not resolve (can(var.creds.missing)) takes the
// marks of its longest prefix that does: whether an attribute exists says
// something about a sensitive object.
func closureMarks(c *customdecode.ExpressionClosure) []cty.ValueMarks {
	var out []cty.ValueMarks
	for _, tr := range c.Expression.Variables() {
		for n := len(tr); n >= 1; n-- {
			v, diags := hcl.Traversal(tr[:n]).TraverseAbs(c.EvalContext)
			if diags.HasErrors() {
				continue
			}
			if v.ContainsMarked() {
				_, m := v.UnmarkDeep()
				out = append(out, m)
			}
			break
		}
	}
	return out
}

// unmarkArgs returns args without marks, and the marks they had.
func unmarkArgs(args []cty.Value) ([]cty.Value, []cty.ValueMarks) {
	var marks []cty.ValueMarks
	plain := args
	for i, a := range args {
		if !a.ContainsMarked() {
			continue
		}
		if len(marks) == 0 {
			plain = append([]cty.Value(nil), args...)
		}
		u, m := a.UnmarkDeep()
		plain[i] = u
		marks = append(marks, m)
	}
	return plain, marks
}

// hideIfMarked is hidden(err) when marks holds any.
func hideIfMarked(err error, marks []cty.ValueMarks) error {
	if len(marks) == 0 {
		return err
	}
	return hidden(err)
}

// hidden replaces err, from a call with marked arguments, by an error that
// cannot quote them; an argument error keeps its argument.
func hidden(err error) error {
	const msg = "the call failed, and its error is not shown because an argument is sensitive"
	var ae function.ArgError
	if errors.As(err, &ae) {
		return function.NewArgErrorf(ae.Index, msg)
	}
	return errors.New(msg)
}

// spend marks the evaluation as stopped by an error reported now.
func (g *Guard) spend() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.spent = true
}

// precheck refuses a call whose result would be over the limits, by what
// its arguments say, before it is built. Results are checked after the call
// as well; this only catches what would be too costly to build at all.
func (g *Guard) precheck(name string, args []cty.Value) error {
	for _, a := range args {
		if !a.IsWhollyKnown() {
			return nil // the call returns an unknown value
		}
	}
	l := g.Limits
	maxStr := int64(l.MaxString)
	over := func(n int64, what string) error {
		if n > maxStr {
			return &LimitError{What: fmt.Sprintf("%s longer than %s", what, size(maxStr))}
		}
		return nil
	}
	str := func(i int) string {
		if i < len(args) && args[i].Type() == cty.String && !args[i].IsNull() {
			return args[i].AsString()
		}
		return ""
	}
	switch name {
	case "format":
		width, verbs := formatCost(str(0))
		return over(int64(len(str(0)))+width+int64(verbs)*maxWeight(args[1:], maxStr), "a formatted string")
	case "formatlist":
		width, verbs := formatCost(str(0))
		n := int64(1)
		for _, a := range args[1:] {
			if ty := a.Type(); !a.IsNull() && (ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
				n = max(n, int64(a.LengthInt()))
			}
		}
		per := int64(len(str(0))) + width + int64(verbs)*maxWeight(args[1:], maxStr)
		return over(n*per, "the formatted strings")
	case "indent":
		var spaces int64
		if len(args) > 0 && args[0].Type() == cty.Number && !args[0].IsNull() {
			bf := args[0].AsBigFloat()
			if !bf.IsInt() || bf.Sign() < 0 || bf.Cmp(new(big.Float).SetInt64(maxStr)) > 0 {
				spaces = maxStr + 1
			} else {
				spaces, _ = bf.Int64()
			}
		}
		s := str(1)
		return over(int64(len(s))+spaces*int64(strings.Count(s, "\n")+1), "an indented string")
	case "join":
		var total, n int64
		for _, a := range args[1:] {
			if a.IsNull() || !a.CanIterateElements() {
				continue
			}
			for it := a.ElementIterator(); it.Next(); {
				_, e := it.Element()
				n++
				if e.Type() == cty.String && !e.IsNull() {
					total += int64(len(e.AsString()))
				}
			}
		}
		return over(total+max(n-1, 0)*int64(len(str(0))), "a joined string")
	case "replace":
		s, sub, rep := str(0), str(1), str(2)
		count := int64(strings.Count(s, sub))
		if len(sub) > 1 && sub[0] == '/' && sub[len(sub)-1] == '/' {
			if re, err := regexp.Compile(sub[1 : len(sub)-1]); err == nil {
				count = int64(len(re.FindAllStringIndex(s, -1)))
			}
		}
		return over(int64(len(s))+count*int64(len(rep)), "a replaced string")
	case "setproduct":
		n := int64(1)
		for _, a := range args {
			if a.IsNull() || !a.CanIterateElements() {
				continue
			}
			n *= int64(a.LengthInt())
			if n > int64(l.MaxElements) {
				return &LimitError{What: fmt.Sprintf("a product of more than %d elements", l.MaxElements)}
			}
		}
	case "parseint":
		if s := str(0); len(s) > l.MaxDigits {
			return &LimitError{What: fmt.Sprintf("a number written with more than %d characters", l.MaxDigits)}
		}
	case "jsondecode":
		if d := Check([]byte(str(0)), "jsondecode", JSON); d.HasErrors() {
			return &LimitError{What: "JSON nested too deeply, or too large"}
		}
	}
	return nil
}

// formatCost returns what the widths and precisions of a format string's
// verbs may add, and how many verbs take an argument.
func formatCost(f string) (width int64, verbs int) {
	digits := func(i int) (int, int64) {
		var n int64
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			n = min(n*10+int64(f[i]-'0'), 1<<40)
			i++
		}
		return i, n
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("+- #0", f[i]) >= 0 {
			i++
		}
		if i < len(f) && f[i] == '[' {
			for i < len(f) && f[i] != ']' {
				i++
			}
			i++
		}
		var n int64
		i, n = digits(i)
		width += n
		if i < len(f) && f[i] == '.' {
			i, n = digits(i + 1)
			width += n
		}
		verbs++
	}
	return width, verbs
}

// maxWeight is the largest Weight among vals, counting each element of a
// collection as a value of its own, up to stop.
func maxWeight(vals []cty.Value, stop int64) int64 {
	var m int64
	for _, v := range vals {
		m = max(m, Weight(v, stop+1))
	}
	return m
}
