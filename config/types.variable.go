package config

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/hybridcore/hybrid/internal/hclguard"
	"github.com/hybridcore/hybrid/internal/suggest"
)

// Variable is a variable block: an input to the configuration, set by its
// default, HYBRID_VAR_<name>, -var-file or -var.
type Variable struct {
	Name        string
	Description string
	Type        cty.Type
	Default     cty.Value // cty.NilVal when there is none
	Sensitive   bool
	// AllowShortUnredacted accepts a sensitive value with strings shorter
	// than MinSensitiveLength characters, which is refused otherwise: the
	// value is still kept out of var files, plans and state, but it is
	// not redacted from logs and packer's output (a value that short would
	// also match ordinary words there).
	AllowShortUnredacted bool
	Validations          []*Validation
	DeclRange            hcl.Range

	// invalid is set when the block itself had errors: its type, default
	// or rules cannot be trusted, so it gets no value and whatever uses it
	// is not evaluated further (its errors are reported once, here).
	invalid bool

	// Value is the final value after inputs were applied; it carries
	// SensitiveMark when Sensitive is set.
	Value cty.Value
}

// Validation is a rule a variable's value must satisfy.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage string
	DeclRange    hcl.Range
}

type rawVariable struct {
	Name        string           `hcl:"name,label"`
	NameRange   hcl.Range        `hcl:"name,label_range"`
	Type        hcl.Expression   `hcl:"type,optional"`
	Default     hcl.Expression   `hcl:"default,optional"`
	Description hcl.Expression   `hcl:"description,optional"`
	Sensitive   hcl.Expression   `hcl:"sensitive,optional"`
	AllowShort  hcl.Expression   `hcl:"allow_short_unredacted,optional"`
	Validations []*rawValidation `hcl:"validation,block"`
	DefRange    hcl.Range        `hcl:",def_range"`
}

type rawValidation struct {
	Condition    hcl.Expression `hcl:"condition,optional"`     // required; decodeVariable says so
	ErrorMessage hcl.Expression `hcl:"error_message,optional"` // required; decodeVariable says so
	DefRange     hcl.Range      `hcl:",def_range"`
}

func decodeVariable(raw *rawVariable) (*Variable, hcl.Diagnostics) {
	v := &Variable{Name: raw.Name, Type: cty.DynamicPseudoType, DeclRange: raw.DefRange}
	diags := checkVariableName(raw.Name, raw.NameRange)
	var d hcl.Diagnostics
	v.Description, d = evalString(raw.Description, nil, "description", "")
	diags = append(diags, d...)
	if !isNull(raw.Sensitive) {
		sv, d := raw.Sensitive.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if err := gocty.FromCtyValue(sv, &v.Sensitive); err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid sensitive value",
					Detail:   "sensitive must be true or false.",
					Subject:  raw.Sensitive.Range().Ptr(),
				})
			}
		}
	}
	if !isNull(raw.AllowShort) {
		sv, d := raw.AllowShort.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if err := gocty.FromCtyValue(sv, &v.AllowShortUnredacted); err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid allow_short_unredacted value",
					Detail:   "allow_short_unredacted must be true or false.",
					Subject:  raw.AllowShort.Range().Ptr(),
				})
			} else if v.AllowShortUnredacted && !v.Sensitive {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "allow_short_unredacted without sensitive",
					Detail:   "allow_short_unredacted only applies to a variable with sensitive = true. Remove it.",
					Subject:  raw.AllowShort.Range().Ptr(),
				})
			}
		}
	}
	if !isNull(raw.Type) {
		ty, d := typeexpr.TypeConstraint(raw.Type)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type = ty
		}
	}
	if !isNull(raw.Default) {
		dv, d := raw.Default.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			cv, err := convert.Convert(dv, v.Type)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid default value for variable",
					Detail:   fmt.Sprintf("The default of variable %q does not fit its type %s: %s.", raw.Name, typeexpr.TypeString(v.Type), err),
					Subject:  raw.Default.Range().Ptr(),
				})
			} else {
				v.Default = cv
			}
		}
	}
	for _, rv := range raw.Validations {
		if d := append(required(rv.Condition, "condition", rv.DefRange), required(rv.ErrorMessage, "error_message", rv.DefRange)...); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		msg, d := evalString(rv.ErrorMessage, nil, "error_message", "")
		diags = append(diags, d...)
		if !d.HasErrors() && strings.TrimSpace(msg) == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Empty validation error message",
				Detail:   "error_message must say what is wrong, for the person whose value failed the rule.",
				Subject:  rv.ErrorMessage.Range().Ptr(),
			})
		}
		for _, tr := range rv.Condition.Variables() {
			if tr.RootName() != "var" || len(tr) < 2 || attrName(tr[1]) != raw.Name {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid reference in variable validation",
					Detail:   fmt.Sprintf("A validation condition may refer only to the variable it belongs to (var.%s).", raw.Name),
					Subject:  tr.SourceRange().Ptr(),
				})
			}
		}
		v.Validations = append(v.Validations, &Validation{Condition: rv.Condition, ErrorMessage: msg, DeclRange: rv.DefRange})
	}
	return v, diags
}

