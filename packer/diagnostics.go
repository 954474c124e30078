package packer

import (
	"regexp"
	"strconv"
	"strings"
)

// Severities of a Diagnostic.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Diagnostic is one error or warning packer printed as text, in the form
// of HCL diagnostics:
//
//	Error: Unsupported argument
//
//	  on templates/linux/linux.pkr.hcl line 10:
//	  (source code not available)
//
//	An argument named "bogus" is not expected here.
type Diagnostic struct {
	// Severity is SeverityError or SeverityWarning.
	Severity string
	// Summary is the text after "Error: " or "Warning: ".
	Summary string
	// File and Line are where packer located the problem: the "on FILE
	// line N:" line, or a "FILE:LINE,COL-COL: " that starts the detail
	// (a diagnostic packer quotes), which is more precise and wins. File
	// is as packer printed it; "" and 0 when packer gave no location.
	File string
	Line int
	// Column and EndColumn are the columns of a quoted diagnostic's
	// range on Line, 0 when packer gave only the line (or a range over
	// several lines, whose end is then not on Line).
	Column, EndColumn int
	// Detail is the text after the location and its snippet, as packer
	// wrapped it.
	Detail string
}

// Text is the diagnostic as packer printed it, without the location
// lines: "Summary" alone, or "Summary\n\nDetail".
func (d Diagnostic) Text() string {
	if d.Detail == "" {
		return d.Summary
	}
	return d.Summary + "\n\n" + d.Detail
}

var (
	// diagStart starts a diagnostic block.
	diagStart = regexp.MustCompile(`^(Error|Warning): (.*)$`)
	// onLine is the location line of a block, "  on FILE line N:" with an
	// optional ", in BLOCK" before the colon.
	onLine = regexp.MustCompile(`^\s+on (.+?) line (\d+)(?:, in .*)?:$`)
	// snippetLine is a line of the source snippet that follows it, or
	// packer's note that it has none.
	snippetLine = regexp.MustCompile(`^\s+(?:\d+: .*|\(source code not available\))$`)
	// innerRange is the "FILE:LINE,COL-COL: " (or "-LINE,COL: " for a
	// range over lines) of a diagnostic packer quotes at the start of a
	// detail; packer may wrap the line right after it. A location further in is only mentioned ("checked by the
	// validation rule at FILE:3,3-13") and does not locate the problem.
	innerRange = regexp.MustCompile(`^(\S+\.pkr\.(?:hcl|json)):(\d+),(\d+)-(?:(\d+),)?(\d+):\s`)
)

// ParseDiagnostics reads every "Error:" and "Warning:" block of text, the
// output of packer validate or build. A block runs until the next one
// starts or the text ends; lines before the first block are not part of
// any.
func ParseDiagnostics(text string) []Diagnostic {
	var out []Diagnostic
	var block []string
	flush := func() {
		if len(block) > 0 {
			out = append(out, parseBlock(block))
		}
		block = nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if diagStart.MatchString(line) {
			flush()
		}
		if block != nil || diagStart.MatchString(line) {
			block = append(block, line)
		}
	}
	flush()
	return out
}

// parseBlock reads one block, whose first line starts it.
func parseBlock(lines []string) Diagnostic {
	m := diagStart.FindStringSubmatch(lines[0])
	d := Diagnostic{Severity: SeverityError, Summary: strings.TrimSpace(m[2])}
	if m[1] == "Warning" {
		d.Severity = SeverityWarning
	}
	rest := lines[1:]
	// Skip the blank line after the summary, then the location and its
	// snippet when there is one.
	i := 0
	for i < len(rest) && strings.TrimSpace(rest[i]) == "" {
		i++
	}
	if i < len(rest) {
		if lm := onLine.FindStringSubmatch(rest[i]); lm != nil {
			d.File = lm[1]
			d.Line, _ = strconv.Atoi(lm[2])
			i++
			for i < len(rest) && snippetLine.MatchString(rest[i]) {
				i++
			}
		}
	}
	d.Detail = strings.TrimSpace(strings.Join(rest[i:], "\n"))
	if im := innerRange.FindStringSubmatch(d.Detail); im != nil {
		d.File = im[1]
		d.Line, _ = strconv.Atoi(im[2])
		d.Column, d.EndColumn = 0, 0
		if im[4] == "" || im[4] == im[2] {
			d.Column, _ = strconv.Atoi(im[3])
			d.EndColumn, _ = strconv.Atoi(im[5])
		}
	}
	return d
}
