package main

import (
	"strings"
	"unicode/utf8"
)

// Text made safe for Markdown, for the plan comment.

// mdEscaper escapes the characters that Markdown (and the HTML GitHub and
// GitLab allow in it) would read as markup anywhere in running text or a
// table cell: emphasis, code, links, HTML tags and entities,
// strikethrough, math and cell borders. A ">" inside a line is text
// ("a -> b") and stays as it is.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, "|", `\|`, "~", `\~`, "&", `\&`, "$", `\$`,
	"\r", "", "\n", " ",
)

// oneLine puts text on one line.
var oneLine = strings.NewReplacer("\r", "", "\n", " ")

// mdText makes s literal text in Markdown, on one line. A leading
// character that would start a block (a quote, heading or list) where the
// text starts a line or a list item is escaped too.
func mdText(s string) string {
	s = mdEscaper.Replace(s)
	if s != "" && strings.ContainsRune(">#-+", rune(s[0])) {
		s = `\` + s
	}
	return s
}

// mdCode makes s a code span, with a delimiter longer than any run of
// backticks in it.
func mdCode(s string) string {
	s = oneLine.Replace(s)
	tick := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return tick + " " + s + " " + tick
	}
	return tick + s + tick
}

// codeFence returns a fence of backticks longer than any run in body, so
// the body cannot close its code block.
func codeFence(body string) string {
	return strings.Repeat("`", max(3, longestRun(body, '`')+1))
}

func longestRun(s string, r byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == r {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// htmlText escapes s for HTML text.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// truncate cuts s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
