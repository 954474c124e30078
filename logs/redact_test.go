package logs

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

const secret = "hunter2-s3cr3t"

type credentials struct {
	User     string
	Password string
}

type textSecret struct{}

func (textSecret) MarshalText() ([]byte, error) { return []byte("token " + secret), nil }

func TestRedaction(t *testing.T) {
	for _, jsonOut := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", jsonOut), func(t *testing.T) {
			r := NewRedactor()
			logger, stderr, path := setup(t, "trace", Options{Command: "apply", JSON: jsonOut, Redactor: r})

			// Attached before the secret is known.
			early := logger.With("password", secret).WithGroup("vars")
			r.Add(secret)

			logger.Info("using password " + secret)
			logger.Info("attrs",
				"plain", secret,
				"quoted", `pass="`+secret+`"`,
				"err", fmt.Errorf("login failed for %s", secret),
				"bytes", []byte(secret),
				"struct", credentials{User: "admin", Password: secret},
				"pointer", &credentials{Password: secret},
				"text", textSecret{},
				slog.Group("nested", slog.Group("deeper", secret, "as key")),
			)
			early.Warn("late", "vm_password", secret)
			logger.Error("wrapped", "err", errors.Join(errors.New("outer"), errors.New(secret)))

			for dest, text := range map[string]string{"stderr": stderr.String(), "file": readFile(t, path)} {
				if strings.Contains(text, secret) {
					t.Errorf("%s contains the secret:\n%s", dest, text)
				}
				if got := strings.Count(text, Sensitive); got < 12 {
					t.Errorf("%s has %d %s markers, want at least 12:\n%s", dest, got, Sensitive, text)
				}
				for _, part := range []string{"admin", "token (sensitive)", "login failed for (sensitive)"} {
					if !strings.Contains(text, part) {
						t.Errorf("%s lacks %q: redaction lost the rest of a value:\n%s", dest, part, text)
					}
				}
			}
		})
	}
}

func TestRedactorString(t *testing.T) {
	const key = "-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\nab\n-----END KEY-----\n"
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"none registered", nil, "a secret", "a secret"},
		{"empty ignored", []string{""}, "text", "text"},
		{"every occurrence", []string{"hunter22"}, "hunter22 and hunter22", "(sensitive) and (sensitive)"},
		{"delimited", []string{"Summer2024"}, "password=Summer2024; 'Summer2024' \"Summer2024\" (Summer2024) /Summer2024/ Summer2024.", "password=(sensitive); '(sensitive)' \"(sensitive)\" ((sensitive)) /(sensitive)/ (sensitive)."},
		{"not inside a word", []string{"Summer2024"}, "xSummer2024 Summer2024x Summer2024_1 2Summer2024", "xSummer2024 Summer2024x Summer2024_1 2Summer2024"},
		{"punctuation at the edges needs no boundary", []string{"!Summer2024!"}, "x!Summer2024!y", "x(sensitive)y"},
		{"unicode word characters", []string{"geheimnis"}, "ägeheimnis geheimnisé geheimnis", "ägeheimnis geheimnisé (sensitive)"},
		{"short values are not redacted", []string{"2022", "pw", "a"}, "windows-server-2022 templates/linux finished after 2022 ms", "windows-server-2022 templates/linux finished after 2022 ms"},
		{"longest first", []string{"abcdefgh", "abcdefghijkl"}, "abcdefghijkl abcdefgh", "(sensitive) (sensitive)"},
		{"overlapping secrets are covered whole", []string{"abcd-efgh", "efgh-ijkl"}, "abcd-efgh-ijkl", "(sensitive)"},
		{"contained secret", []string{"token-12345678", "12345678"}, "token-12345678 12345678 x12345678", "(sensitive) (sensitive) x12345678"},
		{"multi-line secret by line", []string{key}, "read MIIEowIBAAKCAQEA and ab", "read (sensitive) and ab"},
		{"multi-line secret whole", []string{key}, "key: " + key + "done", "key: (sensitive)done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewRedactor(tt.secrets...).String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if got := NewRedactor("Summer2024").Replace("pw=Summer2024", "<sensitive>"); got != "pw=<sensitive>" {
		t.Errorf("Replace with a marker = %q", got)
	}
	var nilRedactor *Redactor
	if got := nilRedactor.String("x"); got != "x" {
		t.Errorf("nil Redactor changed text: %q", got)
	}
}

