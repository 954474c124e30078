package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/logs"
)

// The secrets of the suite, given as a pipeline would: from the environment
// and from -var.
const (
	secretText = "Zq9-laundry-Secret-4711"
	secretPass = "Kx7-creds-Pass-0815"
	secretUser = "build-admin-7"
	secretKey  = "Mw2-map-Value-9876"
)

var secretInputs = Inputs{
	Environ: []string{"HYBRID_VAR_secret=" + secretText},
	Args: []InputArg{
		{Value: fmt.Sprintf(`creds={ user = %q, pass = %q }`, secretUser, secretPass)},
		{Value: fmt.Sprintf(`keys={ ZKEY = %q }`, secretKey)},
	},
}

const secretVariables = `
variable "secret" {
  type      = string
  sensitive = true
}
variable "creds" {
  type      = object({ user = string, pass = string })
  sensitive = true
}
variable "keys" {
  type      = map(string)
  sensitive = true
}
`

// forms returns the ways a secret may be written: plain, base64 and URL
// encoded.
func forms(s string) []string {
	return []string{s, base64.StdEncoding.EncodeToString([]byte(s)), url.QueryEscape(s), url.PathEscape(s)}
}

// secretWorkspace writes hybrid.hcl (the suite's variables and body) and a
// template file into a temporary workspace and loads it.
func secretWorkspace(t *testing.T, body string) (*Config, *hclparse.Parser, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, Filename), []byte(secretVariables+body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "t.tpl"), []byte("password=${s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := hclparse.NewParser()
	cfg, diags := Load(p, dir, secretInputs)
	return cfg, p, diags
}

func diagText(p *hclparse.Parser, diags hcl.Diagnostics) string {
	var b strings.Builder
	hcl.NewDiagnosticTextWriter(&b, p.Files(), 120, false).WriteDiagnostics(diags)
	return b.String()
}

