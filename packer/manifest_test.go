package packer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseManifest(t *testing.T) {
	fileB := func(run string, at int64) ManifestBuild {
		return ManifestBuild{
			Name: "linux-b", BuilderType: "file", BuildTime: at,
			Files:      []ManifestFile{{Name: "artifact.txt", Size: 1}},
			ArtifactID: "File", PackerRunUUID: run, CustomData: map[string]string{"image": "test"},
		}
	}
	const run1, run2 = "0db7cfcc-7b84-0ac0-342b-02f5537d1d69", "1fd4cb19-660a-7ad3-4bd1-197f2ad73f58"
	fixture, err := os.ReadFile("testdata/manifest/two-runs.json")
	if err != nil {
		t.Fatal(err)
	}

	tests := map[string]struct {
		data    string
		want    *Manifest
		wantErr string
	}{
		"packer 1.9.4 manifest, two runs": {
			data: string(fixture),
			want: &Manifest{
				Builds: []ManifestBuild{
					fileB(run1, 1795647121),
					{Name: "linux-a", BuilderType: "null", BuildTime: 1795647121, ArtifactID: "Null", PackerRunUUID: run1, CustomData: map[string]string{"image": "test"}},
					fileB(run2, 1795647122),
				},
				LastRunUUID: run2,
			},
		},
		"empty builds": {
			data: `{"builds":[],"last_run_uuid":""}`,
			want: &Manifest{Builds: []ManifestBuild{}},
		},
		"unknown fields kept out": {
			data: `{"builds":[{"name":"a","builder_type":"null","extra":1}],"last_run_uuid":"u","version":2}`,
			want: &Manifest{Builds: []ManifestBuild{{Name: "a", BuilderType: "null"}}, LastRunUUID: "u"},
		},
		"not json":            {data: `builds`, wantErr: "not a packer manifest"},
		"empty":               {data: ``, wantErr: "not a packer manifest"},
		"array":               {data: `[]`, wantErr: "not a packer manifest"},
		"package.json":        {data: `{"name":"x","version":"1.0.0"}`, wantErr: `no "builds" array`},
		"null builds":         {data: `{"builds":null,"last_run_uuid":""}`, wantErr: `no "builds" array`},
		"no last run":         {data: `{"builds":[]}`, wantErr: `no "last_run_uuid"`},
		"builds not an array": {data: `{"builds":{"a":1},"last_run_uuid":""}`, wantErr: "not a packer manifest"},
		"entry without name":  {data: `{"builds":[{"builder_type":"null"}],"last_run_uuid":""}`, wantErr: "builds[0] has no name"},
		"custom data not text": {
			data:    `{"builds":[{"name":"a","builder_type":"null","custom_data":{"n":1}}],"last_run_uuid":""}`,
			wantErr: "not a packer manifest",
		},
		"trailing data": {data: `{"builds":[],"last_run_uuid":""} {}`, wantErr: "data after the JSON object"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseManifest([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseManifest error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseManifest: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong manifest (-want +got):\n%s", diff)
			}
		})
	}
}

