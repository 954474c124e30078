package templates

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestConstraint(t *testing.T) {
	tests := map[string]struct {
		v    Variable
		want cty.Type
	}{
		"declared":                {Variable{Type: cty.Number}, cty.Number},
		"declared wins":           {Variable{Type: cty.Number, HasDefault: true, Default: cty.NumberIntVal(1)}, cty.Number},
		"no type, no default":     {Variable{Type: cty.DynamicPseudoType}, cty.DynamicPseudoType},
		"zero Variable":           {Variable{}, cty.DynamicPseudoType},
		"inferred from default":   {Variable{Type: cty.DynamicPseudoType, HasDefault: true, Default: cty.StringVal("x")}, cty.String},
		"inferred tuple":          {Variable{Type: cty.DynamicPseudoType, HasDefault: true, Default: cty.TupleVal([]cty.Value{cty.True})}, cty.Tuple([]cty.Type{cty.Bool})},
		"not from an empty tuple": {Variable{Type: cty.DynamicPseudoType, HasDefault: true, Default: cty.EmptyTupleVal}, cty.DynamicPseudoType},
		"not from empty object":   {Variable{Type: cty.DynamicPseudoType, HasDefault: true, Default: cty.EmptyObjectVal}, cty.DynamicPseudoType},
		"not from null":           {Variable{Type: cty.DynamicPseudoType, HasDefault: true, Default: cty.NullVal(cty.DynamicPseudoType)}, cty.DynamicPseudoType},
		"not from non-literal":    {Variable{Type: cty.DynamicPseudoType, HasDefault: true, Default: cty.DynamicVal}, cty.DynamicPseudoType},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.v.Constraint(); !got.Equals(tc.want) {
				t.Errorf("Constraint() = %s, want %s", typeString(got), typeString(tc.want))
			}
		})
	}
}

func TestCheckValue(t *testing.T) {
	disk := cty.Object(map[string]cty.Type{"size": cty.Number})
	tests := map[string]struct {
		v       Variable
		val     cty.Value
		wantErr string // "" when the value fits
	}{
		"string":              {Variable{Name: "a", Type: cty.String}, cty.StringVal("x"), ""},
		"number as string":    {Variable{Name: "a", Type: cty.Number}, cty.StringVal("2048"), ""},
		"bool as string":      {Variable{Name: "a", Type: cty.Bool}, cty.StringVal("true"), ""},
		"number to string":    {Variable{Name: "a", Type: cty.String}, cty.NumberIntVal(3), ""},
		"tuple to list":       {Variable{Name: "a", Type: cty.List(cty.String)}, cty.TupleVal([]cty.Value{cty.StringVal("x")}), ""},
		"null":                {Variable{Name: "a", Type: cty.String}, cty.NullVal(cty.DynamicPseudoType), ""},
		"unknown":             {Variable{Name: "a", Type: cty.String}, cty.DynamicVal, ""},
		"untyped accepts all": {Variable{Name: "a", Type: cty.DynamicPseudoType}, cty.EmptyObjectVal, ""},
		"no value":            {Variable{Name: "a", Type: cty.String}, cty.NilVal, ""},
		"word for number": {Variable{Name: "vm_cpu_count", Type: cty.Number}, cty.StringVal("two"),
			`variable "vm_cpu_count" expects number, got string: a number is required`},
		"object for string": {Variable{Name: "iso_file", Type: cty.String}, cty.EmptyObjectVal,
			`variable "iso_file" expects string, got object({}): string required`},
		"list for object": {Variable{Name: "vm_network", Type: cty.Object(map[string]cty.Type{"name": cty.String})},
			cty.TupleVal([]cty.Value{cty.StringVal("x")}),
			`variable "vm_network" expects object({name=string}), got tuple([string])`},
		"missing attribute deep": {Variable{Name: "vm_disks", Type: cty.List(disk)},
			cty.TupleVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"size": cty.NumberIntVal(1)}), cty.EmptyObjectVal}),
			`variable "vm_disks" expects list(object({size=number})), got tuple([object({size=number}),object({})]): element 1: attribute "size" is required`},
		"element value": {Variable{Name: "vm_disk_sizes", Type: cty.List(cty.Number)},
			cty.TupleVal([]cty.Value{cty.StringVal("1"), cty.StringVal("big")}),
			`variable "vm_disk_sizes" expects list(number), got tuple([string,string]) at [1]: a number is required`},
		"attribute value": {Variable{Name: "vm_network", Type: cty.Object(map[string]cty.Type{"vlan": cty.Number})},
			cty.ObjectVal(map[string]cty.Value{"vlan": cty.StringVal("ten")}),
			`variable "vm_network" expects object({vlan=number}), got object({vlan=string}) at vlan: a number is required`},
		"sensitive hides where": {Variable{Name: "vm_disks", Type: cty.List(disk), Sensitive: true},
			cty.TupleVal([]cty.Value{cty.EmptyObjectVal}),
			`variable "vm_disks" expects list(object({size=number})), got tuple`},
		"inferred from default": {Variable{Name: "dns", Type: cty.DynamicPseudoType, HasDefault: true, Default: cty.TupleVal([]cty.Value{cty.StringVal("a")})},
			cty.TupleVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}),
			`variable "dns" expects tuple([string]), got tuple([string,string])`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckValue(tc.v, tc.val)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("CheckValue = %v, want nil", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("CheckValue = nil, want an error starting %q", tc.wantErr)
			case tc.wantErr != "" && !strings.HasPrefix(err.Error(), tc.wantErr):
				t.Fatalf("CheckValue =\n  %s\nwant it to start\n  %s", err, tc.wantErr)
			}
		})
	}
}

func TestCheckValueNeverShowsTheValue(t *testing.T) {
	secret := "hunter2-R3pl@ceMe"
	v := Variable{Name: "vsphere_password", Type: cty.Number, Sensitive: true}
	err := CheckValue(v, cty.ObjectVal(map[string]cty.Value{secret: cty.StringVal(secret)}))
	if err == nil {
		t.Fatal("CheckValue accepted an object for a number")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the value: %s", err)
	}
}
