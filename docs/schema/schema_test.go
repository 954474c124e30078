package schema

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// The examples below are what hybrid prints, cut down. Each test case
// edits one (drops a property, or sets one to a JSON value) and expects
// the schema to accept or refuse the result, so a schema that accepts
// anything fails here. The end-to-end scenarios in cmd/hybrid validate
// real outputs against the same schemas.

const fp1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
const fp2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"

const planExample = `{
  "kind": "hybrid-plan",
  "format_version": "1.0",
  "state_lineage": "25d0845a-0000-4000-8000-000000000000",
  "state_serial": 17,
  "lock_digest": "` + fp1 + `",
  "source_commits": {"examples": "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b"},
  "packer_version": "1.9.4",
  "changes": [
    {"address": "build.prod.linux-ubuntu", "type": "build", "env": "prod", "image": "linux-ubuntu", "action": "update",
     "reasons": [{"kind": "file_changed", "input": "file templates/linux/linux.pkr.hcl",
                  "before": "96a9d903f02b", "after": "aae2a3f3ce09", "message": "file templates/linux/linux.pkr.hcl changed"}],
     "before_fingerprint": "` + fp1 + `", "after_fingerprint": "` + fp2 + `",
     "inputs": {"template": "` + fp2 + `", "packer": "1.9.4"},
     "depends_on": ["render.prod.linux-ubuntu"]},
    {"address": "render.prod.linux-ubuntu", "type": "render", "env": "prod", "image": "linux-ubuntu", "action": "no-op", "reasons": [],
     "before_fingerprint": "` + fp1 + `", "after_fingerprint": "` + fp1 + `", "depends_on": []},
    {"address": "source.examples", "type": "source", "source": "examples", "action": "delete",
     "reasons": [{"kind": "removed_from_config", "input": "source.examples", "message": "no longer in hybrid.hcl"}],
     "before_fingerprint": "` + fp1 + `", "depends_on": []}
  ],
  "summary": {"sync": 0, "build": 0, "rebuild": 1, "render": 0, "forget": 1}
}`

func TestPlanSchema(t *testing.T) {
	tests := map[string]struct {
		edits []edit
		valid bool
	}{
		"example":                {valid: true},
		"no kind":                {[]edit{drop("kind")}, false},
		"no format_version":      {[]edit{drop("format_version")}, false},
		"other major version":    {[]edit{set("format_version", `"2.0"`)}, false},
		"later minor version":    {[]edit{set("format_version", `"1.1"`)}, true},
		"serial as string":       {[]edit{set("state_serial", `"17"`)}, false},
		"no summary":             {[]edit{drop("summary")}, false},
		"summary count missing":  {[]edit{drop("summary/forget")}, false},
		"undocumented property":  {[]edit{set("extra", `1`)}, false},
		"no changes":             {[]edit{drop("changes")}, false},
		"no action":              {[]edit{drop("changes/0/action")}, false},
		"unknown action":         {[]edit{set("changes/0/action", `"replace"`)}, false},
		"null reasons":           {[]edit{set("changes/1/reasons", `null`)}, false},
		"update without reasons": {[]edit{set("changes/0/reasons", `[]`)}, false},
		"no-op with reasons":     {[]edit{set("changes/1/reasons", `[{"kind": "new", "message": "never built"}]`)}, false},
		"unknown reason kind":    {[]edit{set("changes/0/reasons/0/kind", `"file_edited"`)}, false},
		"reason without message": {[]edit{drop("changes/0/reasons/0/message")}, false},
		"bad address":            {[]edit{set("changes/0/address", `"build.prod"`)}, false},
		"bad fingerprint":        {[]edit{set("changes/0/after_fingerprint", `"1a2b3c"`)}, false},
		"no depends_on":          {[]edit{drop("changes/1/depends_on")}, false},
		"build without env":      {[]edit{drop("changes/0/env")}, false},
		"source without name":    {[]edit{drop("changes/2/source")}, false},
		"create with before":     {[]edit{set("changes/0/action", `"create"`)}, false},
		"delete with after":      {[]edit{set("changes/2/after_fingerprint", `"`+fp1+`"`)}, false},
		"last duration":          {[]edit{set("changes/0/last_duration_seconds", `312.5`)}, true},
		"estimate":               {[]edit{set("estimate", `{"build_seconds": 7800, "wall_seconds": 2700.5, "parallelism": 4, "unknown": 2}`)}, true},
		"estimate without unknown": {
			[]edit{set("estimate", `{"build_seconds": 7800, "wall_seconds": 2700, "parallelism": 4}`)}, false},
		"warnings": {
			[]edit{set("diagnostics", `[{"severity": "warning", "summary": "Plugin not installed", "detail": ""}]`)}, true},
		"an error among the warnings": {
			[]edit{set("diagnostics", `[{"severity": "error", "summary": "Plugin not installed", "detail": ""}]`)}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			doc := apply(t, planExample, tt.edits)
			err := ValidateDocument(Plan, bytes.NewReader(doc))
			if tt.valid && err != nil {
				t.Errorf("refused:\n%v", err)
			}
			if !tt.valid && err == nil {
				t.Errorf("accepted:\n%s", doc)
			}
		})
	}
}

