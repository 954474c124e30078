package state_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/statetest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

const testLineage = "3f2b8c1e-5d4a-4e7b-9c1f-2a6d8e0b4c13"

// v1Want is testdata/v1.json in the current model.
func v1Want() *state.State {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return &state.State{
		FormatVersion: state.FormatVersion,
		Serial:        7,
		Lineage:       testLineage,
		Packer:        &state.Packer{Version: "1.9.4", Path: ".tools/bin/packer"},
		Plugins: map[string]state.Plugin{
			"github.com/hashicorp/qemu": {Source: "github.com/hashicorp/qemu", Version: "1.1.0"},
		},
		Sources: map[string]*state.Source{
			"examples": {URL: "https://example.com/examples.git", Ref: "v1.2.0", Commit: "0123456789abcdef0123456789abcdef01234567", SyncedAt: at("2024-03-01T10:00:00Z")},
		},
		Renders: map[string]*state.Render{
			"render.dev.ubuntu": {
				Env: "dev", Image: "ubuntu", Path: "configs/dev/ubuntu.pkrvars.hcl", Digest: "sha256:aa", Fingerprint: "sha256:bb",
				Inputs: map[string]string{"var_file:common": "sha256:cc"}, Values: map[string]string{"vm_mem_size": "2048"},
				RenderedAt: at("2024-03-01T10:01:00Z"),
			},
			"render.prod.base": {
				Env: "prod", Image: "base", Path: "configs/prod/base.pkrvars.hcl", Digest: "sha256:dd", Fingerprint: "sha256:ee",
				Inputs: map[string]string{}, Values: map[string]string{},
			},
		},
		Builds: map[string]*state.Build{
			"build.dev.ubuntu": {
				Env: "dev", Image: "ubuntu", Fingerprint: "sha256:ff", Inputs: map[string]string{"template": "sha256:11"},
				Status: state.StatusSucceeded,
				Artifacts: []state.Artifact{{
					BuilderID: "packer.file", ID: "ubuntu", String: "Stored file: out/ubuntu.img", Files: []string{"out/ubuntu.img"},
				}},
				ManifestDigest: "sha256:22", PackerRunUUID: "9b1f7a52-8c0e-4f5e-a6a3-0d4c2b1e7f90",
				Started: at("2024-03-01T10:02:00Z"), Finished: at("2024-03-01T10:04:30.5Z"), Duration: 150500 * time.Millisecond,
				LogPath: "logs/build.dev.ubuntu.log",
			},
		},
		LastRun: &state.Run{Command: "apply", Who: "ci@runner", When: at("2024-03-01T10:04:31Z"), Outcome: "succeeded"},
	}
}

func TestDecodeV1(t *testing.T) {
	data, err := os.ReadFile("testdata/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := state.Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if diff := cmp.Diff(v1Want(), got); diff != "" {
		t.Errorf("wrong result (-want +got):\n%s", diff)
	}
}

// goldenState is a state with every field set and nothing random in it.
func goldenState() *state.State {
	s := state.New()
	s.Lineage = testLineage
	s.Serial = 42
	statetest.Fill(s)
	s.Builds["build.prod.ubuntu"].PackerRunUUID = "9b1f7a52-8c0e-4f5e-a6a3-0d4c2b1e7f90"
	return s
}

func TestEncodeGolden(t *testing.T) {
	got, err := state.Encode(goldenState())
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	const golden = "testdata/golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("encoding differs from %s (-want +got):\n%s", golden, diff)
	}
	again, err := state.Encode(goldenState())
	if err != nil || !bytes.Equal(got, again) {
		t.Errorf("a second Encode of the same state differs (err %v)", err)
	}
	back, err := state.Decode(got)
	if err != nil {
		t.Fatalf("Decode of encoded state: %v", err)
	}
	if diff := cmp.Diff(goldenState(), back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Decode(Encode(s)) (-want +got):\n%s", diff)
	}
}

