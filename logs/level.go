package logs

import (
	"fmt"
	"log/slog"
	"strings"
)

const (
	// LevelTrace is below slog.LevelDebug, for the most detailed records:
	// every command run, every file hashed.
	LevelTrace = slog.LevelDebug - 4
	// LevelOff is above every level a record uses: nothing is enabled at it.
	LevelOff = slog.Level(1 << 30)
)

// levelNames lists the accepted level names in increasing order.
var levelNames = []struct {
	name  string
	level slog.Level
}{
	{"trace", LevelTrace},
	{"debug", slog.LevelDebug},
	{"info", slog.LevelInfo},
	{"warn", slog.LevelWarn},
	{"error", slog.LevelError},
	{"off", LevelOff},
}

// LevelNames returns the names ParseLevel accepts, most verbose first.
func LevelNames() []string {
	names := make([]string, len(levelNames))
	for i, l := range levelNames {
		names[i] = l.name
	}
	return names
}

// ParseLevel reads a level name: trace, debug, info, warn, error or off, in
// any case, surrounding blanks ignored.
func ParseLevel(s string) (slog.Level, error) {
	want := strings.ToLower(strings.TrimSpace(s))
	for _, l := range levelNames {
		if l.name == want {
			return l.level, nil
		}
	}
	return 0, fmt.Errorf("invalid log level %q: use one of %s", s, strings.Join(LevelNames(), ", "))
}

// LevelName returns the upper-case name a line shows for l: TRACE, DEBUG,
// INFO, WARN or ERROR, with an offset for levels in between ("INFO+2").
func LevelName(l slog.Level) string {
	if l < slog.LevelDebug {
		if l == LevelTrace {
			return "TRACE"
		}
		return fmt.Sprintf("TRACE%+d", int(l-LevelTrace))
	}
	return l.String()
}