// TestSecretLaundering derives values from secrets in every way an
// expression can (can, try, conditionals, regex, for expressions, length,
// keys, contains, templates, object fields, locals, for_each, each layer),
// renders the var file, and checks that each derived value is in
// Render.Sensitive and that no form of any secret is in the bytes.
func TestSecretLaundering(t *testing.T) {
	cases := map[string]string{
		"can":                  `{ out = can(regex("^Z", var.secret)) }`,
		"can per character":    `{ out = [for c in split("", "ZKabc") : can(regex("^${c}", var.secret))] }`,
		"can on a field":       `{ out = can(regex("^K", var.creds.pass)) }`,
		"can of a missing key": `{ out = can(var.keys.ZKEY) }`,
		"try":                  `{ out = try(regex("^Zq9", var.secret), "no") }`,
		"try fallback":         `{ out = try(tonumber(var.secret), "not a number") }`,
		"conditional":          `{ out = var.secret == "x" ? "a" : "b" }`,
		"conditional on size":  `{ out = length(split("", var.secret)) > 10 ? 1 : 0 }`,
		"regex":                `{ out = regex("[0-9]+", var.secret) }`,
		"regexall":             `{ out = length(regexall("[A-Z]", var.secret)) }`,
		"for":                  `{ out = [for c in split("", var.secret) : upper(c)] }`,
		"for condition":        `{ out = [for c in ["a", "b"] : c if substr(var.secret, 0, 1) == "Z"] }`,
		"for object":           `{ out = { for k, v in var.keys : k => length(split("", v)) } }`,
		"keys":                 `{ out = keys(var.keys) }`,
		"contains":             `{ out = contains(split("", var.secret), "Z") }`,
		"length":               `{ out = length(var.keys) }`,
		"substr":               `{ out = upper(substr(var.secret, 0, 3)) }`,
		"lookup by secret":     `{ out = lookup({ Z = "z" }, substr(var.secret, 0, 1), "other") }`,
		"element by secret":    `{ out = element(["a", "b"], length(split("", var.secret))) }`,
		"template":             `{ out = "prefix-${var.secret}-suffix" }`,
		"template directive":   `{ out = "%{if substr(var.secret, 0, 1) == "Z"}z%{endif}" }`,
		"templatefile":         `{ out = templatefile("t.tpl", { s = var.secret }) }`,
		"jsonencode":           `{ out = jsonencode({ p = var.creds.pass }) }`,
		"field":                `{ out = var.creds.pass }`,
		"user field":           `{ out = var.creds.user }`,
		"object":               `{ out = var.creds }`,
		"whole object":         `var.creds`,
		"merge":                `merge({ out = "x" }, { out = var.creds.pass })`,
		"local":                `{ out = local.derived }`,
		"local chain":          `{ out = local.chained }`,
		"each.value":           `{ out = each.value }`,
		"var_group":            `{}`,
		"environment":          `{}`,
	}
	attempts, leaks := 0, 0
	for name, values := range cases {
		t.Run(name, func(t *testing.T) {
			block := fmt.Sprintf(`
locals {
  derived = can(regex("^Zq9", var.secret)) ? "yes" : "no"
  chained = [local.derived, "x"]
}
image "app" {
  template = "templates/app"
  build    = "file.linux-app"
  values   = %s
}
`, values)
			switch name {
			case "each.value":
				block = `
image "app" {
  for_each = { one = substr(var.secret, 1, 4) }
  template = "templates/app"
  build    = "file.linux-app"
  values   = { out = each.value }
}
`
			case "var_group":
				block += `
var_group "g" {
  values = { out = try(regex("^Zq", var.secret), "") }
}
image "grouped" {
  template   = "templates/app"
  build      = "file.linux-app"
  var_groups = [var_group.g]
}
`
			case "environment":
				block += `
environment "default" {
  values = { out = can(regex("4711$", var.secret)) }
}
`
			}
			cfg, p, diags := secretWorkspace(t, block)
			if diags.HasErrors() {
				t.Fatalf("load:\n%s", diagText(p, diags))
			}
			for _, imgName := range cfg.ImageNames() {
				if name == "var_group" && imgName != "grouped" {
					continue
				}
				img := cfg.Images[imgName]
				for _, env := range cfg.ImageEnvironments(img) {
					attempts++
					r, diags := cfg.Render(img, env, nil, nil, nil)
					if diags.HasErrors() {
						t.Fatalf("render: %s", diagText(p, diags))
					}
					want := []string{"out"}
					if name == "whole object" {
						want = []string{"pass", "user"}
					}
					for _, n := range want {
						if _, ok := r.Sensitive[n]; !ok {
							leaks++
							t.Errorf("%s in %s: %s = %s is not in Render.Sensitive", imgName, env, n, showValue(r.Values[n]))
						}
						if !r.Values[n].ContainsMarked() {
							t.Errorf("%s: value %s is not marked", imgName, n)
						}
					}
					for _, s := range []string{secretText, secretPass, secretUser, secretKey} {
						for _, f := range forms(s) {
							if strings.Contains(string(r.Bytes), f) {
								leaks++
								t.Errorf("rendered var file holds %q:\n%s", f, r.Bytes)
							}
						}
					}
					if strings.Contains(string(r.Bytes), "out =") {
						leaks++
						t.Errorf("derived value in the var file:\n%s", r.Bytes)
					}
				}
			}
		})
	}
	t.Logf("%d laundering expressions, %d renders, %d leaks", len(cases), attempts, leaks)
}

