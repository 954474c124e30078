package main

import "strings"

// colorEnabled decides whether a command colours its output. In order of
// precedence:
//
//  1. -no-color turns colour off: an option given for this one run wins.
//  2. HYBRID_FORCE_COLOR, set and neither "0" nor "false", turns it on:
//     it is hybrid's own setting, which no-color.org says overrides NO_COLOR.
//  3. NO_COLOR, set and not empty whatever its value, turns it off
//     (no-color.org).
//  4. GITHUB_ACTIONS=true turns it on: the Actions log viewer renders ANSI
//     colour, though a step's output is no terminal.
//  5. Otherwise colour is on when stdout is a terminal.
func colorEnabled(outTTY, noColor bool, getenv func(string) string) bool {
	switch force := strings.ToLower(strings.TrimSpace(getenv("HYBRID_FORCE_COLOR"))); {
	case noColor:
		return false
	case force != "" && force != "0" && force != "false":
		return true
	case getenv("NO_COLOR") != "":
		return false
	case getenv("GITHUB_ACTIONS") == "true":
		return true
	}
	return outTTY
}
