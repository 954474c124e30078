package logs

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// matcher finds registered secrets in a text in one pass: an Aho-Corasick
// automaton over the secrets' bytes.
type matcher struct {
	nodes []acNode
	root  [256]int32 // the root's transitions, all resolved
}

type acNode struct {
	edges []acEdge // children, by byte
	fail  int32    // longest proper suffix of this node's path that is a prefix of some secret
	dict  int32    // nearest node on the fail chain that ends a secret, 0 if none
	// length is the byte length of the secret ending here, 0 if none.
	length int32
	// wordStart and wordEnd say whether that secret begins and ends with a
	// word character, where a boundary is required.
	wordStart, wordEnd bool
}

type acEdge struct {
	b  byte
	to int32
}

func (n *acNode) child(b byte) int32 {
	for _, e := range n.edges {
		if e.b == b {
			return e.to
		}
	}
	return -1
}

// isWord reports whether r is a word character: a letter, a digit or "_".
func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func newMatcher(secrets []string) *matcher {
	m := &matcher{nodes: []acNode{{}}}
	for _, s := range secrets {
		cur := int32(0)
		for i := 0; i < len(s); i++ {
			next := m.nodes[cur].child(s[i])
			if next < 0 {
				next = int32(len(m.nodes))
				m.nodes = append(m.nodes, acNode{})
				m.nodes[cur].edges = append(m.nodes[cur].edges, acEdge{s[i], next})
			}
			cur = next
		}
		first, _ := utf8.DecodeRuneInString(s)
		last, _ := utf8.DecodeLastRuneInString(s)
		n := &m.nodes[cur]
		n.length, n.wordStart, n.wordEnd = int32(len(s)), isWord(first), isWord(last)
	}
	// Breadth first: every node's fail link is set before its children's.
	queue := make([]int32, 0, len(m.nodes))
	for _, e := range m.nodes[0].edges {
		queue = append(queue, e.to)
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range m.nodes[cur].edges {
			f := m.nodes[cur].fail
			for {
				if to := m.nodes[f].child(e.b); to >= 0 && to != e.to {
					m.nodes[e.to].fail = to
					break
				}
				if f == 0 {
					break
				}
				f = m.nodes[f].fail
			}
			if fl := m.nodes[e.to].fail; m.nodes[fl].length > 0 {
				m.nodes[e.to].dict = fl
			} else {
				m.nodes[e.to].dict = m.nodes[fl].dict
			}
			queue = append(queue, e.to)
		}
	}
	for b := range 256 {
		if to := m.nodes[0].child(byte(b)); to >= 0 {
			m.root[b] = to
		}
	}
	return m
}

// step follows byte b from state cur.
func (m *matcher) step(cur int32, b byte) int32 {
	for cur != 0 {
		if to := m.nodes[cur].child(b); to >= 0 {
			return to
		}
		cur = m.nodes[cur].fail
	}
	return m.root[b]
}

// replace returns s with the union of every whole-value occurrence of a
// secret replaced by marker; s itself when there is none.
func (m *matcher) replace(s, marker string) string {
	// ends[i] is the end of the longest secret found starting at i, or 0.
	var ends []int32
	cur := int32(0)
	for j := 0; j < len(s); j++ {
		cur = m.step(cur, s[j])
		t := cur
		if m.nodes[t].length == 0 {
			t = m.nodes[t].dict
		}
		for ; t != 0; t = m.nodes[t].dict {
			n := &m.nodes[t]
			start, end := j+1-int(n.length), j+1
			if !wholeValue(s, start, end, n.wordStart, n.wordEnd) {
				continue
			}
			if ends == nil {
				ends = make([]int32, len(s))
			}
			ends[start] = max(ends[start], int32(end))
		}
	}
	if ends == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		end := int(ends[i])
		if end == 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		// Extend over every occurrence that starts inside this one.
		for k := i + 1; k < end; k++ {
			end = max(end, int(ends[k]))
		}
		b.WriteString(marker)
		i = end
	}
	return b.String()
}

// wholeValue reports whether s[start:end] stands on its own: not preceded
// by a word character if it starts with one, not followed by one if it ends
// with one.
func wholeValue(s string, start, end int, wordStart, wordEnd bool) bool {
	if wordStart && start > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:start]); isWord(r) {
			return false
		}
	}
	if wordEnd && end < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[end:]); isWord(r) {
			return false
		}
	}
	return true
}
