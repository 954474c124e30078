package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// shared declares what the misspellings below were meant to name.
const shared = `
variable "image_name" {
  default = "ubuntu"
}
locals {
  common = "c"
}
source "examples" {
  url = "https://example.com/examples.git"
}
var_group "build" {}
environment "dev" {}
environment "prod" {
  parent = environment.dev
}
image "ubuntu" {
  template = "templates/linux"
  build    = "file.linux-ubuntu"
}
`

// diagLine is what a reader sees of a diagnostic: where, what and why.
type diagLine struct {
	Line    int
	Summary string
	Detail  string
}

func (d diagLine) String() string { return fmt.Sprintf("%d: %s: %s", d.Line, d.Summary, d.Detail) }

// parseErrors parses src after shared and returns its errors, with lines
// counted in src.
func parseErrors(t *testing.T, src string, in Inputs) []diagLine {
	t.Helper()
	offset := strings.Count(shared, "\n")
	_, diags := Parse(hclparse.NewParser(), t.TempDir(), []byte(shared+src), Filename, in)
	var out []diagLine
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		line := 0
		if d.Subject != nil {
			line = d.Subject.Start.Line - offset
		}
		out = append(out, diagLine{line, d.Summary, d.Detail})
	}
	return out
}

// TestReferenceSuggestions checks the message of every kind of misspelled
// reference: it says what is missing and, when a declared name is near,
// which one was likely meant.
func TestReferenceSuggestions(t *testing.T) {
	cases := map[string]struct {
		src  string
		in   Inputs
		want []diagLine
	}{
		"image in depends_on": {
			src: `
image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  depends_on = [image.ubunt]
}`,
			want: []diagLine{{5, "Reference to undeclared image", `There is no image named "ubunt". Did you mean image.ubuntu?`}},
		},
		"image nowhere near": {
			src: `
image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  depends_on = ["debian"]
}`,
			want: []diagLine{{5, "Reference to undeclared image", `There is no image named "debian" (declared: app, ubuntu).`}},
		},
		"var group": {
			src: `
image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  var_groups = [var_group.biuld]
}`,
			want: []diagLine{{5, "Reference to undeclared var_group", `There is no var_group block named "biuld". Did you mean var_group.build?`}},
		},
		"environment of an image": {
			src: `
image "app" {
  template     = "templates/linux"
  build        = "file.linux-app"
  environments = [environment.prd]
}`,
			want: []diagLine{{5, "Reference to undeclared environment", `There is no environment block named "prd". Did you mean environment.prod?`}},
		},
		"parent environment": {
			src: `
environment "stage" {
  parent = environment.dve
}`,
			want: []diagLine{{3, "Reference to undeclared environment", `There is no environment block named "dve". Did you mean environment.dev?`}},
		},
		"one reference without brackets": {
			src: `
image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  var_groups = var_group.build
}`,
			want: []diagLine{{5, "Incorrect attribute value type", `var_groups takes a list of var_group references, in brackets even when there is one. Did you mean [var_group.build]?`}},
		},
		"depends_on without brackets": {
			src: `
image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  depends_on = image.ubuntu
}`,
			want: []diagLine{{5, "Incorrect attribute value type", `depends_on takes a list of image references, in brackets even when there is one. Did you mean [image.ubuntu]?`}},
		},
		"misspelled kind": {
			src: `
image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  var_groups = [var_grup.build]
}`,
			want: []diagLine{{5, "Invalid reference", `A reference to a var_group is written var_group.NAME. Did you mean var_group.build?`}},
		},
		"reference to another kind": {
			src: `
image "app" {
  template   = "templates/linux"
  build      = "file.linux-app"
  var_groups = [image.ubuntu]
}`,
			want: []diagLine{{5, "Invalid reference", `image.ubuntu names an image, but this list takes var_group references, written var_group.NAME.`}},
		},
		"variable": {
			src: `
image "app" {
  template = "templates/linux"
  build    = "file.linux-app"
  values   = { vm_name = var.image_nmae }
}`,
			want: []diagLine{{5, "Reference to undeclared input variable", `An input variable with the name "image_nmae" has not been declared. Did you mean var.image_name?`}},
		},
		"variable nowhere near": {
			src: `
image "app" {
  template = "templates/linux"
  build    = "file.linux-app"
  values   = { vm_mem = var.memory }
}`,
			want: []diagLine{{5, "Reference to undeclared input variable", `An input variable with the name "memory" has not been declared. This variable can be declared with a variable "memory" {} block.`}},
		},
		"local": {
			src: `
locals {
  name = "${local.commn}-x"
}`,
			want: []diagLine{{3, "Reference to undeclared local value", `A local value with the name "commn" has not been declared. Did you mean local.common?`}},
		},
		"local used by an image": {
			src: `
image "app" {
  template = "templates/linux"
  build    = "file.linux-app"
  values   = { owner = local.comon }
}`,
			want: []diagLine{{5, "Reference to undeclared local value", `A local value with the name "comon" has not been declared. Did you mean local.common?`}},
		},
		"source": {
			src: `
image "app" {
  template = "${source.exmaples.path}/templates/linux"
  build    = "file.linux-app"
}`,
			want: []diagLine{{3, "Reference to undeclared source", `There is no source block named "exmaples". Did you mean source.examples?`}},
		},
		"attribute of a source": {
			src: `
image "app" {
  template = "${source.examples.pth}/templates/linux"
  build    = "file.linux-app"
}`,
			want: []diagLine{{3, "Unsupported attribute", `This object does not have an attribute named "pth". Did you mean "path"?`}},
		},
		"unknown root": {
			src: `
image "app" {
  template = "templates/linux"
  build    = "file.linux-app"
  values   = { vm_name = vars.image_name }
}`,
			want: []diagLine{{5, "Unknown variable", `There is no variable named "vars". Expressions in hybrid.hcl can refer to local, source, var. Did you mean var?`}},
		},
		"block reference used as a value": {
			src: `
image "app" {
  template = "templates/linux"
  build    = "file.linux-app"
  values   = { group = var_group.build }
}`,
			want: []diagLine{{5, "Unknown variable", `var_group.build names a var group, which is not a value: it is listed in var_groups = [var_group.build]. Expressions in hybrid.hcl can refer to local, source, var.`}},
		},
		"string for a list": {
			src: `
image "app" {
  template  = "templates/linux"
  build     = "file.linux-app"
  var_files = "vars/common.pkrvars.hcl"
}`,
			want: []diagLine{{5, "Incorrect attribute value type", `The var file list must be a list of strings, not a string. Did you mean ["vars/common.pkrvars.hcl"]?`}},
		},
		"-var for a misspelled variable": {
			in:   Inputs{Args: []InputArg{{Value: "image_nam=debian"}}},
			want: []diagLine{{0, "Value for undeclared variable", `-var sets "image_nam", but hybrid.hcl declares no variable of that name. Did you mean -var 'image_name=...'?`}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := parseErrors(t, tc.src, tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("wrong errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEveryErrorOnce feeds one file with mistakes of every layer: a
// schema error, a variable whose block is wrong, a misspelled reference
// and values that use what failed. Each mistake is reported once, and
// nothing that merely uses a failed value adds an error of its own.
func TestEveryErrorOnce(t *testing.T) {
	src := `
variable "memory" {
  type    = number
  default = "lots"
}
variable "owner" {}
image "app" {
  template   = "templates/${var.owner}"
  build      = "file.linux-app"
  descripton = "typo"
  values     = { vm_mem = var.memory }
  depends_on = [image.ubunt]
}
image "db" {
  template = "templates/${var.owner}"
  build    = "file.linux-db"
  values   = { vm_mem = var.memory }
}
`
	want := []diagLine{
		{10, "Unsupported argument", `An argument named "descripton" is not expected here. Did you mean "description"?`},
		{4, "Invalid default value for variable", `The default of variable "memory" does not fit its type number: a number is required.`},
		{6, "No value for required variable", `Variable "owner" has no default, so it must be set: -var 'owner=...', -var-file=FILE, or the environment variable HYBRID_VAR_owner.`},
		{12, "Reference to undeclared image", `There is no image named "ubunt". Did you mean image.ubuntu?`},
	}
	if diff := cmp.Diff(want, parseErrors(t, src, Inputs{})); diff != "" {
		t.Errorf("wrong errors (-want +got):\n%s", diff)
	}
}

// TestComplete checks which images checks against templates may trust:
// only those whose own block, var groups and environments decoded cleanly.
func TestComplete(t *testing.T) {
	src := `
variable "owner" {}
var_group "broken" {
  values = { owner = var.owner }
}
environment "stage" {
  parent = environment.prd
}
image "clean" {
  template = "templates/linux"
  build    = "file.linux-clean"
}
image "own-error" {
  template = "templates/linux"
  build    = "file.linux-own"
  values   = { a = var.nope }
}
image "uses-failed" {
  template = "templates/${var.owner}"
  build    = "file.linux-uses"
}
image "broken-group" {
  template   = "templates/linux"
  build      = "file.linux-group"
  var_groups = [var_group.broken]
}
image "missing-group" {
  template   = "templates/linux"
  build      = "file.linux-missing"
  var_groups = [var_group.nope]
}
image "bad-ref" {
  template   = "templates/linux"
  build      = "file.linux-ref"
  depends_on = [image.nope]
}
`
	cfg, diags := Parse(hclparse.NewParser(), t.TempDir(), []byte(shared+src), Filename, Inputs{})
	if !diags.HasErrors() {
		t.Fatal("want errors")
	}
	got := map[string]bool{}
	for _, name := range []string{"clean", "own-error", "uses-failed", "broken-group", "missing-group", "bad-ref"} {
		for _, env := range []string{"dev", "stage"} {
			got[name+"/"+env] = cfg.Complete(cfg.Images[name], env)
		}
	}
	want := map[string]bool{
		"clean/dev": true, "clean/stage": false,
		"own-error/dev": false, "own-error/stage": false,
		"uses-failed/dev": false, "uses-failed/stage": false,
		"broken-group/dev": false, "broken-group/stage": false,
		"missing-group/dev": false, "missing-group/stage": false,
		// depends_on does not change what the image's values are.
		"bad-ref/dev": true, "bad-ref/stage": false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Complete (-want +got):\n%s", diff)
	}
}
