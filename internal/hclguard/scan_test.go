package hclguard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// depth runs the scanner without a limit and returns the deepest level it
// counted, or a huge number when it refused the input.
func depth(src string, syntax Syntax) int {
	s := newScanner([]byte(src), "x", hcl.InitialPos, 1<<30)
	switch syntax {
	case JSON:
		s.json()
	case Template:
		s.frames[0].kind = kTemplateRoot
		s.native()
	default:
		s.native()
	}
	if s.diag != nil {
		return 1 << 30
	}
	return s.peak
}

// lexerDepth is the nesting of brackets, strings, heredocs, template
// sequences and directives in the HCL lexer's tokens, kept with the
// scanner's rules for mismatched closers: the scanner, which reads bytes,
// must never count less, or it disagrees with the lexer about what is a
// string, a comment or a heredoc.
func lexerDepth(src []byte) int {
	toks, _ := hclsyntax.LexConfig(src, "x", hcl.InitialPos)
	var stack []byte
	peak := 0
	push := func(k byte) {
		stack = append(stack, k)
		peak = max(peak, len(stack))
	}
	top := func() byte {
		if len(stack) == 0 {
			return 0
		}
		return stack[len(stack)-1]
	}
	popTo := func(kinds string, through string) {
		for j := len(stack) - 1; j >= 0; j-- {
			if strings.IndexByte(kinds, stack[j]) >= 0 {
				stack = stack[:j]
				return
			}
			if strings.IndexByte(through, stack[j]) < 0 {
				return
			}
		}
	}
	for i, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOParen:
			push('(')
		case hclsyntax.TokenOBrack:
			push('[')
		case hclsyntax.TokenOBrace:
			push('{')
		case hclsyntax.TokenOQuote:
			push('"')
		case hclsyntax.TokenOHeredoc:
			push('h')
		case hclsyntax.TokenTemplateInterp:
			push('i')
		case hclsyntax.TokenTemplateControl:
			if i+1 < len(toks) && toks[i+1].Type == hclsyntax.TokenIdent {
				switch string(toks[i+1].Bytes) {
				case "if", "for":
					push('d')
				case "endif", "endfor":
					if top() == 'd' {
						stack = stack[:len(stack)-1]
					}
				}
			}
			push('i')
		case hclsyntax.TokenCParen:
			if top() == '(' {
				stack = stack[:len(stack)-1]
			}
		case hclsyntax.TokenCBrack:
			if top() == '[' {
				stack = stack[:len(stack)-1]
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenTemplateSeqEnd:
			popTo("{i", "([")
		case hclsyntax.TokenCQuote:
			popTo("\"", "d")
		case hclsyntax.TokenCHeredoc:
			popTo("h", "d")
		}
	}
	return peak
}

func TestDepthCounts(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		syntax Syntax
		want   int
	}{
		{"flat", "a = 1\nb = \"x\"\n", Native, 1},
		{"object", "a = { b = { c = [1, (2)] } }\n", Native, 4},
		{"block bodies", "image \"x\" {\n  values = { a = 1 }\n}\n", Native, 2},
		{"brackets in strings", `a = "(((([[[[{{{{"` + "\n", Native, 1},
		{"escaped quote", `a = "\"(((("` + "\n", Native, 1},
		{"brackets in comments", "# ((((\n// [[[[\n/* {{{{\n */ a = 1\n", Native, 0},
		{"interpolation", `a = "${upper("x")}"` + "\n", Native, 4},
		{"escaped interpolation", `a = "$${((((" ` + "\n", Native, 1},
		{"directive", `a = "%{if true}%{if true}x%{endif}%{endif}"` + "\n", Native, 4},
		{"heredoc", "a = <<EOT\n((((\n${x}\nEOT\nb = 1\n", Native, 2},
		{"indented heredoc", "a = <<-EOT\n  [[[[\n  EOT\nb = [[1]]\n", Native, 2},
		{"operators", "a = 1 + 2 * 3 - 4\n", Native, 3},
		{"operators reset by newline", "a = 1 + 2\nb = 3 + 4\n", Native, 1},
		{"operators reset by comma", "a = [1 + 2, 3 + 4]\n", Native, 2},
		{"names with dashes", "a = [image.linux-debian-12-x]\n", Native, 1},
		{"exponent sign", "a = 1e-5\n", Native, 0},
		{"negative", "a = -5\n", Native, 1},
		{"index chain", "a = x[0][1][2]\n", Native, 4},
		{"for", "a = [for x in y: x if x]\n", Native, 1},
		{"json", `{"a": {"b": [1, "${x}"]}}`, JSON, 5},
		{"json string brackets", `{"a": "(((("}`, JSON, 1},
		{"template", "a ${b} %{for x in y}${x}%{endfor}", Template, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := depth(tt.src, tt.syntax); got != tt.want {
				t.Errorf("depth = %d, want %d", got, tt.want)
			}
			if tt.syntax == Native {
				if lex := lexerDepth([]byte(tt.src)); depth(tt.src, Native) < lex {
					t.Errorf("depth %d is below the lexer's %d", depth(tt.src, Native), lex)
				}
			}
		})
	}
}

