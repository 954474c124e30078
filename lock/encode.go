package lock

import (
	"slices"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/internal/atomicfile"
)

// Bytes encodes f as lockfile source. The result depends only on f's pins, not
// on map order or the order of hashes: the header comment, then the packer
// block, the plugin blocks sorted by source address and the source blocks
// sorted by name, with hashes sorted and de-duplicated and attributes aligned
// as hclwrite formats them. Empty optional attributes are left out. A
// plugin's hashes are written by platform; only a lockfile whose hashes all
// have an unknown platform keeps the plain list it was read with.
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
		if toks := hashesTokens(p.Hashes); toks != nil {
			b.SetAttributeRaw("hashes", toks)
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

// hashesTokens renders a plugin's hashes: an object from platform to the
// list of its hashes, platforms sorted and "unknown" last, or nil when
// there is none. Hashes
// of an unknown platform alone stay a plain list, so that a lockfile
// written before platforms were recorded is rewritten unchanged.
func hashesTokens(byPlatform map[string][]string) hclwrite.Tokens {
	var platforms []string
	for p, h := range byPlatform {
		if len(normalizeHashes(h)) > 0 {
			platforms = append(platforms, p)
		}
	}
	switch {
	case len(platforms) == 0:
		return nil
	case len(platforms) == 1 && platforms[0] == UnknownPlatform:
		return listTokens(normalizeHashes(byPlatform[UnknownPlatform]))
	}
	// Platforms in order, then those of unknown platform ("" sorts first).
	slices.Sort(platforms)
	if platforms[0] == UnknownPlatform {
		platforms = append(platforms[1:], UnknownPlatform)
	}
	toks := hclwrite.Tokens{
		{Type: hclsyntax.TokenOBrace, Bytes: []byte("{")},
		{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")},
	}
	for _, p := range platforms {
		key := p
		if p == UnknownPlatform {
			key = unknownPlatformKey
		}
		toks = append(toks,
			&hclwrite.Token{Type: hclsyntax.TokenIdent, Bytes: []byte(key)},
			&hclwrite.Token{Type: hclsyntax.TokenEqual, Bytes: []byte("=")},
		)
		toks = append(toks, listTokens(normalizeHashes(byPlatform[p]))...)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")})
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCBrace, Bytes: []byte("}")})
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
