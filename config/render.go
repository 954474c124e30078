package config

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/url"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/logs"
)

// Layer is one step of the variable merge for an image in an environment.
// Layers apply in order; a later layer's value for a variable replaces the
// earlier one whole (no deep merge, as packer's own var files behave), and a
// null value removes it so the template default applies.
type Layer struct {
	// Name says where the values come from: "file PATH", "var_group.NAME",
	// "environment.NAME", "image.NAME" or "provisioners".
	Name   string
	File   string // the var file's workspace-relative path, for file layers
	Values map[string]cty.Value
	Ranges map[string]hcl.Range
}

// Layers returns the ordered layers for img in env, reading the var files
// they name:
//
//  1. the image's var_files (base values, e.g. *.pkrvars.hcl.example), in order;
//  2. each of the image's var_groups in order: its var_files, then its values;
//  3. each environment from the root parent down to env: its var_files, then
//     its values;
//  4. the image's own values.
//
// Callers append hybrid's own layers (the provisioner toggles) after these.
func (c *Config) Layers(img *Image, env string) ([]Layer, hcl.Diagnostics) {
	var layers []Layer
	var diags hcl.Diagnostics
	files := func(refs []FileRef) {
		for _, f := range refs {
			vf, d := c.readVarFile(f.Path, false)
			for _, diag := range d {
				if diag.Subject == nil {
					diag.Subject = f.Range.Ptr()
				}
			}
			diags = append(diags, d...)
			if vf != nil {
				layers = append(layers, Layer{Name: "file " + f.Path, File: f.Path, Values: vf.Values, Ranges: vf.Ranges})
			}
		}
	}
	files(img.VarFiles)
	for _, r := range img.VarGroups {
		g, ok := c.VarGroups[r.Name]
		if !ok {
			continue
		}
		files(g.VarFiles)
		layers = append(layers, Layer{Name: "var_group." + g.Name, Values: g.Values, Ranges: g.Ranges})
	}
	for _, e := range c.EnvironmentChain(env) {
		files(e.VarFiles)
		layers = append(layers, Layer{Name: "environment." + e.Name, Values: e.Values, Ranges: e.Ranges})
	}
	layers = append(layers, Layer{Name: "image." + img.Name, Values: img.Values, Ranges: img.Ranges})
	return layers, diags
}

// Render is the merged variable values for one image in one environment and
// the var file packer gets for it.
type Render struct {
	Image string
	Env   string
	// Path is where apply writes Bytes, workspace-relative:
	// <configs>/<env>/<image>.pkrvars.hcl.
	Path   string
	Layers []Layer
	// Values holds every merged value; values derived from sensitive
	// variables keep SensitiveMark.
	Values map[string]cty.Value
	// Origins names, for each variable, the layer that set it last.
	Origins map[string]string
	// Sensitive holds the values kept out of Bytes, unmarked, by variable
	// name: packer gets them as PKR_VAR_<name> environment variables.
	Sensitive map[string]cty.Value
	// Undeclared lists, sorted, the variables that have a value but that
	// the template does not declare; they are left out of Bytes.
	Undeclared []string
	// Bytes is the var file: deterministic, sorted, formatted by hclwrite.
	Bytes []byte
}

// RenderPath is the workspace-relative path of the rendered var file for an
// image in an environment.
func (c *Config) RenderPath(img, env string) string {
	return path.Join(c.Settings.Dirs.Configs, env, img+".pkrvars.hcl")
}