// events are one event of each type, as apply -json prints them.
var events = map[string]string{
	"version":       `{"@level":"info","@message":"hybrid 0.1.0","@module":"hybrid","@timestamp":"2024-05-01T10:00:00.123456Z","format_version":"1.0","type":"version","hybrid":"0.1.0","ui":"1.0"}`,
	"diagnostic":    `{"@level":"error","@message":"Error: Reference to undeclared environment","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"diagnostic","diagnostic":{"severity":"error","summary":"Reference to undeclared environment","detail":"There is no environment \"prod\".","range":{"filename":"hybrid.hcl","start":{"line":13,"column":3,"byte":210},"end":{"line":13,"column":19,"byte":226}},"snippet":{"context":"image \"ubuntu\"","code":"  environment.prod]","start_line":13,"highlight_start_offset":2,"highlight_end_offset":18,"values":[]}}}`,
	"warning":       `{"@level":"warn","@message":"Warning: Took over a stale state lock","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"diagnostic","diagnostic":{"severity":"warning","summary":"Took over a stale state lock","detail":"The state lock was held by a process that is gone."}}`,
	"node_start":    `{"@level":"info","@message":"build.dev.linux: Building...","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"node_start","address":"build.dev.linux","action":"create"}`,
	"node_output":   `{"@level":"info","@message":"==> file.linux: Creating file...","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"node_output","address":"build.dev.linux"}`,
	"node_progress": `{"@level":"info","@message":"build.dev.linux: still building (30s elapsed)","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"node_progress","address":"build.dev.linux","elapsed_ms":30000}`,
	"succeeded":     `{"@level":"info","@message":"build.dev.linux: succeeded","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"node_complete","address":"build.dev.linux","action":"create","outcome":"succeeded","duration_ms":1500,"log_path":"logs/dev/linux/x.log","artifacts":[{"builder_id":"packer.file","id":"File","string":"Stored file: output/linux.txt","files":["output/linux.txt"]}]}`,
	"failed":        `{"@level":"error","@message":"build.dev.linux: failed: packer exited with status 1","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"node_complete","address":"build.dev.linux","action":"create","outcome":"failed","duration_ms":1500,"error":"packer exited with status 1","exit_code":1}`,
	"skipped":       `{"@level":"warn","@message":"build.dev.app: skipped because build.dev.linux failed","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"node_complete","address":"build.dev.app","action":"create","outcome":"skipped","duration_ms":0,"root_causes":["build.dev.linux"]}`,
	"summary":       `{"@level":"error","@message":"Apply finished with errors! 1 built, 1 rendered, 1 failed, 1 skipped, 0 forgotten.","@module":"hybrid","@timestamp":"2024-05-01T10:00:00Z","format_version":"1.0","type":"apply_summary","ok":false,"synced":0,"built":1,"rendered":1,"failed":1,"skipped":1,"cancelled":0,"timed_out":0,"forgotten":0}`,
}

