package state

import (
	"maps"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// FormatVersion is the state file layout this hybrid reads and writes. Older
// layouts are converted on read and rewritten in this one on the next write;
// newer ones are refused.
const FormatVersion = 2

// Build statuses recorded in Build.Status.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	// StatusSkipped is a build the last apply did not run because a build
	// it depends on failed (Build.RootCauses). A build that ran before
	// keeps what it recorded then, its artifacts included.
	StatusSkipped = "skipped"
)

// State is everything hybrid remembers between runs. Sources, renders and
// builds are maps keyed by address so that the JSON encoding is sorted and a
// change to one entry is a small diff.
type State struct {
	// FormatVersion is the layout the state was decoded from; Encode always
	// writes the current FormatVersion.
	FormatVersion int `json:"format_version"`
	// Serial goes up by exactly one on every write. A backend sets it.
	Serial uint64 `json:"serial"`
	// Lineage is a UUID fixed when the state is created. A write whose
	// lineage differs from the stored state's is refused: it means two
	// unrelated states are being mixed up.
	Lineage string `json:"lineage"`
	// Packer is the packer binary the last run used.
	Packer *Packer `json:"packer,omitzero"`
	// Plugins maps a plugin name to the version installed.
	Plugins map[string]Plugin `json:"plugins"`
	// Sources maps a source name (address "source.<name>") to the checkout
	// on disk.
	Sources map[string]*Source `json:"sources"`
	// Renders maps "render.<env>.<image>" to the var file rendered for it.
	Renders map[string]*Render `json:"renders"`
	// Builds maps "build.<env>.<image>" to its last build.
	Builds map[string]*Build `json:"builds"`
	// Trees maps a tree digest (one of a build's template, inputs or
	// provisioner input digests) to the digest of every file in it, so a
	// plan can name the file that changed. Builds that share a template
	// share its entry; apply drops entries no build refers to.
	Trees map[string]map[string]string `json:"trees,omitempty"`
	// LastRun describes the last command that wrote the state.
	LastRun *Run `json:"last_run,omitzero"`
	// Lazy is set on a summary (see Local.ReadSummary): it loads the
	// whole state, for Details. It is nil on a whole state.
	Lazy *LazyDetails `json:"-"`
}

// Packer records the packer binary in use.
type Packer struct {
	Version string `json:"version"`
	Path    string `json:"path"`
}

// Plugin records one installed packer plugin.
type Plugin struct {
	Source  string `json:"source"`
	Version string `json:"version"`
}

// Source records what is checked out under sources/<name>.
type Source struct {
	URL      string    `json:"url"`
	Ref      string    `json:"ref"`
	Commit   string    `json:"commit"`
	SyncedAt time.Time `json:"synced_at,omitzero"`
}

// Render records one rendered var file.
type Render struct {
	Env   string `json:"env"`
	Image string `json:"image"`
	// Path is the rendered file, relative to the workspace root.
	Path string `json:"path"`
	// Digest is "sha256:<hex>" of the rendered bytes.
	Digest      string `json:"digest"`
	Fingerprint string `json:"fingerprint"`
	// Inputs maps an input name to its digest, so plan can say which moved.
	Inputs map[string]string `json:"inputs"`
	// Values maps each non-sensitive variable to its rendered value as HCL
	// text, so plan can show a variable-level diff. Sensitive variables are
	// never stored here.
	Values     map[string]string `json:"values"`
	RenderedAt time.Time         `json:"rendered_at,omitzero"`
}

// Build records the last packer build of one image in one environment.
//
// Duration is stored in the JSON as "duration_ms", whole milliseconds;
// anything finer is dropped on encoding.
type Build struct {
	Env         string `json:"env"`
	Image       string `json:"image"`
	Fingerprint string `json:"fingerprint"`
	// Inputs maps an input name to its digest, so plan can say which moved.
	Inputs map[string]string `json:"inputs"`
	// Status is StatusSucceeded, StatusFailed or StatusSkipped.
	Status         string        `json:"status"`
	Artifacts      []Artifact    `json:"artifacts"`
	ManifestDigest string        `json:"manifest_digest,omitzero"`
	PackerRunUUID  string        `json:"packer_run_uuid,omitzero"`
	Started        time.Time     `json:"started,omitzero"`
	Finished       time.Time     `json:"finished,omitzero"`
	Duration       time.Duration `json:"-"`
	// LogPath is the build's log file, relative to the workspace root.
	LogPath  string `json:"log_path,omitzero"`
	ExitCode int    `json:"exit_code"`
	// Error is, for a failed build, packer's first error, whole, or why
	// packer could not start.
	Error string `json:"error,omitzero"`
	// RootCauses names, for a skipped build, the failed builds that made
	// the last apply skip it.
	RootCauses []string `json:"root_causes,omitempty"`
}

// Artifact is one artifact of a build, as packer's manifest reports it.
type Artifact struct {
	BuilderID string   `json:"builder_id"`
	ID        string   `json:"id"`
	String    string   `json:"string"`
	Files     []string `json:"files"`
}

// Run describes one hybrid command that wrote the state.
type Run struct {
	Command string `json:"command"`
	// Who is "user@host".
	Who     string    `json:"who"`
	When    time.Time `json:"when,omitzero"`
	Outcome string    `json:"outcome"`
}

