package hclguard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// Syntax says how Check reads a file.
type Syntax int

const (
	// Native is HCL native syntax: hybrid.hcl, *.pkr.hcl, *.pkrvars.hcl.
	Native Syntax = iota
	// JSON is HCL JSON syntax, whose strings are templates.
	JSON
	// Template is a bare template, such as a templatefile() file.
	Template
)

// SyntaxFor returns JSON for a name ending in ".json" (or ".json.example"),
// Native otherwise.
func SyntaxFor(filename string) Syntax {
	if strings.HasSuffix(strings.TrimSuffix(filename, ".example"), ".json") {
		return JSON
	}
	return Native
}

// Limits on a file, checked before it is parsed.
const (
	// MaxDepth is how deep a file may nest (see Check). Real configurations
	// stay below 30; the HCL parser overflows the Go stack somewhere above
	// 50,000.
	MaxDepth = 256
	// MaxBytes is the size of the largest file hybrid reads as HCL.
	MaxBytes = 32 << 20
	// MaxTokens is roughly how many tokens (names, literals, operators,
	// newlines) a file given to the HCL parser may hold: the parser keeps
	// every token and a syntax tree, a few hundred bytes per token, so this
	// bounds a parse to a few hundred MB. Var files of plain literals are
	// decoded without the parser and are bounded by MaxBytes only.
	MaxTokens = 1 << 19
)

// ErrTooLarge is returned by ReadFile for a file larger than MaxBytes.
var ErrTooLarge = fmt.Errorf("file is larger than %d MiB", MaxBytes>>20)

// ReadFile reads the named file, refusing one larger than MaxBytes without
// reading more than that.
func ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBytes {
		return nil, &os.PathError{Op: "read", Path: name, Err: ErrTooLarge}
	}
	return b, nil
}

// IsTooLarge reports whether err is ReadFile's refusal of a large file.
func IsTooLarge(err error) bool { return errors.Is(err, ErrTooLarge) }

// Check scans src, the content of filename, and reports a file that the HCL
// parser must not be given: one larger than MaxBytes or MaxTokens, or nested
// deeper than MaxDepth. The depth counts one level for each open bracket,
// brace and parenthesis, each string or heredoc and each ${...} or %{...}
// sequence in it, each open %{if} or %{for} directive, and one more for each
// operator, and each index or attribute applied to a bracketed value, in
// one expression: the parser and the evaluator recurse on all of these. The
// scan follows the HCL lexer's rules for comments, strings, escapes and
// heredocs, so brackets inside strings and comments do not count; where it
// could disagree with the lexer it over-counts, or refuses the file.
//
// It costs one pass over the bytes and allocates nothing for a valid file.
func Check(src []byte, filename string, syntax Syntax) hcl.Diagnostics {
	return checkAt(src, filename, syntax, hcl.InitialPos)
}

// CheckTemplate is Check of a template given as an expression's text, such
// as the content of a file templatefile reads, whose positions start at pos.
func CheckTemplate(src []byte, filename string, pos hcl.Pos) hcl.Diagnostics {
	return checkAt(src, filename, Template, pos)
}

func checkAt(src []byte, filename string, syntax Syntax, pos hcl.Pos) hcl.Diagnostics {
	if len(src) > MaxBytes {
		return hcl.Diagnostics{tooLarge(filename, fmt.Sprintf("%s is larger than %d MiB", filename, MaxBytes>>20))}
	}
	s := newScanner(src, filename, pos, MaxDepth)
	if syntax == JSON {
		s.json()
	} else {
		if syntax == Template {
			s.frames[0].kind = kTemplateRoot
		}
		s.native()
	}
	if s.diag != nil {
		return hcl.Diagnostics{s.diag}
	}
	if s.tokens > MaxTokens {
		return hcl.Diagnostics{tooLarge(filename, fmt.Sprintf("%s holds more than %d tokens (names, values, operators, newlines)", filename, MaxTokens))}
	}
	return nil
}

