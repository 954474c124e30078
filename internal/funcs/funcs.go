// Package funcs holds the HCL functions hybrid.hcl and packer templates
// share that the cty standard library lacks in the form Terraform and
// packer give them.
package funcs

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Length is Terraform's length, which packer uses too: the number of
// characters of a string, or of elements of a collection. Marks carry over.
var Length = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true, AllowMarked: true}},
	Type:   function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, marks := args[0].Unmark()
		if v.Type() == cty.String {
			n, err := stdlib.StrlenFunc.Call([]cty.Value{v})
			return n.WithMarks(marks), err
		}
		n, err := stdlib.LengthFunc.Call([]cty.Value{v})
		return n.WithMarks(marks), err
	},
})
