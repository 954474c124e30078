package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hybridcore/hybrid/docs/schema"
)

// The commands the json_* scenarios use to hold hybrid's machine-readable
// output to its published schemas (docs/schema) and to read its events.
func init() {
	scriptCmds["schema"] = cmdSchema
	scriptCmds["event"] = cmdEvent
}

// schemaKinds maps a schema command's KIND to its schema, and says whether
// the file holds one document or one JSON value per line.
var schemaKinds = map[string]struct {
	name  string
	lines bool
}{
	"plan":     {schema.Plan, false},
	"validate": {schema.Validate, false},
	"events":   {schema.Events, true},
}

// cmdSchema checks FILE against the published schema of KIND: plan (a plan
// document), validate (validate -json's document) or events (one event per
// line). Each -drop=PATH first removes the property at PATH (keys and
// array indexes joined by "/") from the document, or from every event that
// has it, so a scenario proves the schema refuses output that lacks it.
// [!] schema [-drop=PATH]... KIND FILE
func cmdSchema(ts *testscript.TestScript, neg bool, args []string) {
	var drops []string
	for len(args) > 0 && strings.HasPrefix(args[0], "-drop=") {
		drops = append(drops, strings.TrimPrefix(args[0], "-drop="))
		args = args[1:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: [!] schema [-drop=PATH]... plan|validate|events FILE")
	}
	kind, ok := schemaKinds[args[0]]
	if !ok {
		ts.Fatalf("schema: unknown kind %q", args[0])
	}
	b := []byte(ts.ReadFile(args[1]))
	for _, path := range drops {
		b = dropProperty(ts, b, path, kind.lines)
	}
	var err error
	if kind.lines {
		err = schema.ValidateLines(kind.name, bytes.NewReader(b))
	} else {
		err = schema.ValidateDocument(kind.name, bytes.NewReader(b))
	}
	switch {
	case err != nil && !neg:
		ts.Fatalf("%s does not follow %s:\n%v", args[1], kind.name, err)
	case err == nil && neg:
		ts.Fatalf("%s follows %s (with %s dropped)", args[1], kind.name, strings.Join(drops, ", "))
	case err != nil:
		ts.Logf("%s refused as expected: %v", kind.name, err)
	}
}

// dropProperty removes PATH from the document in b, or from every line of
// b that has it; it fails the script when no value has it, so a -drop that
// misses cannot make a check pass.
func dropProperty(ts *testscript.TestScript, b []byte, path string, lines bool) []byte {
	values := [][]byte{b}
	if lines {
		values = bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	}
	dropped := 0
	var out bytes.Buffer
	for _, raw := range values {
		v := decodeJSON(ts, raw)
		keys := strings.Split(path, "/")
		if parent, ok := lookupJSON(v, keys[:len(keys)-1]).(map[string]any); ok {
			if _, ok := parent[keys[len(keys)-1]]; ok {
				delete(parent, keys[len(keys)-1])
				dropped++
			}
		}
		enc, err := json.Marshal(v)
		ts.Check(err)
		out.Write(enc)
		out.WriteByte('\n')
	}
	if dropped == 0 {
		ts.Fatalf("schema: no value has %s to drop", path)
	}
	return out.Bytes()
}

// cmdEvent checks that the event stream in FILE holds an event of TYPE
// whose every PATH matches its REGEXP (a string as is, anything else as its
// JSON text); with !, that none does. -first and -last check the first or
// the last event only: a stream opens with its version event and closes
// with its summary.
// [!] event [-first|-last] FILE TYPE [PATH=REGEXP]...
func cmdEvent(ts *testscript.TestScript, neg bool, args []string) {
	which := ""
	if len(args) > 0 && (args[0] == "-first" || args[0] == "-last") {
		which, args = args[0], args[1:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: [!] event [-first|-last] FILE TYPE [PATH=REGEXP]...")
	}
	type cond struct {
		keys []string
		re   *regexp.Regexp
	}
	conds := []cond{{[]string{"type"}, regexp.MustCompile("^" + regexp.QuoteMeta(args[1]) + "$")}}
	for _, kv := range args[2:] {
		path, pattern, ok := strings.Cut(kv, "=")
		if !ok {
			ts.Fatalf("event: %q is not PATH=REGEXP", kv)
		}
		re, err := regexp.Compile(pattern)
		ts.Check(err)
		conds = append(conds, cond{strings.Split(path, "/"), re})
	}
	var events []any
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[0])))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		events = append(events, decodeJSON(ts, sc.Bytes()))
	}
	ts.Check(sc.Err())
	if len(events) == 0 {
		ts.Fatalf("%s holds no events", args[0])
	}
	switch which {
	case "-first":
		events = events[:1]
	case "-last":
		events = events[len(events)-1:]
	}
	found := 0
	for _, ev := range events {
		matches := true
		for _, c := range conds {
			v := lookupJSON(ev, c.keys)
			if v == nil || !c.re.MatchString(jsonText(v)) {
				matches = false
				break
			}
		}
		if matches {
			found++
			ts.Logf("matching event: %s", jsonText(ev))
		}
	}
	switch {
	case found == 0 && !neg:
		ts.Fatalf("%s: no event %s matches %s", args[0], which, strings.Join(args[1:], " "))
	case found > 0 && neg:
		ts.Fatalf("%s: %d events match %s", args[0], found, strings.Join(args[1:], " "))
	}
}

// lookupJSON follows keys and array indexes from v; nil when a step is
// missing.
func lookupJSON(v any, keys []string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// jsonText is a string as is, and any other value as its JSON text.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// decodeJSON decodes one JSON value, keeping numbers exact.
func decodeJSON(ts *testscript.TestScript, b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		ts.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}
