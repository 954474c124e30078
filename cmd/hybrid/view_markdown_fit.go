package main

import (
	"strings"

	"github.com/hybridcore/hybrid/plan"
)

// How a plan comment's sections are fitted into its size limit: the limit
// is shared among them (share), and each is packed whole item by whole
// item into its share, saying what it left out (pack).

// item is a piece of a section shown whole or not at all: a table row, a
// details entry. kind is the node type it stands for, to count what was
// left out.
type item struct {
	text string
	kind string
}

// group is a run of items with the text that opens and closes it: a table
// with its heading, a <details> element.
type group struct {
	open, close string
	items       []item
}

// tally counts what a section left out, by node type.
type tally map[string]int

// String is "212 more builds and 1 more source".
func (t tally) String() string { return t.join("more ") }

// nodes is "109 renders and 2 sources".
func (t tally) nodes() string { return t.join("") }

func (t tally) join(prefix string) string {
	var parts []string
	for _, k := range []struct{ typ, one, many string }{
		{plan.TypeBuild, "build", "builds"},
		{plan.TypeRender, "render", "renders"},
		{plan.TypeSource, "source", "sources"},
	} {
		if n := t[k.typ]; n > 0 {
			parts = append(parts, quantity(n, prefix+k.one, prefix+k.many))
		}
	}
	return strings.Join(parts, " and ")
}

// pack joins the groups' items in order while they fit in budget together
// with the closing text of the group they are in and, when items remain,
// the note saying what was left out; it stops at the first item that does
// not fit, so nothing is shown out of order. Only the note is returned
// when not even the first item fits, and "" when the note does not either.
func pack(groups []group, budget int, note func(left tally) string) string {
	var full strings.Builder
	left := tally{}
	for _, g := range groups {
		if len(g.items) == 0 {
			continue
		}
		full.WriteString(g.open)
		for _, it := range g.items {
			full.WriteString(it.text)
			left[it.kind]++
		}
		full.WriteString(g.close)
	}
	if full.Len() <= budget {
		return full.String()
	}
	var b strings.Builder
	for _, g := range groups {
		opened := false
		for _, it := range g.items {
			add := it.text
			if !opened {
				add = g.open + add
			}
			after := left.minus(it.kind)
			// The note can only get shorter as fewer items are left, so
			// the room for it is kept as each item is added.
			room := len(add) + len(g.close)
			if after.total() > 0 {
				room += len(note(after))
			}
			if b.Len()+room > budget {
				if opened {
					b.WriteString(g.close)
				}
				if n := note(left); b.Len()+len(n) <= budget {
					b.WriteString(n)
				}
				return b.String()
			}
			b.WriteString(add)
			opened = true
			left = after
		}
		if opened {
			b.WriteString(g.close)
		}
	}
	return b.String()
}

// minus returns a copy of t with one fewer of kind.
func (t tally) minus(kind string) tally {
	out := make(tally, len(t))
	for k, v := range t {
		out[k] = v
	}
	out[kind]--
	return out
}

// total is how many items t counts.
func (t tally) total() int {
	n := 0
	for _, v := range t {
		n += v
	}
	return n
}

// share divides budget among sections that would use demands[i] bytes,
// in proportion to weights, giving none more than it asks for and sharing
// what one leaves among the others (weighted max-min fairness): sections
// that ask for no more than their share get what they ask, and the rest is
// shared again among the others, until every remaining one asks for more
// than its share and gets exactly that share.
func share(budget int, demands, weights []int) []int {
	alloc := make([]int, len(demands))
	open := map[int]bool{}
	for i := range demands {
		open[i] = true
	}
	for len(open) > 0 {
		wsum := 0
		for i := range open {
			wsum += weights[i]
		}
		var satisfied []int
		for i := range open {
			if demands[i]*wsum <= budget*weights[i] {
				satisfied = append(satisfied, i)
			}
		}
		if len(satisfied) == 0 {
			for i := range open {
				alloc[i] = budget * weights[i] / wsum
			}
			break
		}
		for _, i := range satisfied {
			alloc[i] = demands[i]
			budget -= demands[i]
			delete(open, i)
		}
	}
	return alloc
}
