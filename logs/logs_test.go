package logs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// setup runs Setup with HYBRID_LOG set to env ("" for unset), logging to a
// fresh directory and a buffer standing in for stderr.
func setup(t *testing.T, env string, opts Options) (*slog.Logger, *bytes.Buffer, string) {
	t.Helper()
	t.Setenv(EnvLevel, env)
	stderr := &bytes.Buffer{}
	opts.Stderr = stderr
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "logs")
	}
	logger, closeFn, err := Setup(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := closeFn(); err != nil {
			t.Error(err)
		}
	})
	return logger, stderr, filepath.Join(opts.Dir, FileName)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var lineRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \[(TRACE|DEBUG|INFO|WARN|ERROR)\] plan: (.*)$`)

func TestTextLineFormat(t *testing.T) {
	logger, stderr, path := setup(t, "", Options{Command: "plan", Level: "debug"})
	logger.Info("message", "key", "value")

	for dest, text := range map[string]string{"stderr": stderr.String(), "file": readFile(t, path)} {
		if !strings.HasSuffix(text, "\n") || strings.Count(text, "\n") != 1 {
			t.Errorf("%s: want exactly one line, got %q", dest, text)
			continue
		}
		m := lineRE.FindStringSubmatch(strings.TrimSuffix(text, "\n"))
		if m == nil {
			t.Errorf("%s: line %q does not match %s", dest, text, lineRE)
			continue
		}
		if m[1] != "INFO" || m[2] != "message key=value" {
			t.Errorf("%s: level %q rest %q", dest, m[1], m[2])
		}
	}
}

func TestTextAttributes(t *testing.T) {
	when := time.Date(2026, 11, 25, 23, 43, 57, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string // the part after "plan: "
	}{
		{
			name: "plain values",
			log: func(l *slog.Logger) {
				l.Info("built", "n", 3, "ok", true, "took", 1500*time.Millisecond, "at", when)
			},
			want: "built n=3 ok=true took=1.5s at=2026-11-25T22:43:57.123Z",
		},
		{
			name: "quoting",
			log: func(l *slog.Logger) {
				l.Info("quote", "empty", "", "space", "a b", "eq", "a=b", "quote", `say "hi"`, "nl", "a\nb", "path", "builds/linux/ubuntu")
			},
			want: `quote empty="" space="a b" eq="a=b" quote="say \"hi\"" nl="a\nb" path=builds/linux/ubuntu`,
		},
		{
			name: "message keeps one line",
			log:  func(l *slog.Logger) { l.Info("two\nlines\tand a tab") },
			want: `two\nlines\tand a tab`,
		},
		{
			name: "groups and With",
			log: func(l *slog.Logger) {
				l.With("run", "r1").WithGroup("build").With("env", "prod").Info("start",
					"image", "ubuntu", slog.Group("packer", "version", "1.9.4"), slog.Group("empty"))
			},
			want: "start run=r1 build.env=prod build.image=ubuntu build.packer.version=1.9.4",
		},
		{
			name: "empty group dropped, inline group kept",
			log: func(l *slog.Logger) {
				l.WithGroup("unused").Info("msg", slog.Group("", "a", 1), slog.Attr{})
			},
			want: "msg unused.a=1",
		},
		{
			name: "error and level values",
			log: func(l *slog.Logger) {
				l.Warn("failed", "err", errors.New("exit status 1"), "lvl", LevelTrace)
			},
			want: `failed err="exit status 1" lvl=TRACE`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, stderr, _ := setup(t, "", Options{Command: "plan", Level: "trace"})
			tt.log(logger)
			m := lineRE.FindStringSubmatch(strings.TrimSuffix(stderr.String(), "\n"))
			if m == nil {
				t.Fatalf("line %q does not match %s", stderr.String(), lineRE)
			}
			if diff := cmp.Diff(tt.want, m[2]); diff != "" {
				t.Errorf("wrong line (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDestinations(t *testing.T) {
	tests := []struct {
		name       string
		env        string
		level      string
		wantFile   []string
		wantStderr []string
	}{
		{
			name:     "no level: file at info, stderr silent",
			wantFile: []string{"INFO", "WARN", "ERROR"},
		},
		{
			name:       "HYBRID_LOG=trace: both get everything",
			env:        "trace",
			wantFile:   []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR"},
			wantStderr: []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR"},
		},
		{
			name:       "HYBRID_LOG=error: file still gets info",
			env:        "error",
			wantFile:   []string{"INFO", "WARN", "ERROR"},
			wantStderr: []string{"ERROR"},
		},
		{
			name:     "HYBRID_LOG=off: stderr silent, file at info",
			env:      "off",
			wantFile: []string{"INFO", "WARN", "ERROR"},
		},
		{
			name:       "flag wins over HYBRID_LOG",
			env:        "error",
			level:      "debug",
			wantFile:   []string{"DEBUG", "INFO", "WARN", "ERROR"},
			wantStderr: []string{"DEBUG", "INFO", "WARN", "ERROR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, stderr, path := setup(t, tt.env, Options{Command: "plan", Level: tt.level})
			for _, l := range []slog.Level{LevelTrace, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
				logger.Log(t.Context(), l, "hello")
			}
			if diff := cmp.Diff(tt.wantFile, levels(t, readFile(t, path))); diff != "" {
				t.Errorf("wrong file levels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStderr, levels(t, stderr.String())); diff != "" {
				t.Errorf("wrong stderr levels (-want +got):\n%s", diff)
			}
		})
	}
}

func levels(t *testing.T, text string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("line %q does not match %s", sc.Text(), lineRE)
		}
		out = append(out, m[1])
	}
	return out
}

func TestJSON(t *testing.T) {
	logger, stderr, path := setup(t, "trace", Options{Command: "apply", JSON: true})
	logger.WithGroup("build").Log(t.Context(), LevelTrace, "packer started", "image", "ubuntu", "pid", 42)
	logger.Error("packer failed", "err", errors.New("exit status 1"))

	for dest, text := range map[string]string{"stderr": stderr.String(), "file": readFile(t, path)} {
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%s: %d lines, want 2:\n%s", dest, len(lines), text)
		}
		var got []map[string]any
		for _, l := range lines {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("%s: %v in %q", dest, err, l)
			}
			ts, _ := rec["time"].(string)
			if _, err := time.Parse(TimeFormat, ts); err != nil || !strings.HasSuffix(ts, "Z") {
				t.Errorf("%s: time %q is not UTC %s", dest, ts, TimeFormat)
			}
			delete(rec, "time")
			got = append(got, rec)
		}
		want := []map[string]any{
			{"level": "TRACE", "msg": "packer started", "command": "apply", "build": map[string]any{"image": "ubuntu", "pid": 42.0}},
			{"level": "ERROR", "msg": "packer failed", "command": "apply", "err": "exit status 1"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: wrong records (-want +got):\n%s", dest, diff)
		}
	}
}

func TestRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "logs")
	logger, _, path := setup(t, "", Options{Command: "apply", Dir: dir, MaxSizeMB: 1, MaxBackups: 2})
	// About 4 MiB of records: at least three rotations at 1 MiB.
	payload := strings.Repeat("x", 1000)
	for i := range 4 * 1024 {
		logger.Info("filler", "i", i, "payload", payload)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > 1<<20 {
		t.Errorf("%s is %d bytes, over the 1 MiB limit", path, info.Size())
	}
	// Old backups are removed by lumberjack in the background; wait for it.
	var backups []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		backups, err = filepath.Glob(filepath.Join(dir, "hybrid-*.log"))
		if err != nil {
			t.Fatal(err)
		}
		if len(backups) <= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(backups) < 1 || len(backups) > 2 {
		t.Errorf("found %d rotated files, want 1 or 2 (MaxBackups 2): %v", len(backups), backups)
	}
}

func TestSetupErrors(t *testing.T) {
	tests := []struct {
		name string
		env  string
		opts Options
		want string
	}{
		{
			name: "bad flag level",
			opts: Options{Level: "verbose"},
			want: `invalid log level "verbose": use one of trace, debug, info, warn, error, off`,
		},
		{
			name: "bad HYBRID_LOG",
			env:  "LOUD",
			want: `invalid HYBRID_LOG "LOUD": use one of trace, debug, info, warn, error, off`,
		},
		{
			name: "negative size",
			opts: Options{Dir: "logs", MaxSizeMB: -1},
			want: "log option MaxSizeMB is -1: use 0 for the default (10) or a positive number",
		},
		{
			name: "negative backups",
			opts: Options{Dir: "logs", MaxBackups: -3},
			want: "log option MaxBackups is -3: use 0 for the default (5) or a positive number",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvLevel, tt.env)
			if tt.opts.Dir != "" {
				tt.opts.Dir = filepath.Join(t.TempDir(), tt.opts.Dir)
			}
			_, _, err := Setup(tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Setup() error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestSetupLogsDirIsAFile(t *testing.T) {
	t.Setenv(EnvLevel, "")
	file := filepath.Join(t.TempDir(), "logs")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Setup(Options{Dir: file})
	if err == nil || !strings.Contains(err.Error(), "create logs directory") {
		t.Errorf("Setup() error = %v, want a create logs directory error", err)
	}
}

func TestNoDestinations(t *testing.T) {
	t.Setenv(EnvLevel, "")
	stderr := &bytes.Buffer{}
	logger, closeFn, err := Setup(Options{Stderr: stderr})
	if err != nil {
		t.Fatal(err)
	}
	logger.Error("nowhere")
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr got %q with no level set", stderr)
	}
}
