package logs

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/natefinch/lumberjack.v2"
)

const (
	// EnvLevel names the environment variable that sets the level when no
	// level is given explicitly, as TF_LOG does for terraform.
	EnvLevel = "HYBRID_LOG"
	// FileName is the log file's name inside Options.Dir. Rotated copies
	// sit next to it as hybrid-<UTC timestamp>.log.
	FileName = "hybrid.log"

	// DefaultMaxSizeMB is the size at which the log file is rotated.
	DefaultMaxSizeMB = 10
	// DefaultMaxBackups is how many rotated files are kept.
	DefaultMaxBackups = 5
	// DefaultMaxAgeDays is how old a rotated file may get before removal.
	DefaultMaxAgeDays = 30
)

// Options configures Setup. The zero value logs nowhere unless HYBRID_LOG
// is set, in which case records at that level go to stderr.
type Options struct {
	// Command names the running command ("plan"); every record carries it.
	Command string
	// Level is the level asked for on the command line; empty means use
	// HYBRID_LOG, and when both are empty no level is explicit.
	Level string
	// JSON switches both destinations to one JSON object per line.
	JSON bool
	// Stderr receives records when a level is explicit; nil means os.Stderr.
	Stderr io.Writer
	// Dir is the workspace's logs directory, created if missing; the log
	// file is Dir/hybrid.log. Empty means no file.
	Dir string
	// MaxSizeMB, MaxBackups and MaxAgeDays bound the log file and its
	// rotated copies; zero means DefaultMaxSizeMB, DefaultMaxBackups and
	// DefaultMaxAgeDays.
	MaxSizeMB  int
	MaxBackups int
	MaxAgeDays int
	// Redactor removes secret values from every record before it is
	// written anywhere. Keep a reference to add secrets later; nil means no
	// redaction.
	Redactor *Redactor
}

// Setup builds the logger for one command run.
//
// The file, when Dir is set, receives records at INFO and above, or at the
// explicit level when that is lower (an explicit "error" or "off" does not
// silence the file). Stderr receives records only when a level is explicit
// (Options.Level or HYBRID_LOG), at that level, and not at all for "off".
// Lines look like
//
//	2026-11-25T22:43:57.123Z [INFO] plan: message key=value
//
// or, with JSON, {"time":"...","level":"INFO","msg":"message","command":"plan","key":"value"}.
//
// The returned function closes the log file; call it before exiting.
func Setup(opts Options) (*slog.Logger, func() error, error) {
	level, explicit, err := resolveLevel(opts.Level)
	if err != nil {
		return nil, nil, err
	}
	var handlers []slog.Handler
	closeFn := func() error { return nil }

	if opts.Dir != "" {
		file, err := openFile(opts)
		if err != nil {
			return nil, nil, err
		}
		closeFn = file.Close
		fileLevel := slog.LevelInfo
		if explicit {
			fileLevel = min(level, slog.LevelInfo)
		}
		handlers = append(handlers, newHandler(file, fileLevel, opts))
	}
	if explicit && level != LevelOff {
		stderr := opts.Stderr
		if stderr == nil {
			stderr = os.Stderr
		}
		handlers = append(handlers, newHandler(stderr, level, opts))
	}

	var next slog.Handler
	switch len(handlers) {
	case 0:
		next = slog.DiscardHandler
	case 1:
		next = handlers[0]
	default:
		next = slog.NewMultiHandler(handlers...)
	}
	return slog.New(&redactHandler{next: next, redactor: opts.Redactor}), closeFn, nil
}

// resolveLevel returns the level from the flag value, else from HYBRID_LOG,
// and whether either was set.
func resolveLevel(flagValue string) (slog.Level, bool, error) {
	value, source := flagValue, "log level"
	if strings.TrimSpace(value) == "" {
		value, source = os.Getenv(EnvLevel), EnvLevel
	}
	if strings.TrimSpace(value) == "" {
		return slog.LevelInfo, false, nil
	}
	l, err := ParseLevel(value)
	if err != nil {
		return 0, false, fmt.Errorf("invalid %s %q: use one of %s", source, value, strings.Join(LevelNames(), ", "))
	}
	return l, true, nil
}

// openFile creates the logs directory and checks that the log file can be
// written, so that a permission problem is reported now rather than lost on
// the first record.
func openFile(opts Options) (*lumberjack.Logger, error) {
	size, err := positiveOr("MaxSizeMB", opts.MaxSizeMB, DefaultMaxSizeMB)
	if err != nil {
		return nil, err
	}
	backups, err := positiveOr("MaxBackups", opts.MaxBackups, DefaultMaxBackups)
	if err != nil {
		return nil, err
	}
	age, err := positiveOr("MaxAgeDays", opts.MaxAgeDays, DefaultMaxAgeDays)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create logs directory: %w; check that the workspace is writable", err)
	}
	path := filepath.Join(opts.Dir, FileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w; check the permissions of %s", err, opts.Dir)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	return &lumberjack.Logger{
		Filename:   path,
		MaxSize:    size,
		MaxBackups: backups,
		MaxAge:     age,
	}, nil
}

func positiveOr(name string, v, def int) (int, error) {
	switch {
	case v == 0:
		return def, nil
	case v < 0:
		return 0, fmt.Errorf("log option %s is %d: use 0 for the default (%d) or a positive number", name, v, def)
	}
	return v, nil
}

// newHandler returns the handler for one destination.
func newHandler(w io.Writer, level slog.Level, opts Options) slog.Handler {
	if !opts.JSON {
		return &textHandler{out: &lockedWriter{w: w}, level: level, command: opts.Command}
	}
	var h slog.Handler = slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: replaceJSONAttr,
	})
	if opts.Command != "" {
		h = h.WithAttrs([]slog.Attr{slog.String("command", opts.Command)})
	}
	return h
}

// replaceJSONAttr writes the time as in the text format and levels by the
// names this package uses (TRACE rather than DEBUG-4).
func replaceJSONAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		if a.Value.Kind() == slog.KindTime {
			return slog.String(slog.TimeKey, a.Value.Time().UTC().Format(TimeFormat))
		}
	case slog.LevelKey:
		if l, ok := a.Value.Any().(slog.Level); ok {
			return slog.String(slog.LevelKey, LevelName(l))
		}
	}
	return a
}