func attrName(t hcl.Traverser) string {
	switch t := t.(type) {
	case hcl.TraverseAttr:
		return t.Name
	case hcl.TraverseIndex:
		if t.Key.Type() == cty.String {
			return t.Key.AsString()
		}
	}
	return ""
}

func checkVariableName(name string, rng hcl.Range) hcl.Diagnostics {
	if hclsyntax.ValidIdentifier(name) {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Invalid variable name",
		Detail:   fmt.Sprintf("%q is not a valid variable name: use letters, digits, underscores and dashes, starting with a letter.", name),
		Subject:  rng.Ptr(),
	}}
}

// decodeInt converts a cty number to a Go int.
func decodeInt(v cty.Value, n *int) error {
	if v.IsNull() || !v.IsKnown() {
		return fmt.Errorf("no value")
	}
	return gocty.FromCtyValue(v, n)
}

// InputArg is one -var NAME=VALUE or -var-file=PATH argument, kept in
// command-line order because later ones win.
type InputArg struct {
	File  bool   // -var-file when true, -var otherwise
	Value string // NAME=VALUE, or the file path
}

// Inputs are the values given to variables from outside hybrid.hcl.
type Inputs struct {
	Args []InputArg
	// Environ is the process environment (os.Environ()); HYBRID_VAR_<name>
	// entries set variables.
	Environ []string
}

// Getenv looks name up in Environ, or in the process environment when the
// caller gave none.
func (in Inputs) Getenv(name string) string {
	if in.Environ == nil {
		return os.Getenv(name)
	}
	prefix := name + "="
	v := ""
	for _, kv := range in.Environ {
		if strings.HasPrefix(kv, prefix) {
			v = kv[len(prefix):]
		}
	}
	return v
}

// EnvPrefix starts environment variables that set hybrid.hcl variables.
const EnvPrefix = "HYBRID_VAR_"

// assignVariables sets Value on every variable from defaults and inputs, in
// increasing precedence: default, HYBRID_VAR_<name>, then -var-file and -var
// in the order given. It then checks types, required values and validation
// rules.
func (c *Config) assignVariables(in Inputs) hcl.Diagnostics {
	var diags hcl.Diagnostics
	set := map[string]cty.Value{}
	for _, kv := range in.Environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		name = strings.TrimPrefix(name, EnvPrefix)
		v, ok := c.Variables[name]
		if !ok || v.invalid {
			continue // like terraform: unknown TF_VAR_ entries are ignored
		}
		pv, d := parseRawValue(val, v.Type, hcl.Range{Filename: EnvPrefix + name})
		diags = append(diags, d...)
		if !d.HasErrors() {
			set[name] = pv
		}
	}
	for _, arg := range in.Args {
		if arg.File {
			vals, d := c.readInputFile(arg.Value)
			diags = append(diags, d...)
			for k, v := range vals {
				set[k] = v
			}
			continue
		}
		name, raw, ok := strings.Cut(arg.Value, "=")
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail:   fmt.Sprintf("The option -var=%q is not of the form NAME=VALUE.", arg.Value),
			})
			continue
		}
		v, ok := c.Variables[name]
		if !ok {
			detail := fmt.Sprintf("-var sets %q, but hybrid.hcl declares no variable of that name.", name)
			if near := suggest.Closest(name, sortedKeys(c.Variables)); near != "" {
				detail += fmt.Sprintf(" Did you mean -var '%s=...'?", near)
			} else {
				detail += " Declare it with a variable block, or remove the option."
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail:   detail,
			})
			continue
		}
		if v.invalid {
			continue
		}
		pv, d := parseRawValue(raw, v.Type, hcl.Range{Filename: "-var " + name})
		diags = append(diags, d...)
		if !d.HasErrors() {
			set[name] = pv
		}
	}

	for _, name := range sortedKeys(c.Variables) {
		v := c.Variables[name]
		if v.invalid {
			v.Value = cty.DynamicVal
			continue
		}
		val, given := set[name]
		if !given {
			if v.Default == cty.NilVal {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "No value for required variable",
					Detail:   fmt.Sprintf("Variable %q has no default, so it must be set: -var '%s=...', -var-file=FILE, or the environment variable %s%s.", name, name, EnvPrefix, name),
					Subject:  v.DeclRange.Ptr(),
				})
				v.Value = cty.UnknownVal(v.Type)
				continue
			}
			val = v.Default
		}
		cv, err := convert.Convert(val, v.Type)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("The value given to variable %q does not fit its type %s: %s.", name, typeexpr.TypeString(v.Type), err),
				Subject:  v.DeclRange.Ptr(),
			})
			v.Value = cty.UnknownVal(v.Type)
			continue
		}
		v.Value = cv
		if err := c.guard.Check(cv); err != nil {
			// Values are inputs of every expression: one over the limits
			// would let an expression exceed them at no cost.
			diags = append(diags, c.guard.Limits.TooLarge(err, v.DeclRange))
			v.Value = cty.UnknownVal(v.Type)
			continue
		}
		diags = append(diags, v.validate(c.funcs)...)
		if v.Sensitive {
			diags = append(diags, v.checkShort()...)
			v.Value = v.Value.Mark(SensitiveMark)
		}
	}
	return diags
}