func tooLarge(filename, what string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "File too large",
		Detail:   what + ". hybrid refuses a file this large before parsing it, to bound the memory a parse needs. Split it into smaller files.",
		Subject:  &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

// Frame kinds.
const (
	kRoot         = 'r' // the body of a native file
	kTemplateRoot = 'T' // the whole of a bare template
	kQuoted       = '"' // a quoted string: a template
	kHeredoc      = 'h' // a heredoc: a template
	kDirective    = 'd' // the body of a %{if} or %{for} directive
	kInterp       = 'i' // an expression inside ${...} or %{...}
)

// frame is one open level.
type frame struct {
	kind  byte
	steps int // operators and postfix steps in the current expression
	// tmpl is the index of the enclosing template frame, for template and
	// directive frames.
	tmpl   int
	marker []byte // a heredoc's closing marker
	bol    bool   // a heredoc's current line has had no interpolation yet
}

type scanner struct {
	src       []byte
	filename  string
	i         int
	line      int
	lineStart int // byte offset of the current line's first byte
	colBase   int // column of the first byte, on the first line only
	byteBase  int
	frames    []frame
	total     int // sum of 1+steps over frames, less the root's 1
	peak      int // the largest total seen, for tests
	max       int
	tokens    int
	prev      byte // class of the last significant main-mode token
	diag      *hcl.Diagnostic
}

func newScanner(src []byte, filename string, pos hcl.Pos, max int) *scanner {
	s := &scanner{src: src, filename: filename, line: pos.Line, colBase: pos.Column - 1, byteBase: pos.Byte, max: max}
	s.frames = make([]frame, 1, 16)
	s.frames[0] = frame{kind: kRoot}
	return s
}

func (s *scanner) top() *frame { return &s.frames[len(s.frames)-1] }

func (s *scanner) at(i int) byte {
	if i < len(s.src) {
		return s.src[i]
	}
	return 0
}

func (s *scanner) pos(i int) hcl.Pos {
	col := i - s.lineStart + 1
	if s.lineStart == 0 {
		col += s.colBase
	}
	return hcl.Pos{Line: s.line, Column: col, Byte: s.byteBase + i}
}

func (s *scanner) fail(summary, detail string) {
	if s.diag != nil {
		return
	}
	start := s.pos(s.i)
	end := start
	if s.i < len(s.src) {
		end.Byte++
		end.Column++
	}
	s.diag = &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  &hcl.Range{Filename: s.filename, Start: start, End: end},
	}
	s.i = len(s.src)
}

func (s *scanner) tooDeep() {
	s.fail("Nesting too deep", fmt.Sprintf(
		"%s nests more than %d levels deep at line %d. hybrid counts as one level each open bracket, brace and parenthesis, each string and each ${...} or %%{...} in it, each open %%{if} or %%{for}, and each operator or index in a chain, and refuses a file nested this deep before parsing it, so that it cannot exhaust the stack. Split the expression, for example into locals.",
		s.filename, s.max, s.line))
}

func (s *scanner) push(kind byte) {
	f := frame{kind: kind}
	switch kind {
	case kQuoted, kHeredoc:
		f.tmpl = len(s.frames)
	case kDirective:
		f.tmpl = s.top().tmpl
	}
	s.frames = append(s.frames, f)
	s.total++
	s.peak = max(s.peak, s.total)
	if s.total > s.max {
		s.tooDeep()
	}
}

func (s *scanner) pop() {
	if len(s.frames) == 1 {
		return
	}
	s.total -= 1 + s.top().steps
	s.frames = s.frames[:len(s.frames)-1]
}

// step counts an operator or postfix step in the current expression.
func (s *scanner) step() {
	s.top().steps++
	s.total++
	s.peak = max(s.peak, s.total)
	if s.total > s.max {
		s.tooDeep()
	}
}

