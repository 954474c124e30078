package logs

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
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
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"none registered", nil, "a secret", "a secret"},
		{"empty ignored", []string{""}, "text", "text"},
		{"every occurrence", []string{"pw"}, "pw and pw", "(sensitive) and (sensitive)"},
		{"longest first", []string{"abc", "abcdef"}, "xabcdefx abc", "x(sensitive)x (sensitive)"},
		{"overlapping", []string{"abc", "bcd"}, "abcd", "(sensitive)d"},
		{
			"multi-line secret by line",
			[]string{"-----BEGIN KEY-----\nMIIEowIBAAKCAQEA\nab\n-----END KEY-----\n"},
			"read MIIEowIBAAKCAQEA and ab",
			"read (sensitive) and ab",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewRedactor(tt.secrets...).String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	var nilRedactor *Redactor
	if got := nilRedactor.String("x"); got != "x" {
		t.Errorf("nil Redactor changed text: %q", got)
	}
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
	fmt.Println(r.String("vm_password=Pa55w0rd! for build.prod.ubuntu"))
	// Output:
	// vm_password=(sensitive) for build.prod.ubuntu
}

// FuzzRedaction checks that no registered secret survives outside the
// markers, in the Redactor and through the logger, and that a record is
// always exactly one line.
func FuzzRedaction(f *testing.F) {
	f.Add("password is hunter2", "hunter2", "ter")
	f.Add("abcd", "abc", "bcd")
	f.Add("x(sensitive)y", "sen", "(s")
	f.Add("line\nbreak", "\n", "k")
	f.Fuzz(func(t *testing.T, text, s1, s2 string) {
		r := NewRedactor(s1, s2)
		check := func(where, out string) {
			for _, piece := range strings.Split(out, Sensitive) {
				for _, s := range []string{s1, s2} {
					if s != "" && strings.Contains(piece, s) {
						t.Fatalf("%s: secret %q survives in %q (input %q)", where, s, out, text)
					}
				}
			}
		}
		check("String", r.String(text))

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
