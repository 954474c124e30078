package hclguard

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestParseLiterals(t *testing.T) {
	accepted := []string{
		"",
		"\n\n",
		"a = 1\n",
		"a = \"x\"\nb = 2.5e-3\nc = true\nd = false\ne = null\n",
		"# comment\n// another\nvm_name = \"ubuntu\" # trailing\n  indented\t=\t\"tab\"\n",
		"a = \"esc \\\\ \\\" \\n \\r \\t $${x} %%{y} $ % $$ 100%\"",
		"a = \"\"\r\nb = 0\r\n",
		"dashed-name_2 = 12345678901234567890\n",
		"# Température, commentaire\na = 1\n",
	}
	for _, src := range accepted {
		t.Run(fmt.Sprintf("%q", src), func(t *testing.T) {
			checkLiteralsMatchParser(t, []byte(src))
		})
	}
	refused := []string{
		"a = \"${x}\"\n", // interpolation
		"a = \"%{if x}y%{endif}\"\n",
		"a = [1, 2]\n",        // collections go to the parser
		"a = -1\n",            // an operator
		"a = x\n",             // a reference
		"a = 1\na = 2\n",      // a duplicate: the parser reports it
		"a = \"é\"\n",         // non-ASCII strings are normalized by the parser
		"a = \"\\u00e9\"\n",   // escapes other than \\ \" \n \r \t
		"a = 1 b = 2\n",       // two on a line
		"a = 1 /* c */\n",     // block comments
		"a {\n}\n",            // blocks
		"a = <<EOT\nx\nEOT\n", // heredocs
		"a = 1.\n",
		"a = truex\n",
		"a == 1\n",
		"a = \"unterminated\n",
	}
	for _, src := range refused {
		if _, ok := ParseLiterals([]byte(src), "r.hcl"); ok {
			t.Errorf("ParseLiterals accepted %q", src)
		}
	}
	if _, ok := ParseLiterals([]byte("a = 1\n"), "r.pkrvars.json"); ok {
		t.Error("ParseLiterals accepted a JSON file name")
	}
}

func TestParseLiteralsBody(t *testing.T) {
	lits, ok := ParseLiterals([]byte("a = 1\nb = \"x\"\n"), "b.hcl")
	if !ok {
		t.Fatal("refused")
	}
	p := hclparse.NewParser()
	p.AddFile("b.hcl", lits.File)
	f, _ := p.ParseHCL(nil, "b.hcl") // the parser returns the file it holds
	content, diags := f.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "a", Required: true}, {Name: "c", Required: true}}})
	if len(diags) != 2 || diags[0].Summary != "Missing required argument" || diags[1].Summary != "Unsupported argument" {
		t.Errorf("Content diagnostics: %v", diags)
	}
	if v, _ := content.Attributes["a"].Expr.Value(nil); v.AsBigFloat().String() != "1" {
		t.Errorf("a = %#v", v)
	}
	_, rest, _ := f.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "a"}}})
	attrs, _ := rest.JustAttributes()
	if len(attrs) != 1 || attrs["b"] == nil {
		t.Errorf("remaining attributes: %v", attrs)
	}
}

// TestParseLiteralsLarge decodes a var file of 500,000 entries and reports
// the time and memory, against the HCL parser's for the same file.
func TestParseLiteralsLarge(t *testing.T) {
	const n = 500_000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "var_%d = \"value-%d\"\n", i, i)
	}
	src := []byte(b.String())
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	lits, ok := ParseLiterals(src, "large.pkrvars.hcl")
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if !ok || len(lits.Values) != n {
		t.Fatalf("ok=%v, %d values", ok, len(lits.Values))
	}
	if got := lits.Values["var_499999"].AsString(); got != "value-499999" {
		t.Errorf("last value = %q", got)
	}
	if r := lits.Ranges["var_1"]; r.Start.Line != 2 || r.Start.Column != 1 || r.End.Column != 18 {
		t.Errorf("range of var_1 = %v", r)
	}
	if took > 20*time.Second {
		t.Errorf("took %v", took)
	}
	t.Logf("%d entries, %d MB: decoded in %v, %d MB allocated", n, len(src)>>20, took, (after.TotalAlloc-before.TotalAlloc)>>20)
}