// TestSecretLaunderingRefused checks what cannot take a sensitive value at
// all: names of values, paths, keys of for_each, and errors that would
// quote one.
func TestSecretLaunderingRefused(t *testing.T) {
	cases := map[string]struct {
		block   string
		summary string
	}{
		"name from a secret": {`image "a" {
  template = "t"
  build    = "file.linux-a"
  values   = { (var.secret) = 1 }
}`, "Sensitive value not allowed here"},
		"names chosen by a secret": {`image "a" {
  template = "t"
  build    = "file.linux-a"
  values   = substr(var.secret, 0, 1) == "Z" ? { a = 1 } : { b = 1 }
}`, "Sensitive value not allowed here"},
		"names from a secret map's values": {`image "a" {
  template = "t"
  build    = "file.linux-a"
  values   = { for k, v in var.keys : v => 1 }
}`, "Sensitive value not allowed here"},
		"path chosen with can": {`image "a" {
  template = can(regex("^Z", var.secret)) ? "a" : "b"
  build    = "file.linux-a"
}`, "Sensitive value not allowed here"},
		"for_each keys from try": {`image "a" {
  for_each = toset([try(substr(var.secret, 0, 2), "x")])
  template = "t"
  build    = "file.linux-a"
}`, "Invalid for_each argument"},
		"description from length": {`image "a" {
  description = "length ${length(split("", var.secret))}"
  template    = "t"
  build       = "file.linux-a"
}`, "Sensitive value not allowed here"},
		"error quoting a number": {`image "a" {
  template = "t"
  build    = "file.linux-a"
  values   = { out = tonumber(var.secret) }
}`, "Invalid function argument"},
		"error quoting a path": {`image "a" {
  template = "t"
  build    = "file.linux-a"
  values   = { out = file(var.creds.pass) }
}`, "Error in function call"},
		"error in a validation": {`variable "checked" {
  type      = string
  sensitive = true
  default   = "Zq9-default-secret-0001"
  validation {
    condition     = tonumber(var.checked) > 1
    error_message = "must be a number."
  }
}`, "Invalid function argument"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, p, diags := secretWorkspace(t, tc.block)
			if cfg != nil && !diags.HasErrors() {
				for _, in := range cfg.ImageNames() {
					_, d := cfg.Render(cfg.Images[in], DefaultEnvironment, nil, nil, nil)
					diags = append(diags, d...)
				}
			}
			var summaries []string
			for _, d := range diags {
				summaries = append(summaries, d.Summary)
			}
			if !slices.Contains(summaries, tc.summary) {
				t.Errorf("diagnostics %q, want %q", summaries, tc.summary)
			}
			text := diagText(p, diags)
			for _, s := range []string{secretText, secretPass, secretUser, secretKey, "Zq9-default-secret-0001"} {
				for _, f := range forms(s) {
					if strings.Contains(text, f) {
						t.Errorf("diagnostics quote %q:\n%s", f, text)
					}
				}
			}
		})
	}
	t.Logf("%d refusals checked", len(cases))
}

// TestSensitiveObjectFields checks that every field of a sensitive object
// is marked, and that SecretStrings gives every one of them, so that a log
// line echoing one field alone is redacted.
func TestSensitiveObjectFields(t *testing.T) {
	cfg, p, diags := secretWorkspace(t, `
image "app" {
  template = "t"
  build    = "file.linux-app"
  values   = { creds = var.creds, pass = var.creds.pass, user = var.creds.user, keys = var.keys }
}
`)
	if diags.HasErrors() {
		t.Fatal(diagText(p, diags))
	}
	r, _ := cfg.Render(cfg.Images["app"], DefaultEnvironment, nil, nil, nil)
	for _, n := range []string{"creds", "pass", "user", "keys"} {
		if _, ok := r.Sensitive[n]; !ok {
			t.Errorf("%s is not sensitive", n)
		}
	}
	creds := cfg.Variables["creds"].Value
	for _, f := range []string{"pass", "user"} {
		if !creds.GetAttr(f).IsMarked() {
			t.Errorf("var.creds.%s is not marked", f)
		}
	}
	red := logs.NewRedactor()
	var registered []string
	for _, name := range cfg.ImageNames() {
		_ = name
		for _, v := range r.Sensitive {
			registered = append(registered, SecretStrings(v)...)
		}
	}
	for _, v := range cfg.Variables {
		if v.Sensitive {
			registered = append(registered, SecretStrings(v.Value)...)
		}
	}
	red.Add(registered...)
	for _, s := range []string{secretPass, secretUser, secretKey, secretText} {
		if !slices.Contains(registered, s) {
			t.Errorf("SecretStrings does not give %q: %q", s, registered)
		}
	}
	line := fmt.Sprintf("==> file: echo %s; login %s as %s", secretPass, secretKey, secretUser)
	if got := red.String(line); strings.Contains(got, secretPass) || strings.Contains(got, secretUser) || strings.Contains(got, secretKey) {
		t.Errorf("redacted line still holds a field: %s", got)
	}
}

