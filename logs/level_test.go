package logs

import (
	"log/slog"
	"strings"
	"testing"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "trace", want: LevelTrace},
		{in: "debug", want: slog.LevelDebug},
		{in: "info", want: slog.LevelInfo},
		{in: "warn", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "off", want: LevelOff},
		{in: "TRACE", want: LevelTrace},
		{in: " Debug\n", want: slog.LevelDebug},
		{in: "", wantErr: true},
		{in: "verbose", wantErr: true},
		{in: "warning", wantErr: true},
		{in: "1", wantErr: true},
		{in: "info+2", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseLevel(%q) = %v, want an error", tt.in, got)
				}
				want := "use one of trace, debug, info, warn, error, off"
				if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"`+tt.in+`"`) {
					t.Errorf("error %q should quote the value and say %q", err, want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestLevelName(t *testing.T) {
	tests := []struct {
		level slog.Level
		want  string
	}{
		{LevelTrace, "TRACE"},
		{LevelTrace + 1, "TRACE+1"},
		{LevelTrace - 2, "TRACE-2"},
		{slog.LevelDebug, "DEBUG"},
		{slog.LevelInfo, "INFO"},
		{slog.LevelInfo + 2, "INFO+2"},
		{slog.LevelWarn, "WARN"},
		{slog.LevelError, "ERROR"},
	}
	for _, tt := range tests {
		if got := LevelName(tt.level); got != tt.want {
			t.Errorf("LevelName(%d) = %q, want %q", int(tt.level), got, tt.want)
		}
	}
}

func FuzzParseLevel(f *testing.F) {
	for _, s := range []string{"trace", "DEBUG", " info ", "warn", "error", "off", "", "verbose", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLevel(s)
		if err != nil {
			if !strings.Contains(err.Error(), "use one of") {
				t.Fatalf("error without the allowed values: %v", err)
			}
			return
		}
		// An accepted value is one of the names, and its level parses back.
		name := strings.ToLower(strings.TrimSpace(s))
		again, err := ParseLevel(name)
		if err != nil || again != l {
			t.Fatalf("ParseLevel(%q) = %v, but ParseLevel(%q) = %v, %v", s, l, name, again, err)
		}
	})
}