func TestEventsSchema(t *testing.T) {
	tests := map[string]struct {
		event string
		edits []edit
		valid bool
	}{
		"version":                       {"version", nil, true},
		"diagnostic":                    {"diagnostic", nil, true},
		"warning":                       {"warning", nil, true},
		"node_start":                    {"node_start", nil, true},
		"node_output":                   {"node_output", nil, true},
		"node_progress":                 {"node_progress", nil, true},
		"succeeded":                     {"succeeded", nil, true},
		"failed":                        {"failed", nil, true},
		"skipped":                       {"skipped", nil, true},
		"summary":                       {"summary", nil, true},
		"no @level":                     {"node_start", []edit{drop("@level")}, false},
		"unknown @level":                {"node_start", []edit{set("@level", `"notice"`)}, false},
		"no @message":                   {"node_output", []edit{drop("@message")}, false},
		"no @timestamp":                 {"node_output", []edit{drop("@timestamp")}, false},
		"timestamp not a date":          {"node_output", []edit{set("@timestamp", `"yesterday"`)}, false},
		"no @module":                    {"summary", []edit{drop("@module")}, false},
		"no format_version":             {"summary", []edit{drop("format_version")}, false},
		"unknown type":                  {"node_start", []edit{set("type", `"node_begin"`)}, false},
		"undocumented property":         {"node_start", []edit{set("extra", `true`)}, false},
		"another type's property":       {"node_start", []edit{set("outcome", `"succeeded"`)}, false},
		"version without ui":            {"version", []edit{drop("ui")}, false},
		"version without hybrid":        {"version", []edit{drop("hybrid")}, false},
		"diagnostic without body":       {"warning", []edit{drop("diagnostic")}, false},
		"diagnostic without summary":    {"diagnostic", []edit{drop("diagnostic/summary")}, false},
		"diagnostic without detail":     {"diagnostic", []edit{drop("diagnostic/detail")}, false},
		"diagnostic level off severity": {"warning", []edit{set("@level", `"info"`)}, false},
		"range without end":             {"diagnostic", []edit{drop("diagnostic/range/end")}, false},
		"column from zero":              {"diagnostic", []edit{set("diagnostic/range/start/column", `0`)}, false},
		"snippet without values":        {"diagnostic", []edit{drop("diagnostic/snippet/values")}, false},
		"snippet without range":         {"diagnostic", []edit{drop("diagnostic/range")}, false},
		"start without address":         {"node_start", []edit{drop("address")}, false},
		"start of a no-op":              {"node_start", []edit{set("action", `"no-op"`)}, false},
		"no outcome":                    {"failed", []edit{drop("outcome")}, false},
		"timed out as text":             {"failed", []edit{set("outcome", `"timed out"`)}, false},
		"failure without error":         {"failed", []edit{drop("error")}, false},
		"failure at info":               {"failed", []edit{set("@level", `"info"`)}, false},
		"skip without root causes":      {"skipped", []edit{drop("root_causes")}, false},
		"artifact without files":        {"succeeded", []edit{drop("artifacts/0/files")}, false},
		"summary without failed":        {"summary", []edit{drop("failed")}, false},
		"failed apply at info":          {"summary", []edit{set("@level", `"info"`)}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			line := apply(t, events[tt.event], tt.edits)
			err := ValidateLines(Events, bytes.NewReader(append(line, '\n')))
			if tt.valid && err != nil {
				t.Errorf("refused:\n%v", err)
			}
			if !tt.valid && err == nil {
				t.Errorf("accepted: %s", line)
			}
		})
	}
}

func TestValidateSchema(t *testing.T) {
	const example = `{"format_version":"1.0","valid":false,"error_count":1,"warning_count":0,"diagnostics":[{"severity":"error","summary":"Invalid command-line option","detail":"flag provided but not defined: -nope."}]}`
	tests := map[string]struct {
		edits []edit
		valid bool
	}{
		"example":            {nil, true},
		"valid with errors":  {[]edit{set("valid", `true`)}, false},
		"no diagnostics":     {[]edit{drop("diagnostics")}, false},
		"no error_count":     {[]edit{drop("error_count")}, false},
		"diagnostic no text": {[]edit{drop("diagnostics/0/summary")}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			doc := apply(t, example, tt.edits)
			err := ValidateDocument(Validate, bytes.NewReader(doc))
			if tt.valid && err != nil {
				t.Errorf("refused:\n%v", err)
			}
			if !tt.valid && err == nil {
				t.Errorf("accepted: %s", doc)
			}
		})
	}
}

