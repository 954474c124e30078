// Package suggest finds, among the names that exist, the one a misspelled
// name most likely meant: the "Did you mean" of hybrid's messages about
// references, variables and addresses.
package suggest

import (
	"strings"

	"github.com/agext/levenshtein"
)

// Closest returns the candidate nearest to given by edit distance, when it
// is near enough to be a likely misspelling of it, or "" when none is.
//
// Near enough means at most two edits, or an eighth of the name's length
// for long names (an address such as build.prod.linux-ubuntu-2204), and
// fewer edits than the name has characters, so that "a" never suggests "b".
// The bound is tight on purpose: a suggestion that names another thing
// (linux-ubuntu for linux-debian) misleads more than none.
// Case differences count as no edit at all when they are the only one.
// Among equally near candidates, the first in the order given wins: pass
// them sorted for a stable answer.
func Closest(given string, candidates []string) string {
	if given == "" {
		return ""
	}
	limit := max(2, len(given)/8)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == given {
			continue
		}
		if strings.EqualFold(c, given) {
			return c
		}
		d := levenshtein.Distance(given, c, nil)
		if d < bestDist && d < len(given) {
			best, bestDist = c, d
		}
	}
	return best
}
