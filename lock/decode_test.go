package lock

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestBytesGolden(t *testing.T) {
	got := fullFile().Bytes()
	golden := filepath.Join("testdata", "full.lock.hcl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("Bytes differs from %s (-want +got):\n%s", golden, d)
	}
}

func TestBytesDeterministic(t *testing.T) {
	want := fullFile().Bytes()
	for range 20 {
		f := fullFile()
		// Same pins, hashes in another order, built up in another order.
		f.Plugins[vsphere].Hashes = map[string][]string{"darwin_arm64": {hashA}, "linux_amd64": {hashA, hashB}}
		if got := f.Bytes(); !bytes.Equal(want, got) {
			t.Fatalf("Bytes is not deterministic:\n%s\n---\n%s", want, got)
		}
	}
}

func TestBytesEmpty(t *testing.T) {
	got := string((&File{}).Bytes())
	if got != header {
		t.Errorf("empty file encodes as %q, want only the header", got)
	}
}

func TestParseRoundtrip(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "full.lock.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	f, diags := Parse(src, "full.lock.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := fullFile()
	want.Plugins[vsphere].Hashes["linux_amd64"] = []string{hashA, hashB}
	diff(t, want, f)
	if got := f.Bytes(); !bytes.Equal(src, got) {
		t.Errorf("re-encoding changed the file:\n%s", cmp.Diff(string(src), string(got)))
	}
}

func TestParseUnsorted(t *testing.T) {
	path := filepath.Join("testdata", "valid", "unsorted.hcl")
	f, diags := Read(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want := &File{
		Packer: &Packer{Version: "1.9.4"},
		Plugins: map[string]*Plugin{
			vsphere: {Source: vsphere, Version: "1.2.1", Hashes: map[string][]string{UnknownPlatform: {hashA, hashB}}},
		},
		Sources: map[string]*Source{
			"zeta":  {Name: "zeta", URL: "https://example.com/zeta.git", Commit: commitA},
			"alpha": {Name: "alpha", URL: "/srv/git/alpha.git", Ref: "v1.0.0", Commit: commitA + commitA[:24]},
		},
	}
	diff(t, want, f)

	// Ranges point at the blocks for diagnostics.
	if got := f.Sources["zeta"].DeclRange.Start.Line; got != 3 {
		t.Errorf("source zeta DeclRange line = %d, want 3", got)
	}
	if got := f.Packer.DeclRange; got.Start.Line != 16 || got.Filename != path {
		t.Errorf("packer DeclRange = %v, want %s:16", got, path)
	}

	wantText := header + `
packer {
  version = "1.9.4"
}

plugin "github.com/hashicorp/vsphere" {
  version = "1.2.1"
  hashes = [
    "` + hashA + `",
    "` + hashB + `",
  ]
}

source "alpha" {
  url    = "/srv/git/alpha.git"
  ref    = "v1.0.0"
  commit = "` + commitA + commitA[:24] + `"
}

source "zeta" {
  url    = "https://example.com/zeta.git"
  commit = "` + commitA + `"
}
`
	if d := cmp.Diff(wantText, string(f.Bytes())); d != "" {
		t.Errorf("canonical form differs (-want +got):\n%s", d)
	}
}

var errorMarker = regexp.MustCompile(`#\s*ERROR:\s*(.+?)\s*$`)

// TestParseInvalid decodes every fixture in testdata/invalid; each line that
// ends with "# ERROR: <summary>" must get exactly that diagnostic, and no other
// line may get one.
func TestParseInvalid(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.hcl"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := expectedErrors(t, path)
			parser := hclparse.NewParser()
			_, diags := ReadWith(parser, path)
			got := map[int]string{}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic without a location: %s", d.Summary)
					continue
				}
				if d.Subject.Filename != path {
					t.Errorf("diagnostic %q names file %q, want %q", d.Summary, d.Subject.Filename, path)
				}
				if d.Severity != hcl.DiagError {
					t.Errorf("diagnostic %q is not an error", d.Summary)
				}
				line := d.Subject.Start.Line
				if prev, ok := got[line]; ok {
					got[line] = prev + " + " + d.Summary // shows up in the diff
				} else {
					got[line] = d.Summary
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("wrong diagnostics by line (-want +got):\n%s", d)
			}
			// Every diagnostic prints with a snippet from the parser's files.
			var buf bytes.Buffer
			wr := hcl.NewDiagnosticTextWriter(&buf, parser.Files(), 100, false)
			if err := wr.WriteDiagnostics(diags); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), "# ERROR:") {
				t.Errorf("diagnostic text has no source snippet:\n%s", buf.String())
			}
		})
	}
}

