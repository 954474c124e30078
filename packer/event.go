package packer

import (
	"strconv"
	"strings"
	"time"
)

// Event types hybrid gives to lines that are not machine-readable packer
// output. Packer's own types ("ui", "artifact", "artifact-count",
// "error-count", "error", ...) are passed through as packer wrote them.
const (
	// TypeStderr is a line packer wrote to its standard error.
	TypeStderr = "stderr"
	// TypeRaw is a line on standard output that is not in the
	// machine-readable format, such as a crash report.
	TypeRaw = "raw"
)

// UI levels, the second field of a "ui" line.
const (
	LevelSay     = "say"
	LevelMessage = "message"
	LevelError   = "error"
)

// Event is one line of `packer build -machine-readable` output:
// `timestamp,target,type,data...`, with packer's escapes undone in Data.
type Event struct {
	// Time is the line's timestamp (whole seconds, UTC); for TypeStderr and
	// TypeRaw, when hybrid read the line.
	Time time.Time
	// Target is the build the line is about ("null.linux-a"), or "" for
	// lines about the whole run, including every "ui" line.
	Target string
	// Type is the line's type: "ui", "artifact", "error", ... or TypeStderr
	// and TypeRaw for lines hybrid read outside the format.
	Type string
	// Data holds the remaining fields, unescaped.
	Data []string
}

// UI is the typed form of a "ui" event: something packer showed a person.
type UI struct {
	// Level is LevelSay, LevelMessage or LevelError.
	Level string
	// Build is the build named by the line's "==> null.linux-a: " style
	// prefix, or "" when the line has none.
	Build string
	// Text is the message as packer printed it, prefix included.
	Text string
}

// UI returns the event as a UI message when it is one.
func (e Event) UI() (UI, bool) {
	if e.Type != "ui" || len(e.Data) < 2 {
		return UI{}, false
	}
	return UI{Level: e.Data[0], Build: buildPrefix(e.Data[1]), Text: e.Data[1]}, true
}

// ArtifactField is the typed form of an "artifact" event, one field of one
// artifact: `artifact,INDEX,KEY,VALUES...`, e.g. KEY "id" with the artifact
// ID, or KEY "file" with the file's index and path.
type ArtifactField struct {
	Index  int
	Key    string
	Values []string
}

// ArtifactField returns the event as an artifact field when it is one.
func (e Event) ArtifactField() (ArtifactField, bool) {
	if e.Type != "artifact" || len(e.Data) < 2 {
		return ArtifactField{}, false
	}
	i, err := strconv.Atoi(e.Data[0])
	if err != nil || i < 0 {
		return ArtifactField{}, false
	}
	return ArtifactField{Index: i, Key: e.Data[1], Values: e.Data[2:]}, true
}

// ParseLine parses one line of machine-readable output, without its newline.
// It reports false for lines that are not in the format.
func ParseLine(line string) (Event, bool) {
	line = strings.TrimSuffix(line, "\n")
	fields := strings.Split(line, ",")
	if len(fields) < 3 {
		return Event{}, false
	}
	ts, ok := parseTimestamp(fields[0])
	if !ok || !isTypeName(fields[2]) {
		return Event{}, false
	}
	e := Event{Time: time.Unix(ts, 0).UTC(), Target: fields[1], Type: fields[2]}
	if len(fields) > 3 {
		e.Data = make([]string, len(fields)-3)
		for i, f := range fields[3:] {
			e.Data[i] = Unescape(f)
		}
	}
	return e, true
}

var (
	unescaper = strings.NewReplacer("%!(PACKER_COMMA)", ",", `\n`, "\n", `\r`, "\r")
	escaper   = strings.NewReplacer(",", "%!(PACKER_COMMA)", "\n", `\n`, "\r", `\r`)
)

// Unescape undoes packer's escaping of one machine-readable field:
// "%!(PACKER_COMMA)" is a comma, `\n` a newline and `\r` a carriage return.
// Packer does not escape backslashes, so a literal `\n` in a message comes
// back as a newline too.
func Unescape(field string) string {
	if !strings.ContainsAny(field, `%\`) {
		return field
	}
	return unescaper.Replace(field)
}

// escape is packer's escaping of one field, the inverse of Unescape.
func escape(s string) string { return escaper.Replace(s) }

func parseTimestamp(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func isTypeName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// buildPrefix returns the build name in packer's UI prefixes "==> NAME: ",
// "--> NAME: " and "    NAME: ", or "".
func buildPrefix(text string) string {
	var rest string
	switch {
	case strings.HasPrefix(text, "==> "), strings.HasPrefix(text, "--> "), strings.HasPrefix(text, "    "):
		rest = text[4:]
	default:
		return ""
	}
	end := strings.Index(rest, ": ")
	if end <= 0 {
		return ""
	}
	name := rest[:end]
	if strings.ContainsAny(name, " \t\n'\"") {
		return ""
	}
	return name
}
