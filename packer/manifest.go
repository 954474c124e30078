package packer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// maxManifestSize bounds the JSON files read when looking for manifests.
const maxManifestSize = 8 << 20

// Manifest is the file packer's manifest post-processor writes. Each run
// appends its builds; LastRunUUID is the run that wrote it last.
type Manifest struct {
	Builds      []ManifestBuild `json:"builds"`
	LastRunUUID string          `json:"last_run_uuid"`
}

// ManifestBuild is one build's entry in a manifest.
type ManifestBuild struct {
	Name          string            `json:"name"`
	BuilderType   string            `json:"builder_type"`
	BuildTime     int64             `json:"build_time"`
	Files         []ManifestFile    `json:"files"`
	ArtifactID    string            `json:"artifact_id"`
	PackerRunUUID string            `json:"packer_run_uuid"`
	CustomData    map[string]string `json:"custom_data"`
}

// Target is the entry's build as -only names it: "builder_type.name".
func (b ManifestBuild) Target() string { return b.BuilderType + "." + b.Name }

// ManifestFile is one file of a manifest entry's artifact.
type ManifestFile struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// ParseManifest decodes a manifest file. It rejects JSON that is not one
// (no "builds" array, or an entry without name or builder_type), so other
// JSON files in a directory can be told apart from manifests.
func ParseManifest(data []byte) (*Manifest, error) {
	var raw struct {
		Builds      *[]ManifestBuild `json:"builds"`
		LastRunUUID *string          `json:"last_run_uuid"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a packer manifest: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a packer manifest: data after the JSON object")
	}
	if raw.Builds == nil {
		return nil, errors.New(`not a packer manifest: no "builds" array`)
	}
	if raw.LastRunUUID == nil {
		return nil, errors.New(`not a packer manifest: no "last_run_uuid"`)
	}
	for i, b := range *raw.Builds {
		if b.Name == "" || b.BuilderType == "" {
			return nil, fmt.Errorf("not a packer manifest: builds[%d] has no name or builder_type", i)
		}
	}
	return &Manifest{Builds: *raw.Builds, LastRunUUID: *raw.LastRunUUID}, nil
}

// manifestSnapshot records the JSON files of the manifest directories before
// a build, so the files the build wrote can be told from the ones it found.
type manifestSnapshot map[string]snapshotFile

type snapshotFile struct {
	digest  string
	entries map[entryKey]int // manifest entries already present, counted
}

// entryKey identifies a manifest entry; an entry that is in the file before
// the build did not come from it.
type entryKey struct {
	name, builderType, artifactID, runUUID string
	buildTime                              int64
}

func keyOf(b ManifestBuild) entryKey {
	return entryKey{b.Name, b.BuilderType, b.ArtifactID, b.PackerRunUUID, b.BuildTime}
}

// jsonFile is one *.json file read from a manifest directory.
type jsonFile struct {
	path   string
	data   []byte
	digest string
}

// readJSONFiles reads the regular *.json files of dirs, up to
// maxManifestSize each. A directory that cannot be read contributes nothing:
// finding manifests is best effort and never fails a build.
func readJSONFiles(dirs []string) []jsonFile {
	var out []jsonFile
	seen := make(map[string]bool)
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, de := range ents {
			if !de.Type().IsRegular() || !strings.HasSuffix(de.Name(), ".json") {
				continue
			}
			p := filepath.Join(dir, de.Name())
			if seen[p] {
				continue
			}
			seen[p] = true
			data, err := readLimited(p, maxManifestSize)
			if err != nil {
				continue
			}
			sum := sha256.Sum256(data)
			out = append(out, jsonFile{path: p, data: data, digest: hex.EncodeToString(sum[:])})
		}
	}
	return out
}

func readLimited(p string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errors.New("too large")
	}
	return data, nil
}

// snapshotManifests records the JSON files of dirs before a build.
func snapshotManifests(dirs []string) manifestSnapshot {
	snap := make(manifestSnapshot)
	for _, f := range readJSONFiles(dirs) {
		sf := snapshotFile{digest: f.digest}
		if m, err := ParseManifest(f.data); err == nil {
			sf.entries = make(map[entryKey]int)
			for _, b := range m.Builds {
				sf.entries[keyOf(b)]++
			}
		}
		snap[f.path] = sf
	}
	return snap
}

// ManifestRef names one manifest file a build wrote to and its content's
// digest as the build left it.
type ManifestRef struct {
	Path string
	// Digest is the hex SHA-256 of the file's content.
	Digest string
}

// manifestMatch is what one run wrote to the manifests.
type manifestMatch struct {
	runUUID string
	files   []ManifestRef // sorted by path
	builds  []ManifestBuild
}

// findManifest looks in dirs for JSON files that are new or changed since
// before and parse as manifests, and returns the one run's entries that
// belong to this build: entries not in their file before, whose target
// matches only (all when only is empty). One run may have written several
// files: a timestamp in the output name differs between builds that finish
// in different seconds. When entries of several runs qualify (parallel
// builds appending to one manifest), it prefers the run whose artifact IDs
// agree with the ones packer printed (artifacts), then a run that was the
// last to write a manifest, then the newest build time.
func findManifest(before manifestSnapshot, dirs, only []string, artifacts []Artifact) (manifestMatch, bool) {
	streamIDs := make(map[string]map[string]bool)
	for _, a := range artifacts {
		if streamIDs[a.Target] == nil {
			streamIDs[a.Target] = make(map[string]bool)
		}
		streamIDs[a.Target][a.ID] = true
	}

	type run struct {
		manifestMatch
		wroteLast bool
		buildTime int64
	}
	runs := make(map[string]*run)
	for _, f := range readJSONFiles(dirs) {
		old, existed := before[f.path]
		if existed && old.digest == f.digest {
			continue
		}
		m, err := ParseManifest(f.data)
		if err != nil {
			continue
		}
		seen := make(map[entryKey]int)
		for k, n := range old.entries {
			seen[k] = n
		}
		inFile := make(map[string]bool)
		for _, b := range m.Builds {
			if k := keyOf(b); seen[k] > 0 {
				seen[k]--
				continue
			}
			if !matchesOnly(b.Target(), only) {
				continue
			}
			r := runs[b.PackerRunUUID]
			if r == nil {
				r = &run{manifestMatch: manifestMatch{runUUID: b.PackerRunUUID}}
				runs[b.PackerRunUUID] = r
			}
			if !inFile[b.PackerRunUUID] {
				inFile[b.PackerRunUUID] = true
				r.files = append(r.files, ManifestRef{Path: f.path, Digest: f.digest})
				r.wroteLast = r.wroteLast || b.PackerRunUUID == m.LastRunUUID
			}
			r.builds = append(r.builds, b)
			r.buildTime = max(r.buildTime, b.BuildTime)
		}
	}

	var best *run
	bestScore := -1
	for _, r := range runs {
		score := 0
		agree := len(streamIDs) > 0
		for _, b := range r.builds {
			if !streamIDs[b.Target()][b.ArtifactID] {
				agree = false
			}
		}
		if agree {
			score += 2
		}
		if r.wroteLast {
			score++
		}
		switch {
		case best == nil, score > bestScore,
			score == bestScore && r.buildTime > best.buildTime,
			score == bestScore && r.buildTime == best.buildTime && r.runUUID < best.runUUID:
			best, bestScore = r, score
		}
	}
	if best == nil {
		return manifestMatch{}, false
	}
	sort.Slice(best.files, func(i, j int) bool { return best.files[i].Path < best.files[j].Path })
	return best.manifestMatch, true
}

// matchesOnly reports whether target is selected by the -only patterns, which
// packer treats as globs ("*.linux-a").
func matchesOnly(target string, only []string) bool {
	if len(only) == 0 {
		return true
	}
	return slices.ContainsFunc(only, func(pat string) bool {
		if ok, err := path.Match(pat, target); err == nil {
			return ok
		}
		return pat == target
	})
}
