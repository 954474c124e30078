package logs

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Sensitive replaces every occurrence of a registered secret.
const Sensitive = "(sensitive)"

// MinSecretLength is the length, in characters, of the shortest value a
// Redactor redacts: a shorter one would also match ordinary words, numbers
// and paths ("2022" in "windows-server-2022"), mangling the log while
// hinting at the secret. Registering a shorter value does nothing; the
// configuration refuses sensitive values this short unless the user opts out
// knowingly.
const MinSecretLength = 8

// Redactor replaces registered secret values with Sensitive. Secrets can be
// added at any time, for example once the configuration that declares them
// has been read; from then on every record logged through a logger that uses
// this Redactor is cleaned, including attributes attached earlier with
// Logger.With. It is safe for concurrent use, and a nil *Redactor redacts
// nothing.
//
// A secret is replaced only where it stands as a whole value: where it
// begins with a word character (a letter, a digit or "_"), the character
// before it must not be one, and where it ends with one, the character after
// it must not be one. So secret "Summer2024" is redacted in "password=Summer2024;"
// and in "'Summer2024'", but not inside "xSummer2024x", which is not that
// value. Where registered secrets overlap in a text, everything any of them
// covers is replaced, once. The text is scanned once, whatever the number of
// secrets.
type Redactor struct {
	mu      sync.Mutex
	secrets map[string]struct{}
	matcher atomic.Pointer[matcher]
}

// NewRedactor returns a Redactor that knows the given secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{secrets: make(map[string]struct{})}
	r.Add(secrets...)
	return r
}

// Add registers secret values. Values shorter than MinSecretLength
// characters are ignored. A value spanning several lines is also registered
// line by line (lines of at least MinSecretLength characters), so that a
// log line quoting one line of a key is still caught.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.secrets == nil {
		r.secrets = make(map[string]struct{})
	}
	changed := false
	add := func(s string) {
		if utf8.RuneCountInString(s) < MinSecretLength {
			return
		}
		if _, ok := r.secrets[s]; !ok {
			r.secrets[s] = struct{}{}
			changed = true
		}
	}
	for _, s := range secrets {
		add(s)
		if strings.ContainsAny(s, "\r\n") {
			for _, line := range strings.FieldsFunc(s, func(c rune) bool { return c == '\n' || c == '\r' }) {
				add(line)
			}
		}
	}
	if !changed {
		return
	}
	list := make([]string, 0, len(r.secrets))
	for s := range r.secrets {
		list = append(list, s)
	}
	slices.Sort(list)
	r.matcher.Store(newMatcher(list))
}

// String returns s with every registered secret replaced by Sensitive.
func (r *Redactor) String(s string) string { return r.Replace(s, Sensitive) }

// Replace is String with another marker, for an output that has its own
// (packer's build logs say "<sensitive>").
func (r *Redactor) Replace(s, marker string) string {
	if r == nil {
		return s
	}
	m := r.matcher.Load()
	if m == nil {
		return s
	}
	return m.replace(s, marker)
}

// active reports whether any secret is registered.
func (r *Redactor) active() bool {
	return r != nil && r.matcher.Load() != nil
}

// attr returns a with secrets removed from its key and value. A value of any
// kind whose text contains a secret is replaced by its redacted text (for an
// arbitrary value, the text the human format shows), so it is printed as a
// string from then on.
func (r *Redactor) attr(a slog.Attr) slog.Attr {
	a.Key = r.String(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		group := v.Group()
		out := make([]slog.Attr, len(group))
		for i, g := range group {
			out[i] = r.attr(g)
		}
		a.Value = slog.GroupValue(out...)
	case slog.KindString:
		a.Value = slog.StringValue(r.String(v.String()))
	case slog.KindAny:
		a.Value = v
		primary := valueText(v)
		for _, text := range append([]string{primary}, otherTexts(v.Any())...) {
			if r.String(text) != text {
				a.Value = slog.StringValue(r.String(primary))
				break
			}
		}
	default:
		a.Value = v
		if s := v.String(); r.String(s) != s {
			a.Value = slog.StringValue(r.String(s))
		}
	}
	return a
}

// otherTexts returns the forms other than valueText in which a handler or
// a reader may see x: its fmt form with field names, and its JSON form.
func otherTexts(x any) []string {
	texts := []string{fmt.Sprintf("%+v", x)}
	if b, ok := marshalJSON(x); ok {
		texts = append(texts, string(b))
	}
	return texts
}

// marshalJSON is json.Marshal that reports a panicking MarshalJSON method as
// a failure instead of passing the panic on.
func marshalJSON(x any) (b []byte, ok bool) {
	defer func() {
		if recover() != nil {
			b, ok = nil, false
		}
	}()
	b, err := json.Marshal(x)
	return b, err == nil
}