// checkShort refuses a sensitive value holding a string (or number)
// shorter than MinSensitiveLength characters, unless the variable says
// allow_short_unredacted = true.
func (v *Variable) checkShort() hcl.Diagnostics {
	if v.AllowShortUnredacted || !v.Value.IsWhollyKnown() {
		return nil
	}
	short := false
	for _, leaf := range leafStrings(v.Value) {
		if leaf != "" && utf8.RuneCountInString(leaf) < MinSensitiveLength {
			short = true
			break
		}
	}
	if !short {
		return nil
	}
	what := "Its value is"
	if ty := v.Value.Type(); !ty.IsPrimitiveType() {
		what = "Its value holds a string or number that is"
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Sensitive value too short",
		Detail: fmt.Sprintf("Variable %q is sensitive. %s shorter than %d characters, too short to redact: hybrid removes sensitive values from logs and packer's output by matching them as whole values, and a value this short matches ordinary words and numbers, so it would mangle the output while hinting at the value. Use a longer value. If this value does not need hiding from output, set allow_short_unredacted = true in the variable block: it is then still kept out of var files, plans and state, but it is not redacted.",
			v.Name, what, MinSensitiveLength),
		Subject: v.DeclRange.Ptr(),
	}}
}

// validate runs the variable's validation rules against its value. A
// sensitive value is evaluated marked, so that no error quotes it.
func (v *Variable) validate(funcs map[string]function.Function) hcl.Diagnostics {
	var diags hcl.Diagnostics
	val := v.Value
	if v.Sensitive {
		val = val.Mark(SensitiveMark)
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: val})},
		Functions: funcs,
	}
	for _, rule := range v.Validations {
		res, d := rule.Condition.Value(ctx)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		res, _ = res.UnmarkDeep()
		if !res.IsKnown() {
			continue
		}
		var ok bool
		if err := gocty.FromCtyValue(res, &ok); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid validation condition",
				Detail:   "A validation condition must be true or false.",
				Subject:  rule.Condition.Range().Ptr(),
			})
			continue
		}
		if !ok {
			shown := "(sensitive value)"
			if !v.Sensitive {
				shown = showValue(v.Value)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid value for variable",
				Detail:   fmt.Sprintf("%s\n\nVariable %q is %s; this was checked by the validation rule at %s.", rule.ErrorMessage, v.Name, shown, rule.DeclRange),
				Subject:  rule.Condition.Range().Ptr(),
			})
		}
	}
	return diags
}

// parseRawValue reads a value given on the command line or in the
// environment: a string as it is for string (or untyped) variables, an HCL
// expression otherwise, as terraform does.
func parseRawValue(raw string, ty cty.Type, rng hcl.Range) (cty.Value, hcl.Diagnostics) {
	if ty == cty.String || ty == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	if diags := hclguard.Check([]byte(raw), rng.Filename, hclguard.Native); diags.HasErrors() {
		return cty.NilVal, diags
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), rng.Filename, hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	v, diags := expr.Value(nil)
	return v, diags
}

// readInputFile reads a -var-file: attributes that set hybrid.hcl variables.
func (c *Config) readInputFile(path string) (map[string]cty.Value, hcl.Diagnostics) {
	vf, diags := c.readVarFile(path, true)
	if vf == nil {
		return nil, diags
	}
	out := map[string]cty.Value{}
	for _, name := range sortedKeys(vf.Values) {
		if _, ok := c.Variables[name]; !ok {
			r := vf.Ranges[name]
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value for undeclared variable",
				Detail:   fmt.Sprintf("The file sets %q, but hybrid.hcl declares no variable of that name; the value is ignored.%s", name, didYouMean(name, sortedKeys(c.Variables))),
				Subject:  r.Ptr(),
			})
			continue
		}
		out[name] = vf.Values[name]
	}
	return out, diags
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
