package graph

import (
	"fmt"
	"strconv"
	"strings"
)

// Style is how vertices of one class are drawn. Colours are CSS hex values
// ("#d4edda") or colour names; characters other than letters, digits, '#',
// '.', '%' and '-' are dropped so that a style cannot break the output syntax.
type Style struct {
	Fill   string
	Stroke string
	Color  string // text colour
	Dashed bool
}

// RenderOptions decorates the drawn graph. The zero value draws bare names.
type RenderOptions struct {
	// Title names the drawing; empty means none.
	Title string
	// Annotate returns a line drawn under a vertex's name, e.g.
	// "update: template changed"; "" or a nil func means none.
	Annotate func(Vertex) string
	// Class returns the style class of a vertex, e.g. "create"; "" or a nil
	// func means none. Characters other than letters, digits and '_' in
	// class names become '_' ("no-op" is drawn as class "no_op").
	Class func(Vertex) string
	// Classes maps class names to their style. Every entry is emitted (as a
	// Mermaid classDef), in name order, whether or not a vertex uses it.
	Classes map[string]Style
	// ShortIDs numbers Mermaid node ids in name order (n0, n1, ...)
	// instead of deriving them from the names: a large graph's text is
	// then much smaller, which matters under Mermaid's size limit. DOT
	// output is unaffected.
	ShortIDs bool
}

func (o RenderOptions) annotation(v Vertex) string {
	if o.Annotate == nil {
		return ""
	}
	return o.Annotate(v)
}

// styles returns Classes keyed by sanitized class name. When two names
// reduce alike, the later one in name order wins.
func (o RenderOptions) styles() map[string]Style {
	out := make(map[string]Style, len(o.Classes))
	for _, name := range sortedKeys(o.Classes) {
		if c := sanitizeClass(name); c != "" {
			out[c] = o.Classes[name]
		}
	}
	return out
}

func (o RenderOptions) class(v Vertex) string {
	if o.Class == nil {
		return ""
	}
	return sanitizeClass(o.Class(v))
}

// DOT renders the graph in Graphviz DOT. Arrows point from dependent to
// dependency, as in `terraform graph`, and the layout runs right to left so
// that dependencies are drawn first. Vertices and edges appear in name order,
// so equal graphs give identical text. Edges to vertices that were never
// added are not drawn.
func (g *Graph) DOT(opts RenderOptions) string {
	var b strings.Builder
	b.WriteString("digraph {\n")
	b.WriteString("\tcompound = \"true\"\n")
	b.WriteString("\tnewrank = \"true\"\n")
	b.WriteString("\trankdir = \"RL\"\n")
	if opts.Title != "" {
		fmt.Fprintf(&b, "\tlabel = %s\n", dotQuote(opts.Title))
		b.WriteString("\tlabelloc = \"t\"\n")
	}
	styles := opts.styles()
	for _, v := range g.Vertices() {
		label := v.Name()
		if a := opts.annotation(v); a != "" {
			label += "\n" + a
		}
		attrs := []string{"label = " + dotQuote(label)}
		if c := opts.class(v); c != "" {
			attrs = append(attrs, "class = "+dotQuote(c))
			if s, ok := styles[c]; ok {
				attrs = append(attrs, dotStyle(s)...)
			}
		}
		fmt.Fprintf(&b, "\t%s [%s]\n", dotQuote(v.Name()), strings.Join(attrs, ", "))
	}
	for _, e := range g.Edges() {
		fmt.Fprintf(&b, "\t%s -> %s\n", dotQuote(e.Dependent), dotQuote(e.Dependency))
	}
	b.WriteString("}\n")
	return b.String()
}

func dotStyle(s Style) []string {
	var attrs, styles []string
	if c := sanitizeColor(s.Fill); c != "" {
		styles = append(styles, "filled")
		attrs = append(attrs, "fillcolor = "+dotQuote(c))
	}
	if s.Dashed {
		styles = append(styles, "dashed")
	}
	if len(styles) > 0 {
		attrs = append([]string{"style = " + dotQuote(strings.Join(styles, ","))}, attrs...)
	}
	if c := sanitizeColor(s.Stroke); c != "" {
		attrs = append(attrs, "color = "+dotQuote(c))
	}
	if c := sanitizeColor(s.Color); c != "" {
		attrs = append(attrs, "fontcolor = "+dotQuote(c))
	}
	return attrs
}

