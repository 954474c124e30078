package lock

import (
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/internal/atomicfile"
)

// Bytes encodes f as lockfile source. The result depends only on f's pins, not
// on map order or the order of hashes: the header comment, then the packer
// block, the plugin blocks sorted by source address and the source blocks
// sorted by name, with hashes sorted and de-duplicated and attributes aligned
// as hclwrite formats them. Empty optional attributes are left out.
func (f *File) Bytes() []byte {
	out := hclwrite.NewEmptyFile()
	body := out.Body()
	body.AppendUnstructuredTokens(hclwrite.Tokens{
		{Type: hclsyntax.TokenComment, Bytes: []byte(header)},
	})

	block := func(typ string, labels []string) *hclwrite.Body {
		body.AppendNewline()
		return body.AppendNewBlock(typ, labels).Body()
	}
	str := func(b *hclwrite.Body, name, value string) {
		b.SetAttributeValue(name, cty.StringVal(value))
	}

	if p := f.Packer; p != nil {
		b := block("packer", nil)
		str(b, "version", p.Version)
		if p.Constraints != "" {
			str(b, "constraints", p.Constraints)
		}
	}
	for _, p := range f.pluginList() {
		b := block("plugin", []string{p.Source})
		str(b, "version", p.Version)
		if p.Constraints != "" {
			str(b, "constraints", p.Constraints)
		}
		if hashes := normalizeHashes(p.Hashes); len(hashes) > 0 {
			b.SetAttributeRaw("hashes", listTokens(hashes))
		}
	}
	for _, s := range f.sourceList() {
		b := block("source", []string{s.Name})
		str(b, "url", s.URL)
		if s.Ref != "" {
			str(b, "ref", s.Ref)
		}
		str(b, "commit", s.Commit)
	}
	return out.Bytes()
}

// listTokens renders a list of strings one element per line with a trailing
// comma, so that adding a hash changes one line of the diff.
func listTokens(items []string) hclwrite.Tokens {
	toks := hclwrite.Tokens{
		{Type: hclsyntax.TokenOBrack, Bytes: []byte("[")},
		{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")},
	}
	for _, it := range items {
		toks = append(toks, hclwrite.TokensForValue(cty.StringVal(it))...)
		toks = append(toks,
			&hclwrite.Token{Type: hclsyntax.TokenComma, Bytes: []byte(",")},
			&hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")},
		)
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCBrack, Bytes: []byte("]")})
}

// Write writes f to path atomically (temp file, fsync, rename, fsync of the
// directory). An existing file that already holds exactly these bytes is left
// alone, keeping its modification time.
func Write(path string, f *File) error {
	// 0644: the lockfile is meant to be committed and read by everyone.
	_, err := atomicfile.WriteIfChanged(path, f.Bytes(), 0o644)
	return err
}