// New returns an empty state in the current format with a fresh lineage. The
// lineage becomes fixed when a backend first writes the state.
func New() *State {
	s := &State{FormatVersion: FormatVersion, Lineage: uuid.NewString()}
	s.normalize()
	return s
}

// SourceAddr is the address of the source named name.
func SourceAddr(name string) string { return "source." + name }

// RenderAddr is the address, and the Renders key, of one image's render in env.
func RenderAddr(env, image string) string { return "render." + env + "." + image }

// BuildAddr is the address, and the Builds key, of one image's build in env.
func BuildAddr(env, image string) string { return "build." + env + "." + image }

// Addresses lists every entry of the state, sorted: sources as
// "source.<name>", then the render and build keys as they are.
func (s *State) Addresses() []string {
	addrs := make([]string, 0, len(s.Sources)+len(s.Renders)+len(s.Builds))
	for name := range s.Sources {
		addrs = append(addrs, SourceAddr(name))
	}
	addrs = slices.AppendSeq(addrs, maps.Keys(s.Renders))
	addrs = slices.AppendSeq(addrs, maps.Keys(s.Builds))
	slices.Sort(addrs)
	return addrs
}

// Lookup returns the entry at addr: a *Source, *Render or *Build. The entry
// is the state's own, not a copy.
func (s *State) Lookup(addr string) (any, bool) {
	switch {
	case strings.HasPrefix(addr, "source."):
		v, ok := s.Sources[strings.TrimPrefix(addr, "source.")]
		return v, ok && v != nil
	case strings.HasPrefix(addr, "render."):
		v, ok := s.Renders[addr]
		return v, ok && v != nil
	case strings.HasPrefix(addr, "build."):
		v, ok := s.Builds[addr]
		return v, ok && v != nil
	}
	return nil, false
}

// DeepCopy returns a copy that shares no memory with s.
func (s *State) DeepCopy() *State {
	if s == nil {
		return nil
	}
	c := *s
	if s.Packer != nil {
		p := *s.Packer
		c.Packer = &p
	}
	if s.LastRun != nil {
		r := *s.LastRun
		c.LastRun = &r
	}
	c.Plugins = maps.Clone(s.Plugins)
	c.Sources = cloneEntries(s.Sources, func(v *Source) *Source { x := *v; return &x })
	c.Renders = cloneEntries(s.Renders, (*Render).deepCopy)
	c.Builds = cloneEntries(s.Builds, (*Build).deepCopy)
	if s.Trees != nil {
		c.Trees = make(map[string]map[string]string, len(s.Trees))
		for k, v := range s.Trees {
			c.Trees[k] = maps.Clone(v)
		}
	}
	return &c
}

func cloneEntries[V any](m map[string]*V, clone func(*V) *V) map[string]*V {
	if m == nil {
		return nil
	}
	c := make(map[string]*V, len(m))
	for k, v := range m {
		if v != nil {
			v = clone(v)
		}
		c[k] = v
	}
	return c
}

func (r *Render) deepCopy() *Render {
	c := *r
	c.Inputs = maps.Clone(r.Inputs)
	c.Values = maps.Clone(r.Values)
	return &c
}

func (b *Build) deepCopy() *Build {
	c := *b
	c.Inputs = maps.Clone(b.Inputs)
	c.RootCauses = slices.Clone(b.RootCauses)
	if b.Artifacts != nil {
		c.Artifacts = make([]Artifact, len(b.Artifacts))
		for i, a := range b.Artifacts {
			a.Files = slices.Clone(a.Files)
			c.Artifacts[i] = a
		}
	}
	return &c
}

// normalize replaces nil maps and slices with empty ones, so that a decoded
// state can be assigned into and encodes with the same shape every time.
func (s *State) normalize() {
	s.normalizeMaps()
	for _, r := range s.Renders {
		if r != nil {
			r.normalize()
		}
	}
	for _, b := range s.Builds {
		if b != nil {
			b.normalize()
		}
	}
}

// normalizeMaps replaces the state's nil maps of records with empty ones,
// without visiting the records.
func (s *State) normalizeMaps() {
	if s.Plugins == nil {
		s.Plugins = map[string]Plugin{}
	}
	if s.Sources == nil {
		s.Sources = map[string]*Source{}
	}
	if s.Renders == nil {
		s.Renders = map[string]*Render{}
	}
	if s.Builds == nil {
		s.Builds = map[string]*Build{}
	}
}

// normalize replaces a render's nil maps with empty ones.
func (r *Render) normalize() {
	if r.Inputs == nil {
		r.Inputs = map[string]string{}
	}
	if r.Values == nil {
		r.Values = map[string]string{}
	}
}

// normalize replaces a build's nil maps and slices with empty ones.
func (b *Build) normalize() {
	if b.Inputs == nil {
		b.Inputs = map[string]string{}
	}
	if b.Artifacts == nil {
		b.Artifacts = []Artifact{}
	}
	for i := range b.Artifacts {
		if b.Artifacts[i].Files == nil {
			b.Artifacts[i].Files = []string{}
		}
	}
}

// Who names the current user as "user@host", for lock info and LastRun.
func Who() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}