// reset ends the current expression of the top frame: a separator.
func (s *scanner) reset() {
	t := s.top()
	s.total -= t.steps
	t.steps = 0
}

func (s *scanner) newline(at int) {
	s.line++
	s.lineStart = at + 1
}

func isTemplateKind(k byte) bool {
	return k == kQuoted || k == kHeredoc || k == kDirective || k == kTemplateRoot
}

func (s *scanner) native() {
	for s.i < len(s.src) && s.diag == nil {
		if isTemplateKind(s.top().kind) {
			s.template()
		} else {
			s.expression()
		}
	}
}

// opening returns the bracket a closing bracket closes.
func opening(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	case '}':
		return '{'
	}
	return 0
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// isPostfixBase reports whether a "[" or "." after a token of class c
// applies to a value (an index or attribute step) rather than starting one.
func isPostfixBase(c byte) bool {
	return c == 'a' || c == '0' || c == ')' || c == ']' || c == '}' || c == '"'
}

// expression scans one token in expression mode.
func (s *scanner) expression() {
	src := s.src
	c := src[s.i]
	next := s.at(s.i + 1)
	switch {
	case c == ' ' || c == '\t' || c == '\r':
		s.i++
		return
	case c == '\n':
		if k := s.top().kind; k == '{' || k == kRoot {
			s.reset()
		}
		s.newline(s.i)
		s.i++
		s.prev = '\n'
	case c == '#' || c == '/' && next == '/':
		for s.i < len(src) && src[s.i] != '\n' {
			s.i++
		}
		return
	case c == '/' && next == '*' && bytes.Contains(src[s.i+2:], []byte("*/")):
		// An unclosed /* is no comment to the lexer, but two operators.
		stop := s.i + 2 + bytes.Index(src[s.i+2:], []byte("*/")) + 2
		for j := s.i; j < stop; j++ {
			if src[j] == '\n' {
				s.newline(j)
			}
		}
		s.i = stop
		return
	case c == '"':
		s.push(kQuoted)
		s.i++
	case c == '<' && next == '<':
		if s.heredoc() {
			break
		}
		s.step()
		s.i++
		s.prev = c
	case c == '{' || c == '(':
		s.push(c)
		s.i++
		s.prev = c
	case c == '[':
		if isPostfixBase(s.prev) {
			s.step()
		}
		s.push(c)
		s.i++
		s.prev = c
	case c == '}':
		s.closeBrace()
		s.i++
		s.prev = c
	case c == '~' && next == '}':
		s.closeBrace()
		s.i += 2
		s.prev = '}'
	case c == ')' || c == ']':
		if s.top().kind == opening(c) {
			s.pop()
		}
		s.i++
		s.prev = c
	case c == ',':
		s.reset()
		s.i++
		s.prev = c
	case c == '=':
		switch next {
		case '=':
			s.step()
			s.i += 2
		case '>':
			s.i += 2
		default:
			if k := s.top().kind; k == '{' || k == kRoot {
				s.reset()
			}
			s.i++
		}
		s.prev = c
	case c == '!' || c == '<' || c == '>':
		s.step()
		s.i++
		if next == '=' {
			s.i++
		}
		s.prev = c
	case c == '&' || c == '|':
		s.step()
		s.i++
		if next == c {
			s.i++
		}
		s.prev = c
	case c == '+' || c == '-' || c == '*' || c == '/' || c == '%' || c == '?':
		s.step()
		s.i++
		s.prev = c
	case c == '.':
		if next == '.' && s.at(s.i+2) == '.' {
			s.i += 3
		} else {
			if s.prev != 'a' && isPostfixBase(s.prev) {
				s.step()
			}
			s.i++
		}
		s.prev = '.'
	case isLetter(c) || c == '_' || c >= 0x80:
		for s.i < len(src) {
			d := src[s.i]
			if d >= 0x80 {
				if !s.utf8() {
					return
				}
				continue
			}
			if !isLetter(d) && !isDigit(d) && d != '_' && d != '-' {
				break
			}
			s.i++
		}
		s.prev = 'a'
	case isDigit(c):
		s.number()
		s.prev = '0'
	default:
		s.i++
		s.prev = c
	}
	s.tokens++
}

