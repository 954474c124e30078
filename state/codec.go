package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Decode parses a state file. It accepts the current format and converts
// older ones to the current model in memory (the file itself is rewritten in
// the current format by the next write). A newer format, JSON that does not
// parse, a missing or malformed lineage and entries inconsistent with their
// addresses are errors that say what to do next.
func Decode(data []byte) (*State, error) {
	var header struct {
		FormatVersion *int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &header); err != nil {
		return nil, jsonError(data, err)
	}
	if header.FormatVersion == nil {
		return nil, errors.New("state has no format_version; restore the .backup copy or fix the file by hand")
	}
	var s *State
	switch v := *header.FormatVersion; {
	case v > FormatVersion:
		return nil, fmt.Errorf("state was written by a newer hybrid (format %d); upgrade hybrid (this one reads formats 1 to %d)", v, FormatVersion)
	case v == FormatVersion:
		var w stateJSON
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, jsonError(data, err)
		}
		var err error
		if s, err = w.state(); err != nil {
			return nil, err
		}
	case v == 1:
		var err error
		if s, err = decodeV1(data); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("state has an unknown format_version %d; restore the .backup copy or fix the file by hand", v)
	}
	s.FormatVersion = FormatVersion
	s.normalize()
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// Encode returns the state as indented JSON with a trailing newline, in the
// current format. The output is deterministic: maps are sorted by key. Encode
// refuses a state that Decode would refuse, so a backend never writes a file
// it cannot read back; s itself is not modified.
func Encode(s *State) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encode state: no state")
	}
	if s.Summarized() {
		// A summary lacks the records' details: writing it would lose them.
		return nil, errors.New("encode state: a summary is not a whole state (read it with Read)")
	}
	c := s.DeepCopy()
	c.FormatVersion = FormatVersion
	c.normalize()
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(wire(c)); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return buf.Bytes(), nil
}

// check validates a normalized state and fills an entry's env and image from
// its address when both are empty.
func (s *State) check() error {
	if s.Lineage == "" {
		return errors.New("state has no lineage; restore the .backup copy, or move the file aside to start a new state")
	}
	if _, err := uuid.Parse(s.Lineage); err != nil {
		return fmt.Errorf("state lineage %q is not a UUID; restore the .backup copy or fix the file by hand", s.Lineage)
	}
	for name, src := range s.Sources {
		if name == "" {
			return errors.New("state has a source with an empty name; fix the file by hand")
		}
		if src == nil {
			return fmt.Errorf("state entry %s is null; fix the file by hand", SourceAddr(name))
		}
	}
	for addr, r := range s.Renders {
		if r == nil {
			return fmt.Errorf("state entry %s is null; fix the file by hand", addr)
		}
		if err := checkEntry(addr, "render", &r.Env, &r.Image); err != nil {
			return err
		}
	}
	for addr, b := range s.Builds {
		if b == nil {
			return fmt.Errorf("state entry %s is null; fix the file by hand", addr)
		}
		if err := checkEntry(addr, "build", &b.Env, &b.Image); err != nil {
			return err
		}
	}
	return nil
}

func checkEntry(addr, kind string, env, image *string) error {
	if *env == "" && *image == "" {
		parts := strings.SplitN(addr, ".", 3)
		if len(parts) == 3 && parts[0] == kind && parts[1] != "" && parts[2] != "" {
			*env, *image = parts[1], parts[2]
		}
	}
	if *env == "" || *image == "" || addr != kind+"."+*env+"."+*image {
		return fmt.Errorf("state entry %q does not match its env %q and image %q (want %s.<env>.<image>); fix the file by hand", addr, *env, *image, kind)
	}
	return nil
}

// jsonError turns an encoding/json error into a one-line cause with the
// position and a next step.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tim *time.ParseError
	switch {
	case errors.As(err, &tim):
		return fmt.Errorf("state has a time that does not parse (%q); times are RFC 3339, e.g. 2024-03-01T10:00:00Z: restore the .backup copy or fix the file by hand", tim.Value)
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("state is not valid JSON (line %d, column %d: %v); restore the .backup copy or fix the file by hand", line, col, syn)
	case errors.As(err, &typ):
		where := "the top level"
		if typ.Field != "" {
			where = typ.Field
		}
		line, col := position(data, typ.Offset)
		return fmt.Errorf("state has %s where %s should be %s (line %d, column %d); restore the .backup copy or fix the file by hand", withArticle(typ.Value), where, jsonKind(typ.Type), line, col)
	}
	return fmt.Errorf("state is not valid: %v; restore the .backup copy or fix the file by hand", err)
}

// jsonKind describes what JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "a time string"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "something else"
}

// withArticle turns encoding/json's "object", "number 2.5" into "an object",
// "a number 2.5".
func withArticle(v string) string {
	if v == "" {
		return "a value"
	}
	if strings.ContainsRune("aeiou", rune(v[0])) {
		return "an " + v
	}
	return "a " + v
}