func TestSecretStrings(t *testing.T) {
	v := cty.ObjectVal(map[string]cty.Value{
		"pass":  cty.StringVal("long-enough-pass"),
		"pin":   cty.StringVal("1234"),
		"port":  cty.NumberIntVal(123456789),
		"on":    cty.True,
		"none":  cty.NullVal(cty.String),
		"list":  cty.ListVal([]cty.Value{cty.StringVal("element-secret-1")}),
		"multi": cty.StringVal("-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\n-----END KEY-----"),
	}).Mark(SensitiveMark)
	got := SecretStrings(v)
	for _, want := range []string{"long-enough-pass", "123456789", "element-secret-1", "-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\n-----END KEY-----", EnvValue(v)} {
		if !slices.Contains(got, want) {
			t.Errorf("SecretStrings lacks %q: %q", want, got)
		}
	}
	for _, no := range []string{"1234", "true"} {
		if slices.Contains(got, no) {
			t.Errorf("SecretStrings has %q, too short or not a secret string", no)
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("not sorted: %q", got)
	}
	// A script that prints a secret base64-encoded or in a URL is redacted
	// too: every encoded form is a secret string.
	want := []string{"Summer2024!", "Summer2024%21", "U3VtbWVyMjAyNCE", "U3VtbWVyMjAyNCE="}
	if got := SecretStrings(cty.StringVal("Summer2024!")); !slices.Equal(got, want) {
		t.Errorf("string: %q, want %q", got, want)
	}
	url := SecretStrings(cty.StringVal("p+ss/w?rd=1>"))
	for _, enc := range []string{"p%2Bss%2Fw%3Frd%3D1%3E", "cCtzcy93P3JkPTE+", "cCtzcy93P3JkPTE-"} {
		if !slices.Contains(url, enc) {
			t.Errorf("SecretStrings lacks the encoded form %q: %q", enc, url)
		}
	}
}

// TestShortSensitiveValues checks that a sensitive value too short to
// redact is refused at its variable, unless it opts out.
func TestShortSensitiveValues(t *testing.T) {
	cases := []struct {
		name, decl string
		inputs     Inputs
		wantErr    string
	}{
		{"short default", `variable "pin" {
  sensitive = true
  default   = "1234"
}`, Inputs{}, "Sensitive value too short"},
		{"short from the environment", `variable "pin" {
  sensitive = true
}`, Inputs{Environ: []string{"HYBRID_VAR_pin=abc"}}, "Sensitive value too short"},
		{"short field", `variable "c" {
  type      = object({ user = string, pass = string })
  sensitive = true
  default   = { user = "root", pass = "long-enough-pass" }
}`, Inputs{}, "Sensitive value too short"},
		{"short number", `variable "n" {
  type      = number
  sensitive = true
  default   = 42
}`, Inputs{}, "Sensitive value too short"},
		{"opted out", `variable "pin" {
  sensitive              = true
  allow_short_unredacted = true
  default                = "1234"
}`, Inputs{}, ""},
		{"empty is nothing to redact", `variable "pin" {
  sensitive = true
  default   = ""
}`, Inputs{}, ""},
		{"eight characters", `variable "pin" {
  sensitive = true
  default   = "12345678"
}`, Inputs{}, ""},
		{"opt-out without sensitive", `variable "pin" {
  allow_short_unredacted = true
  default                = "1234"
}`, Inputs{}, "allow_short_unredacted without sensitive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := hclparse.NewParser()
			cfg, diags := Parse(p, t.TempDir(), []byte(tc.decl+"\n"), "hybrid.hcl", tc.inputs)
			if tc.wantErr == "" {
				if diags.HasErrors() {
					t.Fatal(diagText(p, diags))
				}
				for _, v := range cfg.Variables {
					for _, s := range SecretStrings(v.Value) {
						if len(s) < MinSensitiveLength {
							t.Errorf("SecretStrings gives %q, shorter than %d", s, MinSensitiveLength)
						}
					}
				}
				return
			}
			if len(diags) == 0 || diags[0].Summary != tc.wantErr {
				t.Fatalf("diagnostics %v, want %s", diags, tc.wantErr)
			}
			if diags[0].Subject == nil || diags[0].Subject.Start.Line > 2 {
				t.Errorf("subject %v, want the variable block", diags[0].Subject)
			}
			for _, s := range []string{"1234", "abc", "root", "42"} {
				if strings.Contains(diags[0].Detail, `"`+s+`"`) || strings.Contains(diags[0].Detail, " "+s+" ") {
					t.Errorf("detail quotes the value %q: %s", s, diags[0].Detail)
				}
			}
		})
	}
}