// writeManifest writes m as JSON to dir/name and returns its digest.
func writeManifest(t *testing.T, dir, name string, m Manifest) string {
	t.Helper()
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestFindManifest(t *testing.T) {
	entry := func(target, id, run string) ManifestBuild {
		builder, name, _ := strings.Cut(target, ".")
		return ManifestBuild{Name: name, BuilderType: builder, ArtifactID: id, PackerRunUUID: run, BuildTime: 100}
	}
	oldA := entry("null.a", "Null", "old")

	type file struct {
		name string
		m    Manifest
	}
	tests := map[string]struct {
		before    []file
		after     []file
		only      []string
		artifacts []Artifact
		want      []string // file names
		wantRun   string
		wantIDs   []string
	}{
		"new manifest with a timestamp in its name": {
			after:   []file{{"manifest-1795647113.json", Manifest{Builds: []ManifestBuild{entry("null.a", "Null", "r1")}, LastRunUUID: "r1"}}},
			only:    []string{"null.a"},
			want:    []string{"manifest-1795647113.json"},
			wantRun: "r1",
			wantIDs: []string{"Null"},
		},
		"appended to an existing manifest": {
			before:  []file{{"manifest.json", Manifest{Builds: []ManifestBuild{oldA}, LastRunUUID: "old"}}},
			after:   []file{{"manifest.json", Manifest{Builds: []ManifestBuild{oldA, entry("null.a", "Null", "r2")}, LastRunUUID: "r2"}}},
			only:    []string{"null.a"},
			want:    []string{"manifest.json"},
			wantRun: "r2",
			wantIDs: []string{"Null"},
		},
		"unchanged manifest is not this build's": {
			before: []file{{"manifest.json", Manifest{Builds: []ManifestBuild{oldA}, LastRunUUID: "old"}}},
			after:  []file{{"manifest.json", Manifest{Builds: []ManifestBuild{oldA}, LastRunUUID: "old"}}},
		},
		"one run across timestamped files": {
			before: []file{{"manifest-100.json", Manifest{Builds: []ManifestBuild{oldA}, LastRunUUID: "old"}}},
			after: []file{
				{"manifest-101.json", Manifest{Builds: []ManifestBuild{entry("file.b", "B", "r1")}, LastRunUUID: "r1"}},
				{"manifest-102.json", Manifest{Builds: []ManifestBuild{entry("null.a", "A", "r1")}, LastRunUUID: "r1"}},
			},
			want:    []string{"manifest-101.json", "manifest-102.json"},
			wantRun: "r1",
			wantIDs: []string{"A", "B"},
		},
		"entries of other builds are left out": {
			after: []file{{"m.json", Manifest{Builds: []ManifestBuild{
				entry("null.a", "A", "r1"), entry("file.b", "B", "r1"),
			}, LastRunUUID: "r1"}}},
			only:    []string{"file.b"},
			want:    []string{"m.json"},
			wantRun: "r1",
			wantIDs: []string{"B"},
		},
		"glob in only": {
			after: []file{{"m.json", Manifest{Builds: []ManifestBuild{
				entry("null.a", "A", "r1"), entry("file.b", "B", "r1"),
			}, LastRunUUID: "r1"}}},
			only:    []string{"*.a"},
			want:    []string{"m.json"},
			wantRun: "r1",
			wantIDs: []string{"A"},
		},
		"no only takes the whole run": {
			after: []file{{"m.json", Manifest{Builds: []ManifestBuild{
				entry("null.a", "A", "r1"), entry("file.b", "B", "r1"),
			}, LastRunUUID: "r1"}}},
			want:    []string{"m.json"},
			wantRun: "r1",
			wantIDs: []string{"A", "B"},
		},
		"parallel build of another image wrote last": {
			after: []file{{"m.json", Manifest{Builds: []ManifestBuild{
				entry("null.a", "A", "mine"), entry("null.other", "O", "theirs"),
			}, LastRunUUID: "theirs"}}},
			only:    []string{"null.a"},
			want:    []string{"m.json"},
			wantRun: "mine",
			wantIDs: []string{"A"},
		},
		"parallel build of the same source: artifact IDs decide": {
			after: []file{{"m.json", Manifest{Builds: []ManifestBuild{
				entry("vsphere-iso.a", "vm-dev", "mine"), entry("vsphere-iso.a", "vm-prod", "theirs"),
			}, LastRunUUID: "theirs"}}},
			only:      []string{"vsphere-iso.a"},
			artifacts: []Artifact{{Target: "vsphere-iso.a", ID: "vm-dev"}},
			want:      []string{"m.json"},
			wantRun:   "mine",
			wantIDs:   []string{"vm-dev"},
		},
		"same source, no artifacts printed: the last run": {
			after: []file{{"m.json", Manifest{Builds: []ManifestBuild{
				entry("vsphere-iso.a", "vm-dev", "mine"), entry("vsphere-iso.a", "vm-prod", "theirs"),
			}, LastRunUUID: "theirs"}}},
			only:    []string{"vsphere-iso.a"},
			want:    []string{"m.json"},
			wantRun: "theirs",
			wantIDs: []string{"vm-prod"},
		},
		"other json files are ignored": {
			before: []file{{"package.json", Manifest{}}},
			after:  []file{{"other.json", Manifest{}}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.before {
				writeManifest(t, dir, f.name, f.m)
			}
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			snap := snapshotManifests([]string{dir, filepath.Join(dir, "missing")})
			digests := map[string]string{}
			for _, f := range tt.after {
				digests[f.name] = writeManifest(t, dir, f.name, f.m)
			}
			got, ok := findManifest(snap, []string{dir}, tt.only, tt.artifacts)
			if ok != (tt.want != nil) {
				t.Fatalf("findManifest found = %v, want %v (%+v)", ok, tt.want != nil, got)
			}
			if !ok {
				return
			}
			var wantFiles []ManifestRef
			for _, name := range tt.want {
				wantFiles = append(wantFiles, ManifestRef{Path: filepath.Join(dir, name), Digest: digests[name]})
			}
			if diff := cmp.Diff(wantFiles, got.files); diff != "" {
				t.Errorf("wrong files (-want +got):\n%s", diff)
			}
			if got.runUUID != tt.wantRun {
				t.Errorf("run = %q, want %q", got.runUUID, tt.wantRun)
			}
			var ids []string
			for _, b := range got.builds {
				ids = append(ids, b.ArtifactID)
			}
			slices.Sort(ids)
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("wrong entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestManifestDirs(t *testing.T) {
	tests := map[string]struct {
		workDir string
		dirs    []string
		want    []string
	}{
		"default is the work dir":    {workDir: "/w", want: []string{"/w"}},
		"default without a work dir": {want: []string{"."}},
		"relative to the work dir":   {workDir: "/w", dirs: []string{"out", "/abs"}, want: []string{"/w/out", "/abs"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, manifestDirs(tt.workDir, tt.dirs)); diff != "" {
				t.Errorf("wrong dirs (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	fixture, err := os.ReadFile("testdata/manifest/two-runs.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Add([]byte(`{"builds":[],"last_run_uuid":""}`))
	f.Add([]byte(`{"builds":[{"name":"a","builder_type":"b","files":null,"custom_data":{}}],"last_run_uuid":"u"}`))
	f.Add([]byte(`{"name":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		// What parsed writes back to JSON that parses to the same manifest.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal %q: %v", data, err)
		}
		m2, err := ParseManifest(again)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", again, err)
		}
		if diff := cmp.Diff(m, m2); diff != "" {
			t.Fatalf("round trip differs (-first +second):\n%s", diff)
		}
	})
}