func TestEncodeRefusesWhatDecodeRefuses(t *testing.T) {
	tests := map[string]struct {
		edit func(*state.State)
		want string
	}{
		"no lineage":     {func(s *state.State) { s.Lineage = "" }, "no lineage"},
		"bad lineage":    {func(s *state.State) { s.Lineage = "x" }, "not a UUID"},
		"null build":     {func(s *state.State) { s.Builds["build.a.b"] = nil }, "build.a.b is null"},
		"wrong key":      {func(s *state.State) { s.Renders["render.a.b"] = &state.Render{Env: "a", Image: "c"} }, `"render.a.b" does not match`},
		"empty source":   {func(s *state.State) { s.Sources[""] = &state.Source{} }, "empty name"},
		"key is not one": {func(s *state.State) { s.Builds["ubuntu"] = &state.Build{} }, `"ubuntu" does not match`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := state.New()
			tt.edit(s)
			_, err := state.Encode(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Encode: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestEncodeFillsEnvAndImageFromAddress(t *testing.T) {
	s := state.New()
	s.Builds["build.dev.ubuntu"] = &state.Build{Status: state.StatusSucceeded}
	data, err := state.Encode(s)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if s.Builds["build.dev.ubuntu"].Env != "" {
		t.Errorf("Encode modified its argument")
	}
	back, err := state.Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if b := back.Builds["build.dev.ubuntu"]; b.Env != "dev" || b.Image != "ubuntu" {
		t.Errorf("decoded build has env %q image %q, want dev and ubuntu", b.Env, b.Image)
	}
}

// badStates are the fixtures in testdata/bad with the error each must give.
var badStates = map[string]string{
	"not-json.json":           "state is not valid JSON (line 6, column 1",
	"newer.json":              "state was written by a newer hybrid (format 3); upgrade hybrid",
	"no-lineage.json":         "state has no lineage",
	"null-entry.json":         "state entry build.dev.ubuntu is null",
	"wrong-type.json":         "state has a string where serial should be a whole number (line 3",
	"mismatched-address.json": `state entry "render.dev.ubuntu" does not match its env "prod"`,
}

func TestDecodeErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(badStates) {
		t.Errorf("testdata/bad has %d files, the table %d", len(files), len(badStates))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, ok := badStates[filepath.Base(f)]
			if !ok {
				t.Fatalf("no expected error for %s", f)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := state.Decode(data)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Decode: got %v, %v; want an error containing %q", s, err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestDecodeMoreErrors(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"empty":                 {``, "state is not valid JSON"},
		"array":                 {`[]`, "state has an array where the top level should be an object"},
		"no format":             {`{"serial": 1}`, "state has no format_version"},
		"format zero":           {`{"format_version": 0}`, "unknown format_version 0"},
		"trailing garbage":      {`{"format_version": 2} x`, "state is not valid JSON"},
		"duration overflow":     {`{"format_version": 2, "lineage": "` + testLineage + `", "builds": {"build.a.b": {"duration_ms": 9223372036854775807}}}`, "duration_ms 9223372036854775807 is out of range"},
		"v1 duplicate":          {`{"format_version": 1, "lineage": "` + testLineage + `", "builds": [{"address": "build.a.b"}, {"address": "build.a.b"}]}`, "lists build.a.b twice"},
		"v1 no address":         {`{"format_version": 1, "lineage": "` + testLineage + `", "renders": [{"env": "a"}]}`, "without an address"},
		"v1 bad source":         {`{"format_version": 1, "lineage": "` + testLineage + `", "sources": [{"address": "examples"}]}`, `address "examples", want source.<name>`},
		"v1 null":               {`{"format_version": 1, "lineage": "` + testLineage + `", "builds": [null]}`, "null entry in builds"},
		"v1 no lineage":         {`{"format_version": 1, "serial": 3}`, "state has no lineage"},
		"v1 newer is refused":   {`{"format_version": 99}`, "newer hybrid (format 99)"},
		"bad time":              {`{"format_version": 2, "lineage": "` + testLineage + `", "last_run": {"when": "yesterday"}}`, `state has a time that does not parse ("yesterday"); times are RFC 3339`},
		"wrong type in a build": {`{"format_version": 2, "lineage": "` + testLineage + `",` + "\n" + `"builds": {"build.a.b": {"exit_code": "x"}}}`, "state has a string where builds.exit_code should be a whole number (line 2, column 41)"},
		"negative format":       {`{"format_version": -1}`, "unknown format_version -1"},
		"format not a number":   {`{"format_version": "2"}`, "state has a string where format_version should be a whole number"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := state.Decode([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode(%q): got %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, pattern := range []string{"testdata/*.json", "testdata/bad/*.json"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	if data, err := state.Encode(goldenState()); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := state.Decode(data)
		if err != nil {
			return
		}
		enc, err := state.Encode(s)
		if err != nil {
			t.Fatalf("a decoded state does not encode: %v", err)
		}
		back, err := state.Decode(enc)
		if err != nil {
			t.Fatalf("an encoded state does not decode: %v\n%s", err, enc)
		}
		if diff := cmp.Diff(s, back); diff != "" {
			t.Fatalf("Decode(Encode(s)) differs (-first +second):\n%s", diff)
		}
		enc2, err := state.Encode(back)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable (err %v):\n%s\n---\n%s", err, enc, enc2)
		}
	})
}

// TestSkippedBuildRoundTrip checks that a skipped build keeps the builds
// at its root through the file, and that a copy's are its own.
func TestSkippedBuildRoundTrip(t *testing.T) {
	s := state.New()
	s.Lineage = testLineage
	addr := state.BuildAddr("dev", "app")
	s.Builds[addr] = &state.Build{
		Env: "dev", Image: "app", Status: state.StatusSkipped, ExitCode: -1,
		RootCauses: []string{"build.dev.base", "build.dev.tools"},
	}
	data, err := state.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"root_causes": [`)) {
		t.Errorf("encoded state lacks root_causes:\n%s", data)
	}
	back, err := state.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Builds[addr], back.Builds[addr], cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Decode(Encode(s)) (-want +got):\n%s", diff)
	}
	c := back.DeepCopy()
	c.Builds[addr].RootCauses[0] = "x"
	if back.Builds[addr].RootCauses[0] != "build.dev.base" {
		t.Errorf("changing the copy's root causes changed the original")
	}
}
