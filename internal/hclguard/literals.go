package hclguard

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Literals is a file of attributes with literal values, decoded without the
// HCL parser.
type Literals struct {
	Values map[string]cty.Value
	// Ranges holds each attribute's range, from its name to the end of its
	// value, as hclsyntax gives it.
	Ranges map[string]hcl.Range
	// File is the file as the HCL parser would return it, for
	// hclparse.Parser.AddFile, so that diagnostics about its lines show them.
	File *hcl.File
}

// ParseLiterals decodes src, HCL native syntax, when every line of it is
// blank, a comment, or an attribute whose value is a literal: a quoted
// string of printable ASCII without interpolations, an unsigned number,
// true, false or null. It returns false for anything else, and the file
// must then be parsed as usual: the result is then exactly what the parser
// would give, so ParseLiterals is only a shortcut.
//
// Var files are almost always of this shape, and the HCL parser needs some
// hundred bytes and a microsecond per token for them: a 500,000-line var
// file takes seconds and a GB to parse, and a few hundred ms and MB here.
func ParseLiterals(src []byte, filename string) (*Literals, bool) {
	if len(src) > MaxBytes || SyntaxFor(filename) != Native {
		return nil, false
	}
	lines := min(bytes.Count(src, []byte{'\n'})+1, 1<<20)
	lits := &Literals{Values: make(map[string]cty.Value, lines), Ranges: make(map[string]hcl.Range, lines)}
	p := literalParser{src: src, line: 1}
	var sb strings.Builder
	for p.i < len(src) {
		p.spaces()
		if p.eol() {
			continue
		}
		c := src[p.i]
		if c == '#' || c == '/' && p.at(p.i+1) == '/' {
			p.comment()
			continue
		}
		if !isLetter(c) {
			return nil, false
		}
		start := p.pos()
		for p.i < len(src) && (isLetter(src[p.i]) || isDigit(src[p.i]) || src[p.i] == '_' || src[p.i] == '-') {
			p.i++
		}
		name := string(src[start.Byte:p.i])
		p.spaces()
		if p.at(p.i) != '=' || p.at(p.i+1) == '=' || p.at(p.i+1) == '>' {
			return nil, false
		}
		p.i++
		p.spaces()
		v, ok := p.value(&sb)
		if !ok {
			return nil, false
		}
		end := p.pos()
		p.spaces()
		if c := p.at(p.i); c == '#' || c == '/' && p.at(p.i+1) == '/' {
			p.comment()
		} else if !p.eol() {
			return nil, false
		}
		if _, dup := lits.Values[name]; dup {
			return nil, false // the parser says where it was first defined
		}
		lits.Values[name] = v
		lits.Ranges[name] = hcl.Range{Filename: filename, Start: start, End: end}
	}
	endPos := p.pos()
	lits.File = &hcl.File{Bytes: src, Body: &literalBody{
		filename: filename, values: lits.Values, ranges: lits.Ranges,
		end: hcl.Range{Filename: filename, Start: endPos, End: endPos},
	}}
	return lits, true
}

type literalParser struct {
	src       []byte
	i         int
	line      int
	lineStart int
}

func (p *literalParser) at(i int) byte {
	if i < len(p.src) {
		return p.src[i]
	}
	return 0
}

// pos is the position of p.i, on a line of ASCII so far, where columns are
// bytes.
func (p *literalParser) pos() hcl.Pos {
	return hcl.Pos{Line: p.line, Column: p.i - p.lineStart + 1, Byte: p.i}
}

func (p *literalParser) spaces() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t') {
		p.i++
	}
}

// eol consumes a line end ("\n", "\r\n" or the end of the file).
func (p *literalParser) eol() bool {
	switch {
	case p.i >= len(p.src):
		return true
	case p.src[p.i] == '\n':
		p.i++
	case p.src[p.i] == '\r' && p.at(p.i+1) == '\n':
		p.i += 2
	default:
		return false
	}
	p.line++
	p.lineStart = p.i
	return true
}

// comment consumes a # or // comment and its line end.
func (p *literalParser) comment() {
	for p.i < len(p.src) && p.src[p.i] != '\n' {
		p.i++
	}
	p.eol()
}

