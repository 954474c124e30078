package templates

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Snapshot is what plans need from a template without its syntax: its
// files, packer settings, sources, builds, variables and auto var values.
// A plan caches it keyed by the digests of the template's files, so an
// unchanged template is not parsed again; Restore gives a Template that
// parses its files only if it must be evaluated.
type Snapshot struct {
	Dir             string
	Files           []string
	AutoVarFiles    []string
	RequiredVersion []Constraint
	RequiredPlugins map[string]Plugin
	Sources         []Source
	Builds          []Build
	Variables       map[string]VariableSnapshot
	AutoValues      map[string]ValueSnapshot
	// EvalVars and JSON are what EvalKey needs from the template's
	// syntax, so a restored template is keyed without being parsed.
	EvalVars []string
	JSON     bool
}

// VariableSnapshot is a Variable with its type and default as JSON.
type VariableSnapshot struct {
	Name        string
	Type        json.RawMessage
	HasDefault  bool
	Default     *ValueSnapshot // nil when there is none
	Sensitive   bool
	Description string
	DeclRange   hcl.Range
}

// ValueSnapshot is a cty value as JSON with its type; Unknown values keep
// only their type.
type ValueSnapshot struct {
	Type    json.RawMessage
	Value   json.RawMessage `json:",omitempty"`
	Unknown bool            `json:",omitempty"`
}

func snapshotValue(v cty.Value) (*ValueSnapshot, error) {
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return nil, err
	}
	if !v.IsWhollyKnown() {
		return &ValueSnapshot{Type: ty, Unknown: true}, nil
	}
	if v.ContainsMarked() {
		return nil, fmt.Errorf("a marked value cannot be cached")
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return nil, err
	}
	return &ValueSnapshot{Type: ty, Value: b}, nil
}

func (s *ValueSnapshot) value() (cty.Value, error) {
	ty, err := unmarshalType(s.Type)
	if err != nil {
		return cty.NilVal, err
	}
	if s.Unknown {
		return cty.UnknownVal(ty), nil
	}
	key := string(s.Type) + "\x00" + string(s.Value)
	if v, ok := decoded.Load(key); ok {
		return v.(cty.Value), nil
	}
	v, err := ctyjson.Unmarshal(s.Value, ty)
	if err == nil {
		remember(key, v)
	}
	return v, err
}

// Restoring the templates of a large workspace decodes the same few types
// and default values from JSON again and again: decoded keeps each
// (immutable) result by its JSON, up to maxDecoded small ones per process.
var (
	decoded  sync.Map // JSON -> cty.Type or cty.Value
	nDecoded atomic.Int64
)

const maxDecoded = 4096

func remember(key string, v any) {
	if len(key) <= 1024 && nDecoded.Load() < maxDecoded {
		nDecoded.Add(1)
		decoded.Store(key, v)
	}
}

// unmarshalType is ctyjson.UnmarshalType through decoded.
func unmarshalType(b []byte) (cty.Type, error) {
	key := "type\x00" + string(b)
	if t, ok := decoded.Load(key); ok {
		return t.(cty.Type), nil
	}
	t, err := ctyjson.UnmarshalType(b)
	if err == nil {
		remember(key, t)
	}
	return t, err
}

// Snapshot returns what plans need from the template.
func (t *Template) Snapshot() (*Snapshot, error) {
	s := &Snapshot{
		Dir: t.Dir, Files: t.Files(), AutoVarFiles: t.AutoVarFiles(),
		RequiredVersion: t.RequiredVersion, RequiredPlugins: t.RequiredPlugins,
		Sources: t.Sources, Builds: t.Builds,
		Variables:  map[string]VariableSnapshot{},
		AutoValues: map[string]ValueSnapshot{},
	}
	s.EvalVars, s.JSON = t.evalVars()
	for name, v := range t.Variables {
		ty, err := ctyjson.MarshalType(v.Type)
		if err != nil {
			return nil, err
		}
		vs := VariableSnapshot{Name: v.Name, Type: ty, HasDefault: v.HasDefault, Sensitive: v.Sensitive,
			Description: v.Description, DeclRange: v.DeclRange}
		if v.Default != cty.NilVal {
			d, err := snapshotValue(v.Default)
			if err != nil {
				return nil, err
			}
			vs.Default = d
		}
		s.Variables[name] = vs
	}
	for name, v := range t.AutoValues() {
		d, err := snapshotValue(v)
		if err != nil {
			return nil, err
		}
		s.AutoValues[name] = *d
	}
	return s, nil
}

// Restore returns the Template a snapshot was taken of, reading through
// files. It parses the template's files (with a parser of its own) only
// when it is evaluated.
func Restore(s *Snapshot, files Files) (*Template, error) {
	t := &Template{
		Dir: s.Dir, RequiredVersion: s.RequiredVersion, RequiredPlugins: s.RequiredPlugins,
		Sources: s.Sources, Builds: s.Builds, Variables: map[string]Variable{},
		files: s.Files, autoVarFiles: s.AutoVarFiles, reader: files, lazy: true,
	}
	if t.RequiredPlugins == nil {
		t.RequiredPlugins = map[string]Plugin{}
	}
	for name, vs := range s.Variables {
		ty, err := unmarshalType(vs.Type)
		if err != nil {
			return nil, err
		}
		v := Variable{Name: vs.Name, Type: ty, HasDefault: vs.HasDefault, Sensitive: vs.Sensitive,
			Description: vs.Description, DeclRange: vs.DeclRange}
		if vs.Default != nil {
			if v.Default, err = vs.Default.value(); err != nil {
				return nil, err
			}
		}
		t.Variables[name] = v
	}
	auto := map[string]cty.Value{}
	for name, vs := range s.AutoValues {
		v, err := vs.value()
		if err != nil {
			return nil, err
		}
		auto[name] = v
	}
	t.restoredAuto = auto
	t.restoredVars, t.restoredJSON = s.EvalVars, s.JSON
	return t, nil
}

// parseLazily parses a restored template's files, for its index.
func (t *Template) parseLazily() {
	p := hclparse.NewParser()
	for _, path := range t.files {
		f, diags := parseFile(p, t.reader, path)
		if diags.HasErrors() || f == nil || f.Body == nil {
			continue
		}
		t.parsed = append(t.parsed, f)
	}
}