// number scans an HCL number literal: digits, an optional fraction and an
// optional exponent, whose sign is not an operator.
func (s *scanner) number() {
	src := s.src
	for s.i < len(src) && isDigit(src[s.i]) {
		s.i++
	}
	if s.at(s.i) == '.' && isDigit(s.at(s.i+1)) {
		s.i++
		for s.i < len(src) && isDigit(src[s.i]) {
			s.i++
		}
	}
	if e := s.at(s.i); e == 'e' || e == 'E' {
		j := s.i + 1
		if d := s.at(j); d == '+' || d == '-' {
			j++
		}
		if isDigit(s.at(j)) {
			s.i = j
			for s.i < len(src) && isDigit(src[s.i]) {
				s.i++
			}
		}
	}
}

// heredoc starts a heredoc at "<<" when what follows introduces one, as the
// lexer reads it: "<<" or "<<-", an identifier, a newline.
func (s *scanner) heredoc() bool {
	src := s.src
	j := s.i + 2
	if s.at(j) == '-' {
		j++
	}
	start := j
	if c := s.at(j); c >= 0x80 {
		s.unsupportedMarker()
		return true
	} else if !isLetter(c) {
		return false
	}
	for j < len(src) && (isLetter(src[j]) || isDigit(src[j]) || src[j] == '_' || src[j] == '-') {
		j++
	}
	if s.at(j) >= 0x80 {
		s.unsupportedMarker()
		return true
	}
	marker := src[start:j]
	if s.at(j) == '\r' {
		j++
	}
	if s.at(j) != '\n' {
		return false
	}
	s.push(kHeredoc)
	t := s.top()
	t.marker = marker
	t.bol = true
	s.newline(j)
	s.i = j + 1
	s.tokens++
	return true
}

func (s *scanner) unsupportedMarker() {
	s.fail("Unsupported heredoc marker",
		"hybrid accepts heredoc markers of ASCII letters, digits, \"_\" and \"-\", starting with a letter (<<EOT, <<-END_OF_SCRIPT). Rename the marker.")
}

// closeBrace handles "}" in expression mode as the lexer does: it ends the
// innermost ${...} or %{...} sequence when every brace opened inside it is
// closed, and closes the innermost open brace otherwise. Unclosed brackets
// inside are dropped with it, as the parser gives up on them.
func (s *scanner) closeBrace() {
	for j := len(s.frames) - 1; j > 0; j-- {
		switch s.frames[j].kind {
		case '{', kInterp:
			for len(s.frames) > j {
				s.pop()
			}
			return
		case '(', '[':
			continue
		}
		return
	}
}

// template scans a run of template text, up to and including the next
// character that matters.
func (s *scanner) template() {
	src := s.src
	t := &s.frames[s.top().tmpl]
	quoted := t.kind == kQuoted
	for s.i < len(src) {
		c := src[s.i]
		switch {
		case c == '$' || c == '%':
			next := s.at(s.i + 1)
			if next == '{' {
				s.interpolation(c == '%', t)
				return
			}
			if next == c && s.at(s.i+2) == '{' {
				s.i += 3 // $${ and %%{ are literal
				continue
			}
			s.i++
		case c == '\\' && quoted:
			if n := s.at(s.i + 1); n != 0 && n != '\n' && n != '\r' {
				s.i += 2
			} else {
				s.i++
			}
		case c == '"' && quoted:
			s.endTemplate()
			s.i++
			s.prev = '"'
			s.tokens++
			return
		case c == '\n':
			if t.kind == kHeredoc {
				if t.bol && bytes.Equal(bytes.TrimSpace(src[s.lineStart:s.i]), t.marker) {
					// The marker line ends the heredoc; its newline is
					// the expression's.
					s.endTemplate()
					s.prev = '"'
					s.tokens++
					return
				}
				t.bol = true
			}
			s.newline(s.i)
			s.i++
			s.tokens++
		case c >= 0x80:
			if !s.utf8() {
				return
			}
		default:
			s.i++
		}
	}
}

