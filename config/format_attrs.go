package config

import (
	"bytes"
	"math/big"
	"strconv"
	"sync"
	"unsafe"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// attrCache holds each distinct attribute formatted alone by hclwrite. A
// workspace renders the same values (an environment's settings, a var
// group's files) into many var files; formatting is the costly part of a
// render, so each distinct name and value is formatted once per Config.
type attrCache struct {
	m sync.Map // key -> []byte
	// byID holds attributes by the map of values they come from, for
	// the maps that live as long as the Config (see attrID).
	mu   sync.RWMutex
	byID map[attrID][]byte
}

// attrID names an attribute by where its value is kept: the values map of
// one of the Config's own layers, which lives as long as the Config and is
// never changed, so the same ID always has the same value. The zero attrID
// names nothing.
type attrID struct {
	values unsafe.Pointer
	name   string
}

// formatAttributes renders name = value lines exactly as hclwrite.Format
// lays out a body of these attributes, but formats each distinct attribute
// only once: hclwrite's only layout across attributes is the alignment of
// "=" over a run of consecutive attributes, which this function redoes.
//
// ids, when not nil, names each attribute (see attrID), so that a value
// met again is not even looked at.
func (c *attrCache) formatAttributes(names []string, values []cty.Value, ids []attrID) []byte {
	// Each attribute formatted alone, without the final newline.
	formatted := make([][]byte, len(names))
	total := 0
	for i, name := range names {
		var id attrID
		if ids != nil {
			id = ids[i]
		}
		if b, ok := c.cached(id); ok {
			formatted[i] = b
		} else {
			formatted[i] = bytes.TrimSuffix(c.formatOne(name, values[i]), []byte{'\n'})
			if id.values != nil {
				c.keep(id, formatted[i])
			}
		}
		total += len(formatted[i]) + 1
	}
	multiLine := func(i int) bool { return bytes.IndexByte(formatted[i], '\n') >= 0 }
	var buf bytes.Buffer
	buf.Grow(total + total/4)
	for start := 0; start < len(names); {
		// "=" aligns over a run of consecutive one-line attributes; a
		// multi-line attribute stands alone.
		end := start + 1
		width := len(names[start])
		if !multiLine(start) {
			for end < len(names) && !multiLine(end) {
				width = max(width, len(names[end]))
				end++
			}
		}
		for i := start; i < end; i++ {
			name, f := names[i], formatted[i]
			first, rest, _ := bytes.Cut(f, []byte{'\n'})
			buf.WriteString(name)
			for range width - len(name) + 1 {
				buf.WriteByte(' ')
			}
			buf.Write(bytes.TrimLeft(first[len(name):], " ")) // "= value..."
			buf.WriteByte('\n')
			if len(rest) > 0 {
				buf.Write(rest)
				buf.WriteByte('\n')
			}
		}
		start = end
	}
	return buf.Bytes()
}

// cached returns the attribute id names, formatted, when it was before.
func (c *attrCache) cached(id attrID) ([]byte, bool) {
	if id.values == nil {
		return nil, false
	}
	c.mu.RLock()
	b, ok := c.byID[id]
	c.mu.RUnlock()
	return b, ok
}

// keep remembers the attribute id names, formatted.
func (c *attrCache) keep(id attrID, b []byte) {
	c.mu.Lock()
	if c.byID == nil {
		c.byID = map[attrID][]byte{}
	}
	c.byID[id] = b
	c.mu.Unlock()
}

// formatOne formats one attribute alone with hclwrite, through the cache.
// Plain strings, bools and whole numbers, most of what var files hold, are
// written directly, as hclwrite writes them.
func (c *attrCache) formatOne(name string, v cty.Value) []byte {
	if b, ok := formatPlain(name, v); ok {
		return b
	}
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

// formatPlain writes name = value for a value whose text hclwrite would
// write as it is: a bool, a whole number, or a string of printable ASCII
// that needs no escape.
func formatPlain(name string, v cty.Value) ([]byte, bool) {
	if v.IsNull() || !v.IsKnown() || v.IsMarked() {
		return nil, false
	}
	var text string
	switch v.Type() {
	case cty.Bool:
		text = strconv.FormatBool(v.True())
	case cty.Number:
		tokens, whole := wholeNumber(v)
		if !whole {
			return nil, false
		}
		text = string(tokens.Bytes())
	case cty.String:
		s := v.AsString()
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{' {
				return nil, false
			}
		}
		text = `"` + s + `"`
	default:
		return nil, false
	}
	b := make([]byte, 0, len(name)+len(text)+4)
	b = append(b, name...)
	b = append(b, " = "...)
	b = append(b, text...)
	return append(b, '\n'), true
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