// TestCheckRefusesDeepInputs generates the inputs that overflow the HCL
// parser's or evaluator's stack at some depth, 100,000 levels deep, and
// checks each is refused quickly with a diagnostic at its file and line.
func TestCheckRefusesDeepInputs(t *testing.T) {
	const n = 100_000
	rep := strings.Repeat
	// Each input starts with a line that is fine; line is where the
	// scanner passes MaxDepth, 2 when it is all on one line.
	inputs := map[string]struct {
		src    string
		syntax Syntax
		line   int
	}{
		"parentheses":   {"a = 1\nb = " + rep("(", n) + "1" + rep(")", n) + "\n", Native, 2},
		"brackets":      {"a = 1\nb = " + rep("[", n) + rep("]", n) + "\n", Native, 2},
		"objects":       {"a = 1\nb = " + rep("{a=", n) + "1" + rep("}", n) + "\n", Native, 2},
		"blocks":        {"a = 1\n" + rep("b {\n", n) + rep("}\n", n), Native, 2 + MaxDepth},
		"not":           {"a = 1\nb = " + rep("!", n) + "true\n", Native, 2},
		"minus":         {"a = 1\nb = " + rep("-", n) + "1\n", Native, 2},
		"sum":           {"a = 1\nb = 1" + rep("+1", n) + "\n", Native, 2},
		"conditional":   {"a = 1\nb = " + rep("true ? 1 : ", n) + "2\n", Native, 2},
		"splat":         {"a = 1\nb = [1]" + rep("[*]", n) + "\n", Native, 2},
		"interpolated":  {"a = 1\nb = " + rep(`"${`, n) + "1" + rep(`}"`, n) + "\n", Native, 2},
		"directives":    {"a = 1\nb = \"" + rep("%{if true}", n) + rep("%{endif}", n) + "\"\n", Native, 2},
		"heredocs":      {"a = 1\nb = " + rep("<<EOT\n${", n), Native, 2 + MaxDepth/2},
		"json":          {"{\n\"a\": " + rep("[", n) + rep("]", n) + "}", JSON, 2},
		"json template": {"{\n\"a\": \"" + rep("${(", n) + "\"}", JSON, 2},
		"template":      {"x\n" + rep("%{for a in b}", n), Template, 2},
	}
	trials := 0
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			diags := Check([]byte(in.src), "hostile.hcl", in.syntax)
			took := time.Since(start)
			trials++
			if !diags.HasErrors() {
				t.Fatalf("%d bytes nested %d deep passed the check", len(in.src), n)
			}
			d := diags[0]
			if d.Summary != "Nesting too deep" || d.Subject == nil || d.Subject.Filename != "hostile.hcl" || d.Subject.Start.Line != in.line {
				t.Errorf("diagnostic = %s (subject %v), want Nesting too deep at hostile.hcl line %d", d.Summary, d.Subject, in.line)
			}
			if !strings.Contains(d.Detail, "hostile.hcl") {
				t.Errorf("detail does not name the file: %s", d.Detail)
			}
			if took > 2*time.Second {
				t.Errorf("check took %v", took)
			}
			t.Logf("%s: %d bytes refused in %v", name, len(in.src), took)
		})
	}
	t.Logf("%d hostile inputs, %d refused", len(inputs), trials)
}

