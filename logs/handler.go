package logs

import (
	"context"
	"encoding"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// TimeFormat is the timestamp layout of every record, always in UTC:
// RFC 3339 with milliseconds, e.g. 2026-11-25T22:43:57.123Z.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// groupOrAttrs is one Logger.WithGroup or Logger.With call, kept so that
// attributes can be processed when a record is handled rather than when they
// were attached.
type groupOrAttrs struct {
	group string
	attrs []slog.Attr
}

// nest folds the pending With and WithGroup calls around a record's own
// attributes, giving the attribute list the record stands for. A group that
// ends up empty is dropped, as slog's handlers do. The result never shares
// memory with goas, so callers may modify it.
func nest(goas []groupOrAttrs, attrs []slog.Attr) []slog.Attr {
	for i := len(goas) - 1; i >= 0; i-- {
		if g := goas[i].group; g != "" {
			if len(attrs) > 0 {
				attrs = []slog.Attr{{Key: g, Value: slog.GroupValue(attrs...)}}
			}
			continue
		}
		attrs = append(slices.Clone(goas[i].attrs), attrs...)
	}
	return attrs
}

func recordAttrs(r slog.Record) []slog.Attr {
	attrs := make([]slog.Attr, 0, r.NumAttrs())
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	return attrs
}

func withGroupOrAttrs(goas []groupOrAttrs, goa groupOrAttrs) []groupOrAttrs {
	return append(slices.Clip(goas), goa)
}

// redactHandler removes secrets from every record before passing it on. It
// keeps With and WithGroup calls to itself, so secrets registered after an
// attribute was attached are still removed from it.
type redactHandler struct {
	next     slog.Handler
	redactor *Redactor
	goas     []groupOrAttrs
}

func (h *redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := nest(h.goas, recordAttrs(r))
	if h.redactor.active() {
		for i, a := range attrs {
			attrs[i] = h.redactor.attr(a)
		}
	}
	out := slog.NewRecord(r.Time, r.Level, h.redactor.String(r.Message), r.PC)
	out.AddAttrs(attrs...)
	return h.next.Handle(ctx, out)
}

func (h *redactHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &redactHandler{next: h.next, redactor: h.redactor, goas: withGroupOrAttrs(h.goas, groupOrAttrs{attrs: attrs})}
}

func (h *redactHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &redactHandler{next: h.next, redactor: h.redactor, goas: withGroupOrAttrs(h.goas, groupOrAttrs{group: name})}
}

// lockedWriter serialises whole lines onto a writer shared by handler clones.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// textHandler writes the human format, one record per line:
//
//	2026-11-25T22:43:57.123Z [INFO] plan: message key=value
type textHandler struct {
	out     *lockedWriter
	level   slog.Leveler
	command string
	goas    []groupOrAttrs
}

func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	buf := make([]byte, 0, 256)
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	buf = t.UTC().AppendFormat(buf, TimeFormat)
	buf = append(buf, " ["...)
	buf = append(buf, LevelName(r.Level)...)
	buf = append(buf, "] "...)
	if h.command != "" {
		buf = append(buf, h.command...)
		buf = append(buf, ": "...)
	}
	buf = appendMessage(buf, r.Message)
	for _, a := range nest(h.goas, recordAttrs(r)) {
		buf = appendAttr(buf, "", a)
	}
	buf = append(buf, '\n')
	_, err := h.out.Write(buf)
	return err
}

func (h *textHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	c := *h
	c.goas = withGroupOrAttrs(h.goas, groupOrAttrs{attrs: attrs})
	return &c
}

func (h *textHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.goas = withGroupOrAttrs(h.goas, groupOrAttrs{group: name})
	return &c
}

// appendMessage writes the message as it is, except that control characters
// are escaped so that one record is always one line.
func appendMessage(buf []byte, msg string) []byte {
	for i := 0; i < len(msg); {
		r, size := utf8.DecodeRuneInString(msg[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = fmt.Appendf(buf, `\x%02x`, msg[i])
		case r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029':
			q := strconv.QuoteRune(r)
			buf = append(buf, q[1:len(q)-1]...)
		default:
			buf = append(buf, msg[i:i+size]...)
		}
		i += size
	}
	return buf
}

// appendAttr writes " key=value", following slog's rules: an empty Attr is
// dropped, a group's members get a "group." key prefix, an empty group is
// dropped and a group with an empty key is inlined.
func appendAttr(buf []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "."
		}
		for _, g := range a.Value.Group() {
			buf = appendAttr(buf, p, g)
		}
		return buf
	}
	buf = append(buf, ' ')
	buf = appendText(buf, prefix+a.Key)
	buf = append(buf, '=')
	return appendText(buf, valueText(a.Value))
}

func valueText(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().UTC().Format(TimeFormat)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return x.Error()
		case slog.Level:
			return LevelName(x)
		case []byte:
			return string(x)
		case encoding.TextMarshaler:
			b, err := x.MarshalText()
			if err != nil {
				return "!ERROR:" + err.Error()
			}
			return string(b)
		}
		return fmt.Sprintf("%+v", v.Any())
	}
	return v.String()
}

// appendText writes s bare when it is a single printable word without '='
// or quotes, and Go-quoted otherwise, as slog's TextHandler does.
func appendText(buf []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(buf, s)
	}
	return append(buf, s...)
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r == '=' || r == '"' || r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}