// dotQuote makes a DOT double-quoted string. Backslashes are doubled so that
// names cannot form DOT escapes such as \N or \l; newlines become \n.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Mermaid renders the graph as a Mermaid flowchart. Node ids are the names
// reduced to letters, digits and '_' behind an "n_" prefix (made unique with
// a numeric suffix when two names reduce alike), or numbers with
// RenderOptions.ShortIDs, and the real name is the label. Arrows point from dependent to dependency, right to left, as in DOT.
// Edges to vertices that were never added are not drawn.
func (g *Graph) Mermaid(opts RenderOptions) string {
	var b strings.Builder
	if opts.Title != "" {
		fmt.Fprintf(&b, "---\ntitle: %s\n---\n", strconv.Quote(opts.Title))
	}
	b.WriteString("flowchart RL\n")
	styles := opts.styles()
	for _, c := range sortedKeys(styles) {
		if def := mermaidStyle(styles[c]); def != "" {
			fmt.Fprintf(&b, "    classDef %s %s\n", c, def)
		}
	}
	ids := mermaidIDs(g.names())
	if opts.ShortIDs {
		ids = shortIDs(g.names())
	}
	for _, v := range g.Vertices() {
		label := mermaidEscape(v.Name())
		if a := opts.annotation(v); a != "" {
			label += "<br/>" + mermaidEscape(a)
		}
		fmt.Fprintf(&b, "    %s[\"%s\"]", ids[v.Name()], label)
		if c := opts.class(v); c != "" {
			fmt.Fprintf(&b, ":::%s", c)
		}
		b.WriteByte('\n')
	}
	for _, e := range g.Edges() {
		fmt.Fprintf(&b, "    %s --> %s\n", ids[e.Dependent], ids[e.Dependency])
	}
	return b.String()
}

func mermaidStyle(s Style) string {
	var parts []string
	if c := sanitizeColor(s.Fill); c != "" {
		parts = append(parts, "fill:"+c)
	}
	if c := sanitizeColor(s.Stroke); c != "" {
		parts = append(parts, "stroke:"+c)
	}
	if c := sanitizeColor(s.Color); c != "" {
		parts = append(parts, "color:"+c)
	}
	if s.Dashed {
		parts = append(parts, "stroke-dasharray:5 5")
	}
	return strings.Join(parts, ",")
}

// mermaidIDs assigns each name a distinct Mermaid node id. Names are taken
// in sorted order, so the same set of names always gets the same ids.
func mermaidIDs(names []string) map[string]string {
	ids := make(map[string]string, len(names))
	used := make(map[string]bool, len(names))
	for _, name := range names {
		var b strings.Builder
		b.WriteString("n_")
		for _, r := range name {
			if r < 0x80 && (isAlnum(byte(r)) || r == '_') {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		id := b.String()
		for i := 2; used[id]; i++ {
			id = fmt.Sprintf("%s_%d", b.String(), i)
		}
		used[id] = true
		ids[name] = id
	}
	return ids
}

// shortIDs numbers the names in the order given: "n0", "n1", ...
func shortIDs(names []string) map[string]string {
	ids := make(map[string]string, len(names))
	for i, name := range names {
		ids[name] = "n" + strconv.Itoa(i)
	}
	return ids
}

// mermaidEscape makes text safe inside a double-quoted Mermaid label, using
// Mermaid's #name; entity codes for the characters that would end the label
// or be read as markup.
func mermaidEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString("#quot;")
		case '#':
			b.WriteString("#35;")
		case '&':
			b.WriteString("#amp;")
		case '<':
			b.WriteString("#lt;")
		case '>':
			b.WriteString("#gt;")
		case '`':
			b.WriteString("#96;")
		case '\n':
			b.WriteString("<br/>")
		case '\r':
		default:
			if r < 0x20 || r == 0x7f {
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sanitizeClass maps a class name onto letters, digits and '_', the
// characters every Mermaid version accepts after ":::"; others become '_'.
// A leading digit gets a '_' in front, since a CSS class cannot start with one.
func sanitizeClass(s string) string {
	var b strings.Builder
	if s != "" && '0' <= s[0] && s[0] <= '9' {
		b.WriteByte('_')
	}
	for i := 0; i < len(s); i++ {
		if isAlnum(s[i]) || s[i] == '_' {
			b.WriteByte(s[i])
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func sanitizeColor(s string) string {
	return keep(s, func(c byte) bool { return isAlnum(c) || strings.IndexByte("#.%-", c) >= 0 })
}

func keep(s string, ok func(byte) bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if ok(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