// TestCheckAcceptsRealFiles checks every HCL file in the repository: none
// is refused, and the scanner never counts less than the lexer.
func TestCheckAcceptsRealFiles(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() || !(strings.HasSuffix(name, ".hcl") || strings.HasSuffix(name, ".hcl.example")) || strings.Contains(p, "invalid") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if diags := Check(src, p, Native); diags.HasErrors() {
			t.Errorf("%s refused: %s", p, diags.Error())
		}
		if got, lex := depth(string(src), Native), lexerDepth(src); got < lex {
			t.Errorf("%s: depth %d below the lexer's %d", p, got, lex)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("checked only %d files", n)
	}
	t.Logf("%d repository files accepted", n)
}

func TestCheckSizes(t *testing.T) {
	big := strings.Repeat("a = 1\n", MaxTokens/3)
	if d := Check([]byte(big), "many.hcl", Native); !d.HasErrors() || d[0].Summary != "File too large" {
		t.Errorf("%d tokens: %v", MaxTokens*4/3, d)
	}
	huge := make([]byte, MaxBytes+1)
	if d := Check(huge, "huge.hcl", Native); !d.HasErrors() || d[0].Summary != "File too large" {
		t.Errorf("%d bytes: %v", len(huge), d)
	}
	if d := Check([]byte("a = <<ÉOT\nx\nÉOT\n"), "u.hcl", Native); !d.HasErrors() || d[0].Summary != "Unsupported heredoc marker" {
		t.Errorf("non-ASCII heredoc marker: %v", d)
	}
}

// FuzzCheck checks that the scanner never panics and never counts less than
// the HCL lexer's nesting, whatever the input: a file it accepts cannot nest
// deeper for the parser than it counted.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"a = \"${b}\"\n", "a = <<EOT\n${x}\nEOT\n", "a = \"%{if x}${y}%{endif}\"",
		"a = \"${ ( }\"", "a = <<-X\n  $${\n  X\n", "a = \"\\\"${(}\"", "/* \" */ a = (",
		"a = {\"${<<E\n}\nE\n}\" = 1}", "a = x.y[0].z", "a = \"%%{ ${x~} ~}\"",
		"a = 1\nb = \"x\"\n", "a = \"$${x}\" # c\n", "a=true\r\nb=null", "x = 1.5e3\n",
		"a = \"%%{ \\\"q\\\" \\\\ \\t\"\n// c\n  b\t= 0 // d\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		got := depth(src, Native)
		if lex := lexerDepth([]byte(src)); got < lex {
			t.Fatalf("depth %d below the lexer's %d for %q", got, lex, src)
		}
		Check([]byte(src), "f.hcl", Native)
		Check([]byte(src), "f.json", JSON)
		Check([]byte(src), "f.tpl", Template)
		if _, ok := ParseLiterals([]byte(src), "f.hcl"); ok {
			checkLiteralsMatchParser(t, []byte(src))
		}
	})
}

// checkLiteralsMatchParser checks that ParseLiterals gives what the HCL
// parser gives for src.
func checkLiteralsMatchParser(t *testing.T, src []byte) {
	t.Helper()
	lits, ok := ParseLiterals(src, "f.hcl")
	if !ok {
		t.Fatalf("ParseLiterals refused %q", src)
	}
	f, diags := hclparse.NewParser().ParseHCL(src, "f.hcl")
	if diags.HasErrors() {
		t.Fatalf("ParseLiterals accepted %q, which the parser refuses: %s", src, diags.Error())
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		t.Fatalf("JustAttributes of %q: %s", src, diags.Error())
	}
	if len(attrs) != len(lits.Values) {
		t.Fatalf("%q: %d attributes, parser has %d", src, len(lits.Values), len(attrs))
	}
	for name, a := range attrs {
		want, d := a.Expr.Value(nil)
		if d.HasErrors() {
			t.Fatalf("%q: %s", src, d.Error())
		}
		got := lits.Values[name]
		if !got.RawEquals(want) {
			t.Errorf("%q: %s = %#v, parser says %#v", src, name, got, want)
		}
		if lits.Ranges[name] != a.Range {
			t.Errorf("%q: %s range %v, parser says %v", src, name, lits.Ranges[name], a.Range)
		}
	}
}