func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// stateJSON is State as stored; it differs only in the builds.
type stateJSON struct {
	FormatVersion int                          `json:"format_version"`
	Serial        uint64                       `json:"serial"`
	Lineage       string                       `json:"lineage"`
	Packer        *Packer                      `json:"packer,omitzero"`
	Plugins       map[string]Plugin            `json:"plugins"`
	Sources       map[string]*Source           `json:"sources"`
	Renders       map[string]*Render           `json:"renders"`
	Builds        map[string]*buildJSON        `json:"builds"`
	Trees         map[string]map[string]string `json:"trees,omitempty"`
	LastRun       *Run                         `json:"last_run,omitzero"`
}

func wire(s *State) *stateJSON {
	w := &stateJSON{
		FormatVersion: s.FormatVersion, Serial: s.Serial, Lineage: s.Lineage, Packer: s.Packer,
		Plugins: s.Plugins, Sources: s.Sources, Renders: s.Renders, LastRun: s.LastRun,
		Builds: make(map[string]*buildJSON, len(s.Builds)), Trees: s.Trees,
	}
	for addr, b := range s.Builds {
		w.Builds[addr] = b.wire()
	}
	return w
}

func (w *stateJSON) state() (*State, error) {
	s := &State{
		FormatVersion: w.FormatVersion, Serial: w.Serial, Lineage: w.Lineage, Packer: w.Packer,
		Plugins: w.Plugins, Sources: w.Sources, Renders: w.Renders, LastRun: w.LastRun,
		Builds: make(map[string]*Build, len(w.Builds)), Trees: w.Trees,
	}
	for addr, bw := range w.Builds {
		if bw == nil {
			s.Builds[addr] = nil
			continue
		}
		b, err := bw.build()
		if err != nil {
			return nil, fmt.Errorf("state entry %s: %w", addr, err)
		}
		s.Builds[addr] = b
	}
	return s, nil
}

// buildJSON is Build as stored: the duration in whole milliseconds.
type buildJSON struct {
	Env            string            `json:"env"`
	Image          string            `json:"image"`
	Fingerprint    string            `json:"fingerprint"`
	Inputs         map[string]string `json:"inputs"`
	Status         string            `json:"status"`
	Artifacts      []Artifact        `json:"artifacts"`
	ManifestDigest string            `json:"manifest_digest,omitzero"`
	PackerRunUUID  string            `json:"packer_run_uuid,omitzero"`
	Started        time.Time         `json:"started,omitzero"`
	Finished       time.Time         `json:"finished,omitzero"`
	DurationMS     int64             `json:"duration_ms"`
	LogPath        string            `json:"log_path,omitzero"`
	ExitCode       int               `json:"exit_code"`
	Error          string            `json:"error,omitzero"`
	RootCauses     []string          `json:"root_causes,omitempty"`
}

func (b *Build) wire() *buildJSON {
	if b == nil {
		return nil
	}
	return &buildJSON{
		Env: b.Env, Image: b.Image, Fingerprint: b.Fingerprint, Inputs: b.Inputs,
		Status: b.Status, Artifacts: b.Artifacts, ManifestDigest: b.ManifestDigest,
		PackerRunUUID: b.PackerRunUUID, Started: b.Started, Finished: b.Finished,
		DurationMS: b.Duration.Milliseconds(), LogPath: b.LogPath,
		ExitCode: b.ExitCode, Error: b.Error, RootCauses: b.RootCauses,
	}
}

func (w *buildJSON) build() (*Build, error) {
	const limit = math.MaxInt64 / int64(time.Millisecond)
	if w.DurationMS > limit || w.DurationMS < -limit {
		return nil, fmt.Errorf("duration_ms %d is out of range; fix the file by hand", w.DurationMS)
	}
	return &Build{
		Env: w.Env, Image: w.Image, Fingerprint: w.Fingerprint, Inputs: w.Inputs,
		Status: w.Status, Artifacts: w.Artifacts, ManifestDigest: w.ManifestDigest,
		PackerRunUUID: w.PackerRunUUID, Started: w.Started, Finished: w.Finished,
		Duration: time.Duration(w.DurationMS) * time.Millisecond, LogPath: w.LogPath,
		ExitCode: w.ExitCode, Error: w.Error, RootCauses: w.RootCauses,
	}, nil
}

// MarshalJSON stores the duration as "duration_ms", whole milliseconds, as
// in the state file.
func (b Build) MarshalJSON() ([]byte, error) {
	return json.Marshal(b.wire())
}

// UnmarshalJSON reads the layout MarshalJSON writes.
func (b *Build) UnmarshalJSON(data []byte) error {
	var w buildJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	nb, err := w.build()
	if err != nil {
		return err
	}
	*b = *nb
	return nil
}