// Render merges the layers of img in env, then extra (hybrid's own layers,
// such as provisioner toggles), and renders the var file. A value is kept
// out of the file when it derives from a sensitive variable or when
// sensitive(name) reports that the template declares it sensitive, and when
// declared(name) reports that the template does not declare it at all. Nil
// functions keep everything.
func (c *Config) Render(img *Image, env string, extra []Layer, sensitive, declared func(name string) bool) (*Render, hcl.Diagnostics) {
	layers, diags := c.Layers(img, env)
	// The configuration's own layers live as long as c: a value of theirs
	// is formatted once per c (see attrCache.formatAttributes).
	owned := len(layers)
	layers = append(layers, extra...)
	size := 0
	for _, l := range layers {
		size = max(size, len(l.Values))
	}
	r := &Render{
		Image: img.Name, Env: env, Path: c.RenderPath(img.Name, env),
		Layers: layers, Values: make(map[string]cty.Value, size), Origins: make(map[string]string, size),
		Sensitive: map[string]cty.Value{},
	}
	for _, l := range layers {
		for name, v := range l.Values {
			if v.IsNull() {
				delete(r.Values, name)
				delete(r.Origins, name)
				continue
			}
			r.Values[name] = v
			r.Origins[name] = l.Name
		}
	}
	names := make([]string, 0, len(r.Values))
	values := make([]cty.Value, 0, len(r.Values))
	ids := make([]attrID, 0, len(r.Values))
	var secretNames []string
	for _, name := range sortedKeys(r.Values) {
		v := r.Values[name]
		if !v.IsWhollyKnown() {
			// An unknown value comes from an expression that already failed
			// with its own diagnostic.
			continue
		}
		if declared != nil && !declared(name) {
			r.Undeclared = append(r.Undeclared, name)
			continue
		}
		if v.ContainsMarked() || (sensitive != nil && sensitive(name)) {
			uv, _ := v.UnmarkDeep()
			r.Sensitive[name] = uv
			secretNames = append(secretNames, name)
			continue
		}
		names = append(names, name)
		values = append(values, v)
		ids = append(ids, ownedID(layers, owned, name))
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Rendered by hybrid for image %q in environment %q. Do not edit:\n", img.Name, env)
	fmt.Fprintf(&buf, "# hybrid apply rewrites this file from %s.\n", c.Filename)
	if len(layers) > 0 {
		buf.WriteString("#\n# Layers, each overriding the ones before it:\n")
		for i, l := range layers {
			buf.WriteString("#   ")
			buf.WriteString(strconv.Itoa(i + 1))
			buf.WriteString(". ")
			buf.WriteString(l.Name)
			buf.WriteByte('\n')
		}
	}
	if len(secretNames) > 0 {
		fmt.Fprintf(&buf, "#\n# Sensitive, passed to packer as PKR_VAR_ environment variables: %s\n", strings.Join(secretNames, ", "))
	}
	buf.WriteString("\n")
	buf.Write(c.attrs.formatAttributes(names, values, ids))
	r.Bytes = buf.Bytes()
	return r, diags
}

// maxOwnedLayer is the most values a layer may hold for its attributes to
// be kept formatted by attrID: real layers hold dozens, and a huge one
// would cost more memory than formatting saves.
const maxOwnedLayer = 1024

// ownedID names the attribute name as the last of layers that sets it
// holds it, when that is one of the first owned layers (the Config's own)
// and small enough; the zero attrID otherwise.
func ownedID(layers []Layer, owned int, name string) attrID {
	for i := len(layers) - 1; i >= 0; i-- {
		if _, ok := layers[i].Values[name]; !ok {
			continue
		}
		if i >= owned || len(layers[i].Values) > maxOwnedLayer {
			return attrID{}
		}
		return attrID{values: reflect.ValueOf(layers[i].Values).UnsafePointer(), name: name}
	}
	return attrID{}
}

// EnvValue formats a value for a PKR_VAR_<name> environment variable:
// strings as they are, everything else as an HCL expression, which is how
// packer reads typed variables from the environment.
func EnvValue(v cty.Value) string {
	v, _ = v.UnmarkDeep()
	if v.Type() == cty.String && !v.IsNull() && v.IsKnown() {
		return v.AsString()
	}
	return showValue(v)
}

// ShowValue formats a value as HCL for people: a plan's variable diff, an
// error message. Sensitive values show as (sensitive value).
func ShowValue(v cty.Value) string {
	if v.ContainsMarked() {
		return "(sensitive value)"
	}
	return showValue(v)
}

func showValue(v cty.Value) string {
	if !v.IsWhollyKnown() {
		return "(known after apply)"
	}
	v, _ = v.UnmarkDeep()
	return strings.TrimSpace(string(hclwrite.TokensForValue(v).Bytes()))
}

// wholeNumber writes a whole number's tokens directly: the common case of
// sizes and counts, which hclwrite would format through big.Float text.
func wholeNumber(v cty.Value) (hclwrite.Tokens, bool) {
	if v.Type() != cty.Number || v.IsMarked() || v.IsNull() || !v.IsKnown() {
		return nil, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return nil, false
	}
	i, acc := bf.Int64()
	if acc != big.Exact {
		return nil, false
	}
	return hclwrite.Tokens{{Type: hclsyntax.TokenNumberLit, Bytes: strconv.AppendInt(nil, i, 10)}}, true
}

// MinSensitiveLength is the length, in characters, of the shortest string
// in a sensitive variable's value that hybrid accepts without
// allow_short_unredacted: the shortest value the log redactor redacts.
const MinSensitiveLength = logs.MinSecretLength

// SecretStrings returns what a log or output redactor must know to hide
// v, a sensitive value (marked or not): every string and number in it, as
// packer and hybrid print them, and, for a value that is not a string, the
// whole of it as EnvValue gives it to packer. Strings shorter than
// MinSensitiveLength characters are left out: they are not redacted (see
// allow_short_unredacted). Each string also comes in the encoded forms a
// script is likely to print it in: base64 (standard and URL alphabets, with
// and without padding) and URL-escaped (query and path). The result is
// sorted, without duplicates.
//
// Callers register the SecretStrings of every sensitive variable's Value
// and of every value in every Render.Sensitive with their redactors, so
// that a build echoing var.creds.pass, one field of an object, is redacted
// too.
func SecretStrings(v cty.Value) []string {
	if !v.IsWhollyKnown() {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if utf8.RuneCountInString(s) >= MinSensitiveLength && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, s := range leafStrings(v) {
		if utf8.RuneCountInString(s) < MinSensitiveLength {
			continue
		}
		add(s)
		for _, e := range encodings(s) {
			add(e)
		}
	}
	if uv, _ := v.UnmarkDeep(); !uv.IsNull() && uv.Type() != cty.String {
		add(EnvValue(uv))
	}
	sort.Strings(out)
	return out
}

// encodings returns the forms of s a build script is likely to print:
// base64 in both alphabets, padded and not, and URL-escaped.
func encodings(s string) []string {
	b := []byte(s)
	return []string{
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
		url.QueryEscape(s),
		url.PathEscape(s),
	}
}

// leafStrings returns every string in v, and every number as text; map keys
// and object attribute names are not values and are left out.
func leafStrings(v cty.Value) []string {
	var out []string
	cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		v, _ = v.Unmark()
		if !v.IsKnown() || v.IsNull() {
			return false, nil
		}
		switch v.Type() {
		case cty.String:
			out = append(out, v.AsString())
		case cty.Number:
			out = append(out, v.AsBigFloat().Text('f', -1))
		}
		return true, nil
	})
	return out
}
