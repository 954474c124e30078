package config

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// hclwriteBody is the reference: hclwrite formatting the whole body.
func hclwriteBody(names []string, values []cty.Value) []byte {
	f := hclwrite.NewEmptyFile()
	for i, n := range names {
		f.Body().SetAttributeValue(n, values[i])
	}
	return f.Bytes()
}

func sampleValue(r *rand.Rand, depth int) cty.Value {
	switch k := r.Intn(9); {
	case k == 0:
		return cty.NumberIntVal(int64(r.Intn(100000) - 500))
	case k == 1:
		return cty.NumberFloatVal(r.Float64() * 1000)
	case k == 2:
		return cty.BoolVal(r.Intn(2) == 0)
	case k == 3:
		strs := []string{"", "x", "ünïcødé ✓", "with \"quotes\"\nand newline", "${not.interp}", "%{x}", "a\tb",
			"100%", "$", "a$b%c", "50% {x} $ {y}", "$${x}", "back\\slash", "del\x7f", "~!@#^&*()_+-=[]{}|;':,./<>?`", "plain-ascii_value.1"}
		return cty.StringVal(strs[r.Intn(len(strs))])
	case k == 4 && depth < 3:
		n := r.Intn(4)
		if n == 0 {
			return cty.ListValEmpty(cty.String)
		}
		vals := make([]cty.Value, n)
		for i := range vals {
			vals[i] = cty.StringVal(fmt.Sprintf("item-%d", r.Intn(50)))
		}
		return cty.ListVal(vals)
	case k == 5 && depth < 3:
		attrs := map[string]cty.Value{}
		for i := 0; i < r.Intn(4); i++ {
			attrs[[]string{"a", "bb", "long_name", "x-y", "with space"}[r.Intn(5)]] = sampleValue(r, depth+1)
		}
		return cty.ObjectVal(attrs)
	case k == 6 && depth < 3:
		n := 1 + r.Intn(3)
		vals := make([]cty.Value, n)
		for i := range vals {
			vals[i] = sampleValue(r, depth+1)
		}
		return cty.TupleVal(vals)
	case k == 7 && depth < 3:
		m := map[string]cty.Value{}
		for i := 0; i < 1+r.Intn(3); i++ {
			m[fmt.Sprintf("k%d", r.Intn(9))] = cty.NumberIntVal(int64(r.Intn(9)))
		}
		return cty.MapVal(m)
	}
	return cty.StringVal(fmt.Sprintf("s%d", r.Intn(1000)))
}

// TestFormatAttributesMatchesHCLWrite checks the cached, re-aligned layout
// against hclwrite formatting the whole body, over many random bodies.
func TestFormatAttributesMatchesHCLWrite(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	names := []string{"a", "bb", "vm_mem_size", "x", "enable_ansible", "iso_checksum_value", "os", "z_last"}
	for i := 0; i < 3000; i++ {
		n := 1 + r.Intn(len(names))
		perm := r.Perm(len(names))[:n]
		var ns []string
		var vs []cty.Value
		for _, p := range perm {
			ns = append(ns, names[p])
			vs = append(vs, sampleValue(r, 0))
		}
		want := string(hclwriteBody(ns, vs))
		got := string(new(attrCache).formatAttributes(ns, vs, nil))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("body %d differs from hclwrite (-hclwrite +ours):\n%s", i, diff)
		}
	}
}