func expectedErrors(t *testing.T, path string) map[int]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[int]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if m := errorMarker.FindStringSubmatch(sc.Text()); m != nil {
			want[line] = m[1]
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s has no # ERROR: marker", path)
	}
	return want
}

func TestReadMissing(t *testing.T) {
	f, diags := Read(filepath.Join(t.TempDir(), DefaultFilename))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	diff(t, &File{Missing: true}, f)
	if string(f.Bytes()) != header {
		t.Errorf("a missing lockfile should encode as an empty one")
	}
}

func TestReadUnreadable(t *testing.T) {
	// A directory where the lockfile should be: an error, not "missing".
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultFilename)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	f, diags := Read(path)
	if !diags.HasErrors() || f.Missing {
		t.Errorf("Read of a directory: Missing=%v diags=%v, want an error", f.Missing, diags)
	}
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultFilename)
	want := fullFile()
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	info1, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	got, diags := Read(path)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	want.Plugins[vsphere].Hashes["linux_amd64"] = []string{hashA, hashB}
	diff(t, want, got)

	// Writing the same pins again leaves the file alone.
	if err := Write(path, got); err != nil {
		t.Fatal(err)
	}
	info2, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info2.ModTime().Equal(info1.ModTime()) || !os.SameFile(info1, info2) {
		t.Errorf("an unchanged lockfile was rewritten")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after Write, want only the lockfile", len(entries))
	}
	if info1.Mode().Perm() != 0o644 {
		t.Errorf("lockfile mode = %v, want 0644", info1.Mode().Perm())
	}
}

func TestWriteMissingDir(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "no", "such", DefaultFilename), fullFile())
	if err == nil {
		t.Fatal("Write into a missing directory succeeded")
	}
}

// TestHashesByPlatformRoundtrip checks the two forms of a plugin's hashes:
// a lockfile from before platforms were recorded (a plain list) reads as
// hashes of an unknown platform and is rewritten unchanged; once some of
// them have a platform, the rest are written under "unknown" and read back
// as they were.
func TestHashesByPlatformRoundtrip(t *testing.T) {
	legacy := header + `
plugin "github.com/hashicorp/vsphere" {
  version = "1.2.1"
  hashes = [
    "` + hashA + `",
    "` + hashB + `",
  ]
}
`
	f, diags := Parse([]byte(legacy), DefaultFilename)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p := f.Plugins[vsphere]
	diff(t, map[string][]string{UnknownPlatform: {hashA, hashB}}, p.Hashes)
	diff(t, []string{hashA, hashB}, p.HashesFor("linux_amd64"))
	if got := string(f.Bytes()); got != legacy {
		t.Errorf("a legacy lockfile is rewritten:\n%s", cmp.Diff(legacy, got))
	}

	p.record("linux_amd64", []InstalledPlugin{{Version: "1.2.1", Platform: "linux_amd64", Hash: hashA}})
	mixed := header + `
plugin "github.com/hashicorp/vsphere" {
  version = "1.2.1"
  hashes = {
    linux_amd64 = [
      "` + hashA + `",
    ]
    unknown = [
      "` + hashB + `",
    ]
  }
}
`
	if d := cmp.Diff(mixed, string(f.Bytes())); d != "" {
		t.Errorf("wrong encoding (-want +got):\n%s", d)
	}
	back, diags := Parse([]byte(mixed), DefaultFilename)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	diff(t, f, back)
	diff(t, []string{"linux_amd64"}, back.Plugins[vsphere].Platforms())
	diff(t, []string{hashA, hashB}, back.Plugins[vsphere].HashesFor("linux_amd64"))
	diff(t, []string{hashB}, back.Plugins[vsphere].HashesFor("darwin_arm64"))
}