// utf8 skips the UTF-8 encoded character at s.i, or refuses the file if
// there is none: the lexer reads a malformed sequence as a character of as
// many bytes as its first byte announces, which could swallow a quote, and
// the scanner would then disagree with it about what is a string.
func (s *scanner) utf8() bool {
	r, n := utf8.DecodeRune(s.src[s.i:])
	if r == utf8.RuneError && n <= 1 {
		s.fail("Invalid UTF-8", fmt.Sprintf("%s holds a byte that is not UTF-8 at line %d. HCL files must be encoded in UTF-8.", s.filename, s.line))
		return false
	}
	s.i += n
	return true
}

// interpolation enters a ${...} or %{...} sequence at s.i, opening a
// directive body for %{if} and %{for} and closing one for %{endif} and
// %{endfor}.
func (s *scanner) interpolation(control bool, t *frame) {
	s.i += 2
	if s.at(s.i) == '~' {
		s.i++
	}
	t.bol = false
	s.tokens++
	if control {
		j := s.i
		for s.at(j) == ' ' || s.at(j) == '\t' {
			j++
		}
		k := j
		for isLetter(s.at(k)) {
			k++
		}
		switch string(s.src[j:k]) {
		case "if", "for":
			s.push(kDirective)
		case "endif", "endfor":
			if s.top().kind == kDirective {
				s.pop()
			}
		}
	}
	s.push(kInterp)
	s.prev = 0
}

// endTemplate closes the innermost template and the directives open in it.
func (s *scanner) endTemplate() {
	t := s.top().tmpl
	for len(s.frames) > t {
		s.pop()
	}
}

// json scans HCL JSON: objects and arrays nest, and every string is a
// template, scanned as one at the depth where it is.
func (s *scanner) json() {
	src := s.src
	inToken := false
	for s.i < len(src) && s.diag == nil {
		c := src[s.i]
		switch c {
		case ' ', '\t', '\r', '\n', ',', ':':
			if c == '\n' {
				s.newline(s.i)
			}
			inToken = false
			s.i++
			continue
		case '{', '[':
			s.push(c)
		case '}', ']':
			if s.top().kind == opening(c) {
				s.pop()
			}
		case '"':
			s.jsonString()
			inToken = false
			continue
		default:
			if inToken {
				s.i++
				continue
			}
			inToken = true
			s.i++
			s.tokens++
			continue
		}
		inToken = false
		s.i++
		s.tokens++
	}
}

// jsonString scans a JSON string at s.i and its content as a template.
func (s *scanner) jsonString() {
	src := s.src
	start := s.i
	j := s.i + 1
	escaped := false
	for j < len(src) && src[j] != '"' {
		if src[j] == '\\' {
			escaped = true
			j++
		}
		j++
	}
	end := min(j, len(src))
	content := src[start+1 : end]
	s.tokens++
	if escaped {
		var str string
		if j < len(src) && json.Unmarshal(src[start:j+1], &str) == nil {
			content = []byte(str)
		}
	}
	if bytes.Contains(content, []byte("{")) {
		// The template nests inside the string, at this depth.
		sub := newScanner(content, s.filename, s.pos(start), s.max)
		sub.frames[0].kind = kTemplateRoot
		sub.total = s.total + 1
		sub.native()
		s.peak = max(s.peak, sub.peak)
		s.tokens += sub.tokens
		s.diag = sub.diag
	}
	for k := start; k < end; k++ {
		if src[k] == '\n' {
			s.newline(k)
		}
	}
	s.i = end + 1
}