func TestValidateLines(t *testing.T) {
	ok := events["version"] + "\n" + events["summary"] + "\n"
	if err := ValidateLines(Events, strings.NewReader(ok)); err != nil {
		t.Errorf("two valid lines refused: %v", err)
	}
	bad := events["version"] + "\n" + strings.Replace(events["summary"], `"ok":false,`, ``, 1) + "\n"
	err := ValidateLines(Events, strings.NewReader(bad))
	if err == nil || !strings.HasPrefix(err.Error(), "line 2: ") {
		t.Errorf("a bad second line: got %v, want an error about line 2", err)
	}
	two := events["version"] + events["summary"] + "\n"
	if err := ValidateLines(Events, strings.NewReader(two)); err == nil {
		t.Errorf("two events on one line accepted")
	}
	if err := ValidateLines(Events, strings.NewReader("")); err == nil {
		t.Errorf("an empty stream accepted")
	}
}

func TestValidateDocument(t *testing.T) {
	if err := ValidateDocument(Plan, strings.NewReader(planExample+"\n"+planExample)); err == nil {
		t.Errorf("two documents accepted as one")
	}
	if err := ValidateDocument(Plan, strings.NewReader(`{"kind": "hybrid-plan"`)); err == nil {
		t.Errorf("a truncated document accepted")
	}
}

// TestSchemaFiles checks every schema file declares draft 2020-12 and an
// $id under the published directory, named as the file, and compiles.
func TestSchemaFiles(t *testing.T) {
	for _, name := range []string{Plan, Events, Validate, Diagnostic} {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc.Schema != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema is %q, want draft 2020-12", name, doc.Schema)
		}
		if !strings.HasSuffix(doc.ID, "/docs/schema/"+name) {
			t.Errorf("%s: $id %q does not name the file", name, doc.ID)
		}
		if _, err := Compiled(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// An edit changes a decoded JSON document in place.
type edit func(t *testing.T, doc any)

// drop removes the property at path (keys and array indexes joined by
// "/"), which must exist.
func drop(path string) edit {
	return func(t *testing.T, doc any) {
		t.Helper()
		parent, key := walk(t, doc, path)
		m, ok := parent.(map[string]any)
		if !ok {
			t.Fatalf("%s: not a property of an object", path)
		}
		if _, ok := m[key]; !ok {
			t.Fatalf("%s: no such property", path)
		}
		delete(m, key)
	}
}

// set sets the property or array element at path to a JSON value.
func set(path, value string) edit {
	return func(t *testing.T, doc any) {
		t.Helper()
		v := decode(t, []byte(value))
		parent, key := walk(t, doc, path)
		switch p := parent.(type) {
		case map[string]any:
			p[key] = v
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(p) {
				t.Fatalf("%s: no such element", path)
			}
			p[i] = v
		default:
			t.Fatalf("%s: the parent is neither an object nor an array", path)
		}
	}
}

// walk returns the value holding the last element of path, and that
// element.
func walk(t *testing.T, doc any, path string) (any, string) {
	t.Helper()
	keys := strings.Split(path, "/")
	cur := doc
	for _, k := range keys[:len(keys)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(c) {
				t.Fatalf("%s: no element %s", path, k)
			}
			cur = c[i]
		default:
			t.Fatalf("%s: %s is not inside an object or array", path, k)
		}
	}
	return cur, keys[len(keys)-1]
}

// apply decodes a JSON example, applies the edits and encodes it again.
func apply(t *testing.T, example string, edits []edit) []byte {
	t.Helper()
	doc := decode(t, []byte(example))
	for _, e := range edits {
		e(t, doc)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}
