package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
)

// unknownCommand finds a command name in args that hybrid has no command
// for, and the command the user most likely meant. args are hybrid's
// arguments after the global options it handles itself (-chdir); names are
// every command, nested ones as "state show". It returns "" when args name
// a command, or name none.
//
// A parent command ("state") followed by a word that is none of its
// subcommands ("state shwo") is an unknown command too: parents take no
// arguments of their own.
func unknownCommand(args []string, names []string) (given, suggestion string) {
	var words []string
	for _, a := range args {
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") {
			if len(words) > 0 {
				break // the command's own options
			}
			continue // global options before the command
		}
		words = append(words, a)
		if len(words) == 2 {
			break
		}
	}
	if len(words) == 0 {
		return "", ""
	}
	known := map[string]bool{}
	children := map[string][]string{}
	var top []string
	for _, n := range names {
		known[n] = true
		if parent, _, nested := strings.Cut(n, " "); nested {
			children[parent] = append(children[parent], n)
		} else {
			top = append(top, n)
		}
	}
	if !known[words[0]] {
		return words[0], closestName(words[0], top)
	}
	if len(words) < 2 || len(children[words[0]]) == 0 {
		return "", ""
	}
	if sub := words[0] + " " + words[1]; !known[sub] {
		return sub, closestName(sub, children[words[0]])
	}
	return "", ""
}

// closestName returns the name nearest to given by edit distance, if it is
// near enough to be a typing mistake (fewer than three edits, as HCL's own
// suggestions), else "". Ties go to the name first in sorted order.
func closestName(given string, names []string) string {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	best, bestDist := "", 3
	for _, n := range sorted {
		if d := levenshtein.Distance(given, n, nil); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// unknownCommandMessage is what hybrid says about a command it does not
// have: one line, not the whole help.
func unknownCommandMessage(given, suggestion string) string {
	if suggestion != "" {
		return fmt.Sprintf("hybrid: unknown command %q. Did you mean %q?", given, suggestion)
	}
	return fmt.Sprintf("hybrid: unknown command %q. Run \"hybrid -help\" to list the commands.", given)
}
