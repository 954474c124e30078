package schema

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The schema files, by the name each is published under in docs/schema.
const (
	// Plan describes the plan document.
	Plan = "plan.schema.json"
	// Events describes one line of the event stream.
	Events = "events.schema.json"
	// Validate describes the validate -json document.
	Validate = "validate.schema.json"
	// Diagnostic describes one error or warning; the others refer to it.
	Diagnostic = "diagnostic.schema.json"
)

//go:embed *.schema.json
var files embed.FS

// FS returns the schema files.
func FS() fs.FS { return files }

// compiled holds every schema compiled once, with formats (date-time)
// asserted rather than merely annotated.
var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	ids := map[string]string{}
	names, err := fs.Glob(files, "*.schema.json")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		b, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		// Each file is known by its $id, so references between them
		// resolve here and nothing is fetched.
		obj, _ := doc.(map[string]any)
		id, _ := obj["$id"].(string)
		if id == "" {
			return nil, fmt.Errorf("%s has no $id", name)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		ids[name] = id
	}
	out := map[string]*jsonschema.Schema{}
	for name, id := range ids {
		s, err := c.Compile(id)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
})

// Compiled returns the named schema (Plan, Events, Validate or
// Diagnostic), compiled with the others it refers to.
func Compiled(name string) (*jsonschema.Schema, error) {
	all, err := compiled()
	if err != nil {
		return nil, err
	}
	s, ok := all[name]
	if !ok {
		return nil, fmt.Errorf("no schema %q", name)
	}
	return s, nil
}

// ValidateDocument checks that r holds exactly one JSON value, valid
// against the named schema.
func ValidateDocument(name string, r io.Reader) error {
	s, err := Compiled(name)
	if err != nil {
		return err
	}
	dec := newDecoder(r)
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not a JSON document: %w", err)
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return s.Validate(v)
}

// ValidateLines checks that r holds one JSON value per line (JSON Lines,
// the form of the event stream), each valid against the named schema. The
// error names the first line that is not.
func ValidateLines(name string, r io.Reader) error {
	s, err := Compiled(name)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	n := 0
	for sc.Scan() {
		n++
		dec := newDecoder(bytes.NewReader(sc.Bytes()))
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("line %d: not a JSON value: %w", n, err)
		}
		if dec.More() {
			return fmt.Errorf("line %d: more than one JSON value", n)
		}
		if err := s.Validate(v); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if n == 0 {
		return errors.New("no lines")
	}
	return nil
}

// newDecoder reads numbers as json.Number, which the validator needs to
// tell integers from other numbers exactly.
func newDecoder(r io.Reader) *json.Decoder {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec
}
