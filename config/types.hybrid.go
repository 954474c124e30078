package config

import (
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"

	hversion "github.com/hybridcore/hybrid/internal/version"
)

// Directories are the workspace directories hybrid manages, relative to the
// workspace root.
type Directories struct {
	Sources string // git checkouts, one per source block
	Configs string // rendered var files, configs/<env>/<image>.pkrvars.hcl
	State   string // state/packer-hybrid.json and its lock
	Logs    string // hybrid.log and one log per packer build
}

// DefaultDirectories are the directories of DESIGN.md's workspace layout.
var DefaultDirectories = Directories{Sources: "sources", Configs: "configs", State: "state", Logs: "logs"}

// DefaultOSFamilies are the OS families a packer source name may start with.
var DefaultOSFamilies = []string{"linux", "windows", "freebsd", "openbsd", "netbsd", "macos", "solaris", "illumos"}

// DefaultParallelism is how many nodes apply runs at once unless the settings
// block or -parallelism says otherwise.
const DefaultParallelism = 4

// Settings is the hybrid block: hybrid's own behaviour for this workspace.
type Settings struct {
	RequiredVersion string // constraint on hybrid's version
	PackerVersion   string // constraint on the packer binary's version
	Parallelism     int
	Dirs            Directories
	OSFamilies      []string
	// BuildTimeout is how long a packer build may run, for images that set
	// no build_timeout of their own; 0 means no limit.
	BuildTimeout time.Duration
	// Backend is where the state lives: local (the default) or pg.
	Backend   Backend
	DeclRange hcl.Range

	PackerVersionRange hcl.Range
	BuildTimeoutRange  hcl.Range
}

type rawHybrid struct {
	RequiredVersion hcl.Expression  `hcl:"required_version,optional"`
	PackerVersion   hcl.Expression  `hcl:"packer_version,optional"`
	Parallelism     hcl.Expression  `hcl:"parallelism,optional"`
	OSFamilies      hcl.Expression  `hcl:"os_families,optional"`
	BuildTimeout    hcl.Expression  `hcl:"build_timeout,optional"`
	Directories     *rawDirectories `hcl:"directories,block"`
	Backends        []*rawBackend   `hcl:"backend,block"`
	DefRange        hcl.Range       `hcl:",def_range"`
}

// Backend types.
const (
	BackendLocal = "local"
	BackendPG    = "pg"
)

// PGConnEnv names the environment variable that gives the pg backend's
// connection string, overriding conn_str: the way to keep a password out of
// hybrid.hcl.
const PGConnEnv = "HYBRID_PG_CONN_STR"

// DefaultSchemaName is the PostgreSQL schema the pg backend uses unless the
// backend block names another.
const DefaultSchemaName = "hybrid"

// Backend is a backend block: where the state lives.
type Backend struct {
	// Type is "local" or "pg".
	Type string
	// ConnStr is the pg connection string: HYBRID_PG_CONN_STR when set,
	// else conn_str. It may hold a password: it is sensitive, and never
	// written to state, plans, logs or output.
	ConnStr string
	// SchemaName is the PostgreSQL schema holding hybrid's tables.
	SchemaName string

	DeclRange hcl.Range
}

// Redacted is the backend's connection string with any password replaced,
// for messages.
func (b Backend) Redacted() string {
	return redactConnStr(b.ConnStr)
}

type rawBackend struct {
	Type       string         `hcl:"type,label"`
	TypeRange  hcl.Range      `hcl:"type,label_range"`
	ConnStr    hcl.Expression `hcl:"conn_str,optional"`
	SchemaName hcl.Expression `hcl:"schema_name,optional"`
	DefRange   hcl.Range      `hcl:",def_range"`
}

// decodeBackend evaluates a backend block (literals only, like the rest of
// the hybrid block), with the connection string from env when it is set.
func decodeBackend(blocks []*rawBackend, env func(string) string) (Backend, hcl.Diagnostics) {
	b := Backend{Type: BackendLocal}
	if len(blocks) == 0 {
		if c := env(PGConnEnv); c != "" {
			// The environment alone selects pg, so CI can share a state
			// without a change to hybrid.hcl.
			return Backend{Type: BackendPG, ConnStr: c, SchemaName: DefaultSchemaName}, nil
		}
		return b, nil
	}
	var diags hcl.Diagnostics
	for _, dup := range blocks[1:] {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate backend block",
			Detail:   fmt.Sprintf("The state has one backend; the first is at %s.", blocks[0].DefRange),
			Subject:  dup.DefRange.Ptr(),
		})
	}
	raw := blocks[0]
	b = Backend{Type: raw.Type, DeclRange: raw.DefRange}
	switch raw.Type {
	case BackendLocal:
		if !isNull(raw.ConnStr) || !isNull(raw.SchemaName) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unexpected backend setting",
				Detail:   "The local backend keeps the state in the state directory and takes no conn_str or schema_name.",
				Subject:  raw.DefRange.Ptr(),
			})
		}
		return b, diags
	case BackendPG:
	default:
		return b, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unknown backend",
			Detail:   fmt.Sprintf("%q is not a state backend; use \"local\" (the default) or \"pg\".", raw.Type),
			Subject:  raw.TypeRange.Ptr(),
		})
	}
	var d hcl.Diagnostics
	b.ConnStr, d = evalString(raw.ConnStr, nil, "conn_str", "")
	diags = append(diags, d...)
	b.SchemaName, d = evalString(raw.SchemaName, nil, "schema_name", DefaultSchemaName)
	diags = append(diags, d...)
	if c := env(PGConnEnv); c != "" {
		b.ConnStr = c
	}
	if !schemaNamePattern.MatchString(b.SchemaName) {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid schema name",
			Detail:   fmt.Sprintf("%q is not a schema name hybrid uses: lowercase letters, digits and _, starting with a letter, at most 63 characters.", b.SchemaName),
			Subject:  raw.SchemaName.Range().Ptr(),
		})
	}
	if b.ConnStr == "" && !d.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No PostgreSQL connection string",
			Detail:   fmt.Sprintf("The pg backend needs a connection string: set %s (recommended, it may hold a password), or conn_str in the backend block.", PGConnEnv),
			Subject:  raw.DefRange.Ptr(),
		})
	}
	return b, diags
}

var schemaNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// redactConnStr hides the password of a connection string, in URL form
// (postgres://user:pw@host/db) or keyword form (password=pw).
func redactConnStr(c string) string {
	if u, err := url.Parse(c); err == nil && u.Scheme != "" && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "(sensitive)")
			return u.String()
		}
		return c
	}
	return keywordPassword.ReplaceAllString(c, "${1}(sensitive)")
}

var keywordPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

type rawDirectories struct {
	Sources  hcl.Expression `hcl:"sources,optional"`
	Configs  hcl.Expression `hcl:"configs,optional"`
	State    hcl.Expression `hcl:"state,optional"`
	Logs     hcl.Expression `hcl:"logs,optional"`
	DefRange hcl.Range      `hcl:",def_range"`
}

// decodeSettings evaluates the hybrid block. Its attributes are literals: they
// are read before variables exist.
func decodeSettings(blocks []*rawHybrid, env func(string) string) (Settings, hcl.Diagnostics) {
	s := Settings{Parallelism: DefaultParallelism, Dirs: DefaultDirectories, OSFamilies: DefaultOSFamilies}
	var diags hcl.Diagnostics
	if len(blocks) == 0 {
		s.Backend, diags = decodeBackend(nil, env)
		return s, diags
	}
	for _, dup := range blocks[1:] {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Duplicate hybrid block",
			Detail:   fmt.Sprintf("Only one hybrid settings block is allowed; the first is at %s.", blocks[0].DefRange),
			Subject:  dup.DefRange.Ptr(),
		})
	}
	b := blocks[0]
	s.DeclRange = b.DefRange
	var d hcl.Diagnostics
	s.RequiredVersion, d = evalString(b.RequiredVersion, nil, "required_version", "")
	diags = append(diags, d...)
	if s.RequiredVersion != "" {
		diags = append(diags, checkRequiredVersion(s.RequiredVersion, b.RequiredVersion.Range())...)
	}
	s.PackerVersion, d = evalString(b.PackerVersion, nil, "packer_version", "")
	diags = append(diags, d...)
	s.PackerVersionRange = b.PackerVersion.Range()
	if s.PackerVersion != "" {
		if _, err := version.NewConstraint(s.PackerVersion); err != nil {
			diags = append(diags, invalidConstraint(s.PackerVersion, err, b.PackerVersion.Range()))
		}
	}
	if !isNull(b.Parallelism) {
		var n int
		v, d := b.Parallelism.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if err := decodeInt(v, &n); err != nil || n < 1 || n > 256 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid parallelism",
					Detail:   "parallelism is the number of nodes apply runs at once: a whole number from 1 to 256.",
					Subject:  b.Parallelism.Range().Ptr(),
				})
			} else {
				s.Parallelism = n
			}
		}
	}
	s.Backend, d = decodeBackend(b.Backends, env)
	diags = append(diags, d...)
	s.BuildTimeout, d = evalDuration(b.BuildTimeout, nil, "build_timeout")
	diags = append(diags, d...)
	s.BuildTimeoutRange = b.BuildTimeout.Range()
	if !isNull(b.OSFamilies) {
		fams, rngs, d := evalStringList(b.OSFamilies, nil, "os_families")
		diags = append(diags, d...)
		for i, f := range fams {
			diags = append(diags, checkName("OS family", f, rngs[i])...)
		}
		if len(fams) > 0 {
			s.OSFamilies = fams
		}
	}
	if dirs := b.Directories; dirs != nil {
		for _, f := range []struct {
			expr hcl.Expression
			dst  *string
			what string
		}{
			{dirs.Sources, &s.Dirs.Sources, "sources directory"},
			{dirs.Configs, &s.Dirs.Configs, "configs directory"},
			{dirs.State, &s.Dirs.State, "state directory"},
			{dirs.Logs, &s.Dirs.Logs, "logs directory"},
		} {
			p, d := evalString(f.expr, nil, f.what, *f.dst)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			c, d := cleanRelPath(p, f.expr.Range(), f.what)
			diags = append(diags, d...)
			if c == "." {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Directory is the workspace root",
					Detail:   fmt.Sprintf("The %s must be a subdirectory of the workspace, because hybrid manages its contents.", f.what),
					Subject:  f.expr.Range().Ptr(),
				})
				continue
			}
			if !d.HasErrors() {
				*f.dst = c
			}
		}
	}
	return s, diags
}

func checkRequiredVersion(constraint string, rng hcl.Range) hcl.Diagnostics {
	c, err := version.NewConstraint(constraint)
	if err != nil {
		return hcl.Diagnostics{invalidConstraint(constraint, err, rng)}
	}
	v := version.Must(version.NewVersion(hversion.Version))
	if !c.Check(v) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unsupported hybrid version",
			Detail:   fmt.Sprintf("This configuration requires hybrid %s, but this is hybrid %s. Install a hybrid release that meets the constraint.", constraint, hversion.Version),
			Subject:  rng.Ptr(),
		}}
	}
	return nil
}

func invalidConstraint(c string, err error, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid version constraint",
		Detail:   fmt.Sprintf("%q is not a version constraint (%v). Write it like \">= 1.9.0, < 2.0.0\" or \"~> 1.2\".", c, err),
		Subject:  rng.Ptr(),
	}
}
