package funcs

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestLength(t *testing.T) {
	cases := []struct {
		in   cty.Value
		want int64
	}{
		{cty.StringVal("héllo"), 5},
		{cty.StringVal(""), 0},
		{cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")}), 2},
		{cty.MapVal(map[string]cty.Value{"k": cty.True}), 1},
		{cty.TupleVal([]cty.Value{cty.True, cty.Zero, cty.StringVal("x")}), 3},
	}
	for _, c := range cases {
		got, err := Length.Call([]cty.Value{c.in})
		if err != nil {
			t.Fatalf("length(%#v): %v", c.in, err)
		}
		if n, _ := got.AsBigFloat().Int64(); n != c.want {
			t.Errorf("length(%#v) = %d, want %d", c.in, n, c.want)
		}
	}

	secret, err := Length.Call([]cty.Value{cty.StringVal("hunter22").Mark("sensitive")})
	if err != nil {
		t.Fatal(err)
	}
	if !secret.HasMark("sensitive") {
		t.Errorf("length of a sensitive string lost its mark")
	}
}