func (p *literalParser) value(sb *strings.Builder) (cty.Value, bool) {
	src := p.src
	c := p.at(p.i)
	switch {
	case c == '"':
		sb.Reset()
		p.i++
		for {
			if p.i >= len(src) {
				return cty.NilVal, false
			}
			c := src[p.i]
			switch {
			case c == '"':
				p.i++
				return cty.StringVal(sb.String()), true
			case c == '\\':
				switch p.at(p.i + 1) {
				case '\\':
					sb.WriteByte('\\')
				case '"':
					sb.WriteByte('"')
				case 'n':
					sb.WriteByte('\n')
				case 'r':
					sb.WriteByte('\r')
				case 't':
					sb.WriteByte('\t')
				default:
					return cty.NilVal, false
				}
				p.i += 2
			case c == '$' || c == '%':
				if p.at(p.i+1) == '{' {
					return cty.NilVal, false // an interpolation or directive
				}
				if p.at(p.i+1) == c && p.at(p.i+2) == '{' {
					sb.WriteByte(c) // $${ is a literal ${
					sb.WriteByte('{')
					p.i += 3
					continue
				}
				sb.WriteByte(c)
				p.i++
			case c == '\t' || c >= 0x20 && c < 0x7f:
				sb.WriteByte(c)
				p.i++
			default:
				return cty.NilVal, false
			}
		}
	case isDigit(c):
		start := p.i
		for isDigit(p.at(p.i)) {
			p.i++
		}
		if p.at(p.i) == '.' && isDigit(p.at(p.i+1)) {
			p.i++
			for isDigit(p.at(p.i)) {
				p.i++
			}
		}
		if e := p.at(p.i); e == 'e' || e == 'E' {
			j := p.i + 1
			if s := p.at(j); s == '+' || s == '-' {
				j++
			}
			if !isDigit(p.at(j)) {
				return cty.NilVal, false
			}
			for p.i = j; isDigit(p.at(p.i)); p.i++ {
			}
		}
		if p.i-start > 64 {
			return cty.NilVal, false
		}
		v, err := cty.ParseNumberVal(string(src[start:p.i]))
		return v, err == nil
	case isLetter(c):
		start := p.i
		for isLetter(p.at(p.i)) || isDigit(p.at(p.i)) || p.at(p.i) == '_' || p.at(p.i) == '-' {
			p.i++
		}
		switch string(src[start:p.i]) {
		case "true":
			return cty.True, true
		case "false":
			return cty.False, true
		case "null":
			return cty.NullVal(cty.DynamicPseudoType), true
		}
	}
	return cty.NilVal, false
}

// literalBody is the hcl.Body of a file ParseLiterals decoded.
type literalBody struct {
	filename string
	values   map[string]cty.Value
	ranges   map[string]hcl.Range
	end      hcl.Range
	hidden   map[string]bool
}

func (b *literalBody) attribute(name string) *hcl.Attribute {
	rng := b.ranges[name]
	nameRng := rng
	nameRng.End = hcl.Pos{Line: rng.Start.Line, Column: rng.Start.Column + len(name), Byte: rng.Start.Byte + len(name)}
	return &hcl.Attribute{Name: name, Expr: hcl.StaticExpr(b.values[name], rng), Range: rng, NameRange: nameRng}
}

func (b *literalBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	attrs := make(hcl.Attributes, len(b.values))
	for name := range b.values {
		if !b.hidden[name] {
			attrs[name] = b.attribute(name)
		}
	}
	return attrs, nil
}

func (b *literalBody) Content(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	content, remain, diags := b.PartialContent(schema)
	rest, _ := remain.JustAttributes()
	for name, a := range rest {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsupported argument",
			Detail:   fmt.Sprintf("An argument named %q is not expected here.", name),
			Subject:  a.NameRange.Ptr(),
		})
	}
	return content, diags
}

func (b *literalBody) PartialContent(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	content := &hcl.BodyContent{Attributes: hcl.Attributes{}, MissingItemRange: b.end}
	hidden := map[string]bool{}
	for name := range b.hidden {
		hidden[name] = true
	}
	var diags hcl.Diagnostics
	for _, as := range schema.Attributes {
		if _, ok := b.values[as.Name]; ok && !b.hidden[as.Name] {
			content.Attributes[as.Name] = b.attribute(as.Name)
			hidden[as.Name] = true
			continue
		}
		if as.Required {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Missing required argument",
				Detail:   fmt.Sprintf("The argument %q is required, but no definition was found.", as.Name),
				Subject:  b.end.Ptr(),
			})
		}
	}
	return content, &literalBody{filename: b.filename, values: b.values, ranges: b.ranges, end: b.end, hidden: hidden}, diags
}

func (b *literalBody) MissingItemRange() hcl.Range { return b.end }
