package packer

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseLine(t *testing.T) {
	ts := time.Unix(1795646828, 0).UTC()
	tests := map[string]struct {
		line string
		want Event
		ok   bool
	}{
		"ui say": {
			line: "1795646828,,ui,say,==> null.linux-a: Running local shell script: /tmp/packer-shell1",
			want: Event{Time: ts, Type: "ui", Data: []string{"say", "==> null.linux-a: Running local shell script: /tmp/packer-shell1"}},
			ok:   true,
		},
		"comma escape": {
			line: "1795646828,,ui,message,    null.linux-a: a%!(PACKER_COMMA)b%!(PACKER_COMMA)",
			want: Event{Time: ts, Type: "ui", Data: []string{"message", "    null.linux-a: a,b,"}},
			ok:   true,
		},
		"newline and carriage return escapes": {
			line: `1795646828,,ui,say,\n==> Wait completed\r\nnext`,
			want: Event{Time: ts, Type: "ui", Data: []string{"say", "\n==> Wait completed\r\nnext"}},
			ok:   true,
		},
		"trailing newline dropped": {
			line: "1795646828,,ui,error,boom\n",
			want: Event{Time: ts, Type: "ui", Data: []string{"error", "boom"}},
			ok:   true,
		},
		"artifact field": {
			line: "1795646828,file.linux-b,artifact,0,builder-id,packer.file",
			want: Event{Time: ts, Target: "file.linux-b", Type: "artifact", Data: []string{"0", "builder-id", "packer.file"}},
			ok:   true,
		},
		"artifact file": {
			line: "1795646828,file.linux-b,artifact,1,file,0,out%!(PACKER_COMMA)dir/artifact.txt",
			want: Event{Time: ts, Target: "file.linux-b", Type: "artifact", Data: []string{"1", "file", "0", "out,dir/artifact.txt"}},
			ok:   true,
		},
		"artifact end": {
			line: "1795646828,null.linux-a,artifact,0,end",
			want: Event{Time: ts, Target: "null.linux-a", Type: "artifact", Data: []string{"0", "end"}},
			ok:   true,
		},
		"artifact count": {
			line: "1795646828,null.linux-a,artifact-count,2",
			want: Event{Time: ts, Target: "null.linux-a", Type: "artifact-count", Data: []string{"2"}},
			ok:   true,
		},
		"error with target": {
			line: "1795646828,null.f,error,Script exited with non-zero exit status: 1. Allowed exit codes are: [0]",
			want: Event{Time: ts, Target: "null.f", Type: "error", Data: []string{"Script exited with non-zero exit status: 1. Allowed exit codes are: [0]"}},
			ok:   true,
		},
		"empty data field": {
			line: "1795646828,,version-prelease,",
			want: Event{Time: ts, Type: "version-prelease", Data: []string{""}},
			ok:   true,
		},
		"no data": {
			line: "1795646828,,build-name",
			want: Event{Time: ts, Type: "build-name"},
			ok:   true,
		},
		"zero timestamp": {
			line: "0,,ui,say,x",
			want: Event{Time: time.Unix(0, 0).UTC(), Type: "ui", Data: []string{"say", "x"}},
			ok:   true,
		},
		"empty":                 {line: ""},
		"plain text":            {line: "panic: runtime error: index out of range"},
		"two fields":            {line: "1795646828,ui"},
		"timestamp not numeric": {line: "17956x6828,,ui,say,x"},
		"negative timestamp":    {line: "-1,,ui,say,x"},
		"timestamp too long":    {line: "1234567890123456789,,ui,say,x"},
		"empty type":            {line: "1795646828,,,say,x"},
		"type with space":       {line: "1795646828,,u i,say,x"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := ParseLine(tt.line)
			if ok != tt.ok {
				t.Fatalf("ParseLine(%q) ok = %v, want %v", tt.line, ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong event (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventUI(t *testing.T) {
	tests := map[string]struct {
		line string
		want UI
		ok   bool
	}{
		"say with build":      {"1,,ui,say,==> null.linux-a: Running", UI{Level: LevelSay, Build: "null.linux-a", Text: "==> null.linux-a: Running"}, true},
		"message with build":  {"1,,ui,message,    null.linux-a: a%!(PACKER_COMMA)b", UI{Level: LevelMessage, Build: "null.linux-a", Text: "    null.linux-a: a,b"}, true},
		"artifact summary":    {"1,,ui,say,--> file.linux-b: Stored file: artifact.txt", UI{Level: LevelSay, Build: "file.linux-b", Text: "--> file.linux-b: Stored file: artifact.txt"}, true},
		"no build":            {"1,,ui,error,Build 'null.f' errored after 6 ms: boom", UI{Level: LevelError, Text: "Build 'null.f' errored after 6 ms: boom"}, true},
		"heading colon":       {`1,,ui,say,\n==> Builds finished. The artifacts of successful builds are:`, UI{Level: LevelSay, Text: "\n==> Builds finished. The artifacts of successful builds are:"}, true},
		"words before colon":  {"1,,ui,say,==> Some thing: x", UI{Level: LevelSay, Text: "==> Some thing: x"}, true},
		"not ui":              {"1,null.a,artifact,0,end", UI{}, false},
		"ui without message":  {"1,,ui,say", UI{}, false},
		"prefix without name": {"1,,ui,say,==> : x", UI{Level: LevelSay, Text: "==> : x"}, true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e, ok := ParseLine(tt.line)
			if !ok {
				t.Fatalf("ParseLine(%q) failed", tt.line)
			}
			got, ok := e.UI()
			if ok != tt.ok {
				t.Fatalf("UI() ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong UI (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventArtifactField(t *testing.T) {
	tests := map[string]struct {
		line string
		want ArtifactField
		ok   bool
	}{
		"id":          {"1,a.b,artifact,3,id,ami-123", ArtifactField{Index: 3, Key: "id", Values: []string{"ami-123"}}, true},
		"file":        {"1,a.b,artifact,0,file,1,x.img", ArtifactField{Index: 0, Key: "file", Values: []string{"1", "x.img"}}, true},
		"end":         {"1,a.b,artifact,0,end", ArtifactField{Index: 0, Key: "end", Values: []string{}}, true},
		"bad index":   {"1,a.b,artifact,x,end", ArtifactField{}, false},
		"minus index": {"1,a.b,artifact,-1,end", ArtifactField{}, false},
		"short":       {"1,a.b,artifact,0", ArtifactField{}, false},
		"other type":  {"1,a.b,artifact-count,2,x", ArtifactField{}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			e, ok := ParseLine(tt.line)
			if !ok {
				t.Fatalf("ParseLine(%q) failed", tt.line)
			}
			got, ok := e.ArtifactField()
			if ok != tt.ok {
				t.Fatalf("ArtifactField() ok = %v, want %v", ok, tt.ok)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong field (-want +got):\n%s", diff)
			}
		})
	}
}

// readStream parses a machine-readable output file captured from packer.
func readStream(t *testing.T, path string) []Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		e, ok := ParseLine(sc.Text())
		if !ok {
			t.Fatalf("%s: cannot parse %q", path, sc.Text())
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events
}

func TestCollectArtifacts(t *testing.T) {
	null := Artifact{Target: "null.linux-a", BuilderID: "fnoeding.null", ID: "Null", String: "Did not export anything. This is the null builder"}
	file := Artifact{Target: "file.linux-b", BuilderID: "packer.file", ID: "File", String: "Stored file: artifact.txt", Files: []string{"artifact.txt"}}
	at := func(a Artifact, i int) Artifact { a.Index = i; return a }

	tests := map[string]struct {
		lines []string
		file  string
		want  []Artifact
	}{
		"packer 1.9.4 build": {
			file: "testdata/stream/succeeded.txt",
			want: []Artifact{at(file, 0), at(file, 1), at(null, 0), at(null, 1)},
		},
		"packer 1.9.4 failed build": {
			file: "testdata/stream/failed.txt",
		},
		"cut before end": {
			lines: []string{
				"1,a.b,artifact-count,1",
				"1,a.b,artifact,0,builder-id,x",
				"1,a.b,artifact,0,id,y",
			},
		},
		"nil artifact": {
			lines: []string{
				"1,a.b,artifact,0,nil",
				"1,a.b,artifact,0,end",
			},
		},
		"escaped file names": {
			lines: []string{
				"1,a.b,artifact,0,builder-id,x",
				"1,a.b,artifact,0,files-count,2",
				"1,a.b,artifact,0,file,0,one%!(PACKER_COMMA)two.img",
				"1,a.b,artifact,0,file,1,three.img",
				"1,a.b,artifact,0,end",
			},
			want: []Artifact{{Target: "a.b", BuilderID: "x", Files: []string{"one,two.img", "three.img"}}},
		},
		"huge files-count": {
			lines: []string{
				"1,a.b,artifact,0,files-count,99999999999",
				"1,a.b,artifact,0,end",
			},
			want: []Artifact{{Target: "a.b"}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var events []Event
			if tt.file != "" {
				events = readStream(t, tt.file)
			}
			for _, l := range tt.lines {
				e, ok := ParseLine(l)
				if !ok {
					t.Fatalf("cannot parse %q", l)
				}
				events = append(events, e)
			}
			var c artifactCollector
			for _, e := range events {
				c.add(e)
			}
			if diff := cmp.Diff(tt.want, c.artifacts()); diff != "" {
				t.Errorf("wrong artifacts (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseLine(f *testing.F) {
	for _, file := range []string{"testdata/stream/succeeded.txt", "testdata/stream/failed.txt"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			f.Add(l)
		}
	}
	f.Add(`1,,ui,say,a%!(PACKER_COMMA)b\n\r`)
	f.Fuzz(func(t *testing.T, line string) {
		e, ok := ParseLine(line)
		if !ok {
			return
		}
		if e.Type == "" {
			t.Fatalf("ParseLine(%q) gave an empty type", line)
		}
		e.UI()
		var c artifactCollector
		c.add(e)
		// Escaping the fields again gives a line that parses to the same
		// event: nothing is lost between fields.
		fields := []string{e.Target, e.Type}
		for _, d := range e.Data {
			fields = append(fields, escape(d))
		}
		again, ok := ParseLine(strings.Split(line, ",")[0] + "," + strings.Join(fields, ","))
		if !ok {
			t.Fatalf("re-escaped %q does not parse", line)
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Fatalf("round trip of %q differs (-first +second):\n%s", line, diff)
		}
	})
}