// TestRedactorManySecrets registers 10,000 secrets and redacts a megabyte
// of text: one pass, however many secrets.
func TestRedactorManySecrets(t *testing.T) {
	var secrets []string
	for i := range 10_000 {
		secrets = append(secrets, fmt.Sprintf("secret-value-%05d", i))
	}
	r := NewRedactor(secrets...)
	var b strings.Builder
	for b.Len() < 1<<20 {
		fmt.Fprintf(&b, "line %d uses secret-value-%05d and secret-value-%05dx\n", b.Len(), b.Len()%10_000, b.Len()%10_000)
	}
	text := b.String()
	start := time.Now()
	out := r.String(text)
	took := time.Since(start)
	if n := strings.Count(out, Sensitive); n != strings.Count(text, "\n") {
		t.Errorf("%d redactions, want one per line", n)
	}
	if strings.Count(out, "secret-value-") != strings.Count(text, "\n") {
		t.Errorf("the value glued to x should stay, once per line")
	}
	if took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	t.Logf("10000 secrets, %d KB of text: %v", len(text)>>10, took)
}

func TestRedactorConcurrentAdd(t *testing.T) {
	r := NewRedactor()
	logger, stderr, _ := setup(t, "info", Options{Redactor: r})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s := fmt.Sprintf("secret-%d", i)
			r.Add(s)
			logger.Info("value", "v", s)
		})
	}
	wg.Wait()
	if strings.Contains(stderr.String(), "secret-") {
		t.Errorf("a secret registered before logging leaked:\n%s", stderr)
	}
}

func ExampleRedactor() {
	r := NewRedactor()
	// Once the configuration is read, register its sensitive values.
	r.Add("Pa55w0rd!")
	r.Add("2022") // too short to redact without mangling: ignored
	fmt.Println(r.String("vm_password=Pa55w0rd! for build.prod.windows-server-2022"))
	// Output:
	// vm_password=(sensitive) for build.prod.windows-server-2022
}

// FuzzRedaction checks the Redactor against a naive implementation of its
// rule, and that a record through the logger is always exactly one line.
func FuzzRedaction(f *testing.F) {
	f.Add("password is hunter22", "hunter22", "unter22x")
	f.Add("abcdefghij", "abcdefgh", "cdefghij")
	f.Add("x(sensitive)y", "(sensitive", "sensitive)")
	f.Add("line\nbreak-break-break", "\nbreak-break", "k-break-break")
	f.Fuzz(func(t *testing.T, text, s1, s2 string) {
		r := NewRedactor(s1, s2)
		if got, want := r.String(text), naiveRedact(r, text); got != want {
			t.Fatalf("String(%q) = %q, want %q (secrets %q, %q)", text, got, want, s1, s2)
		}

		var buf bytes.Buffer
		logger := slog.New(&redactHandler{
			next:     &textHandler{out: &lockedWriter{w: &buf}, level: LevelTrace, command: "plan"},
			redactor: r,
		})
		logger.Info(text, "k", text)
		line := buf.String()
		if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
			t.Fatalf("record is not one line: %q", line)
		}
		if m := lineRE.FindStringSubmatch(strings.TrimSuffix(line, "\n")); m == nil {
			t.Fatalf("line %q does not match %s", line, lineRE)
		}
	})
}

// naiveRedact is the redaction rule written out: every whole-value
// occurrence of every registered secret is covered, and each run of
// occurrences that overlap one another becomes one marker.
func naiveRedact(r *Redactor, text string) string {
	type span struct{ start, end int }
	var spans []span
	for s := range r.secrets {
		first, _ := utf8.DecodeRuneInString(s)
		last, _ := utf8.DecodeLastRuneInString(s)
		for i := 0; i+len(s) <= len(text); i++ {
			if text[i:i+len(s)] == s && wholeValue(text, i, i+len(s), isWord(first), isWord(last)) {
				spans = append(spans, span{i, i + len(s)})
			}
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end)) })
	var b strings.Builder
	pos := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start < end; i++ {
			end = max(end, spans[i].end)
		}
		b.WriteString(text[pos:start])
		b.WriteString(Sensitive)
		pos = end
	}
	b.WriteString(text[pos:])
	return b.String()
}
