package config

import (
	"bytes"
	"math/big"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// attrCache holds each distinct attribute formatted alone by hclwrite. A
// workspace renders the same values (an environment's settings, a var
// group's files) into many var files; formatting is the costly part of a
// render, so each distinct name and value is formatted once per Config.
type attrCache struct{ m sync.Map } // key -> []byte

// formatAttributes renders name = value lines exactly as hclwrite.Format
// lays out a body of these attributes, but formats each distinct attribute
// only once: hclwrite's only layout across attributes is the alignment of
// "=" over a run of consecutive attributes, which this function redoes.
func (c *attrCache) formatAttributes(names []string, values []cty.Value) []byte {
	type attr struct {
		name  string
		lines []string // the attribute formatted alone, without the final newline
	}
	attrs := make([]attr, len(names))
	for i, name := range names {
		attrs[i] = attr{name, strings.Split(strings.TrimSuffix(string(c.formatOne(name, values[i])), "\n"), "\n")}
	}
	var buf bytes.Buffer
	for start := 0; start < len(attrs); {
		// "=" aligns over a run of consecutive one-line attributes; a
		// multi-line attribute stands alone.
		end := start + 1
		width := len(attrs[start].name)
		if len(attrs[start].lines) == 1 {
			for end < len(attrs) && len(attrs[end].lines) == 1 {
				width = max(width, len(attrs[end].name))
				end++
			}
		}
		for _, a := range attrs[start:end] {
			first := a.lines[0][len(a.name):] // " = value..."
			first = strings.TrimLeft(first, " ")
			buf.WriteString(a.name)
			buf.WriteString(strings.Repeat(" ", width-len(a.name)+1))
			buf.WriteString(first)
			buf.WriteByte('\n')
			for _, l := range a.lines[1:] {
				buf.WriteString(l)
				buf.WriteByte('\n')
			}
		}
		start = end
	}
	return buf.Bytes()
}

// formatOne formats one attribute alone with hclwrite, through the cache.
func (c *attrCache) formatOne(name string, v cty.Value) []byte {
	key, ok := valueKey(name, v)
	if ok {
		if b, hit := c.m.Load(key); hit {
			return b.([]byte)
		}
	}
	f := hclwrite.NewEmptyFile()
	if tokens, whole := wholeNumber(v); whole {
		f.Body().SetAttributeRaw(name, tokens)
	} else {
		f.Body().SetAttributeValue(name, v)
	}
	b := f.Bytes()
	if ok {
		c.m.Store(key, b)
	}
	return b
}

// valueKey identifies an attribute's name, type and value exactly. Strings,
// bools and whole numbers, most of what var files hold, get a key without
// encoding the value as JSON.
func valueKey(name string, v cty.Value) (string, bool) {
	if v.IsNull() || !v.IsKnown() || v.IsMarked() {
		return "", false
	}
	switch v.Type() {
	case cty.String:
		return name + "\x00s" + v.AsString(), true
	case cty.Bool:
		if v.True() {
			return name + "\x00b1", true
		}
		return name + "\x00b0", true
	case cty.Number:
		if bf := v.AsBigFloat(); bf.IsInt() {
			if i, acc := bf.Int64(); acc == big.Exact {
				return name + "\x00n" + strconv.FormatInt(i, 10), true
			}
		}
	}
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return "", false
	}
	val, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return "", false
	}
	return name + "\x00j" + string(ty) + "\x00" + string(val), true
}
