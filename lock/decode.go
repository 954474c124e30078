package lock

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/hybridcore/hybrid/internal/hclguard"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// fileSchema is the lockfile's top level as gohcl decodes it. Attributes are
// taken as *hcl.Attribute so each one is evaluated and validated on its own,
// with diagnostics at its own line; gohcl treats pointer fields as optional,
// so decode checks the required ones itself.
type fileSchema struct {
	Packer  *packerBlock   `hcl:"packer,block"`
	Plugins []*pluginBlock `hcl:"plugin,block"`
	Sources []*sourceBlock `hcl:"source,block"`
}

type packerBlock struct {
	Version     *hcl.Attribute `hcl:"version,optional"`
	Constraints *hcl.Attribute `hcl:"constraints,optional"`
	DefRange    hcl.Range      `hcl:",def_range"`
}

type pluginBlock struct {
	Source      string         `hcl:"source,label"`
	SourceRange hcl.Range      `hcl:"source,label_range"`
	Version     *hcl.Attribute `hcl:"version,optional"`
	Constraints *hcl.Attribute `hcl:"constraints,optional"`
	Hashes      *hcl.Attribute `hcl:"hashes,optional"`
	DefRange    hcl.Range      `hcl:",def_range"`
}

type sourceBlock struct {
	Name      string         `hcl:"name,label"`
	NameRange hcl.Range      `hcl:"name,label_range"`
	URL       *hcl.Attribute `hcl:"url,optional"`
	Ref       *hcl.Attribute `hcl:"ref,optional"`
	Commit    *hcl.Attribute `hcl:"commit,optional"`
	DefRange  hcl.Range      `hcl:",def_range"`
}

var (
	commitRe     = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
	hashRe       = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	sourceNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	hostRe       = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$`)
	pluginPartRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?$`)
)

// Read reads and decodes the lockfile at path. A missing file is not an
// error: Read returns an empty File with Missing set.
func Read(path string) (*File, hcl.Diagnostics) {
	return ReadWith(hclparse.NewParser(), path)
}

// ReadWith is Read using the caller's parser, so that the caller can print the
// diagnostics with source snippets from parser.Files().
func ReadWith(parser *hclparse.Parser, path string) (*File, hcl.Diagnostics) {
	src, err := hclguard.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &File{Missing: true}, nil
	case err != nil:
		return &File{}, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the lockfile", Detail: fmt.Sprintf("%v.", err)}}
	}
	return ParseWith(parser, src, path)
}

// ParseWith is Parse using the caller's parser, for source the caller read
// itself (through a confined opener), so the caller can print diagnostics
// with snippets.
func ParseWith(parser *hclparse.Parser, src []byte, filename string) (*File, hcl.Diagnostics) {
	if diags := hclguard.Check(src, filename, hclguard.Native); diags.HasErrors() {
		return &File{}, diags
	}
	hf, diags := parser.ParseHCL(src, filename)
	if hf == nil {
		return &File{}, diags
	}
	f, more := decode(hf)
	diags = append(diags, more...)
	return f, diags
}

// Parse decodes lockfile source; filename is used in diagnostics. It never
// returns a nil File: on errors the File holds what could be decoded.
func Parse(src []byte, filename string) (*File, hcl.Diagnostics) {
	return ParseWith(hclparse.NewParser(), src, filename)
}

func decode(hf *hcl.File) (*File, hcl.Diagnostics) {
	f := &File{}
	var schema fileSchema
	diags := gohcl.DecodeBody(hf.Body, nil, &schema)

	if b := schema.Packer; b != nil {
		p := &Packer{DeclRange: b.DefRange}
		requireAttr(b.Version, "version", "packer", b.DefRange, &diags)
		var ok bool
		if p.Version, ok = attrString(b.Version, &diags); ok {
			checkVersion(p.Version, b.Version, "packer", &diags)
		}
		if p.Constraints, ok = attrString(b.Constraints, &diags); ok {
			checkConstraint(p.Constraints, b.Constraints, "packer", &diags)
		}
		f.Packer = p
	}

	for _, b := range schema.Plugins {
		if err := validPluginSource(b.Source); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin source",
				Detail:   fmt.Sprintf("%s. Write the plugin address as in the template's required_plugins, e.g. \"github.com/hashicorp/vsphere\".", err),
				Subject:  b.SourceRange.Ptr(),
			})
			continue
		}
		if prev, dup := f.Plugins[b.Source]; dup {
			diags = append(diags, duplicate("plugin", b.Source, prev.DeclRange, b.DefRange))
			continue
		}
		p := &Plugin{Source: b.Source, DeclRange: b.DefRange}
		requireAttr(b.Version, "version", "plugin", b.DefRange, &diags)
		var ok bool
		if p.Version, ok = attrString(b.Version, &diags); ok {
			checkVersion(p.Version, b.Version, "plugin "+b.Source, &diags)
		}
		if p.Constraints, ok = attrString(b.Constraints, &diags); ok {
			checkConstraint(p.Constraints, b.Constraints, "plugin "+b.Source, &diags)
		}
		p.Hashes = decodeHashes(b.Hashes, &diags)
		if f.Plugins == nil {
			f.Plugins = map[string]*Plugin{}
		}
		f.Plugins[p.Source] = p
	}

	for _, b := range schema.Sources {
		if !validSourceName(b.Name) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid source name",
				Detail:   fmt.Sprintf("Source name %q must start with a letter, digit or underscore and contain only letters, digits, \"_\", \"-\" and \".\".", b.Name),
				Subject:  b.NameRange.Ptr(),
			})
			continue
		}
		if prev, dup := f.Sources[b.Name]; dup {
			diags = append(diags, duplicate("source", b.Name, prev.DeclRange, b.DefRange))
			continue
		}
		s := &Source{Name: b.Name, DeclRange: b.DefRange}
		requireAttr(b.URL, "url", "source", b.DefRange, &diags)
		requireAttr(b.Commit, "commit", "source", b.DefRange, &diags)
		var ok bool
		if s.URL, ok = attrString(b.URL, &diags); ok && (s.URL == "" || strings.HasPrefix(s.URL, "-")) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid source URL",
				Detail:   fmt.Sprintf("Source %q has URL %q; a git URL must be non-empty and must not start with \"-\". Run \"hybrid lock\" to rewrite the pin from hybrid.hcl.", s.Name, s.URL),
				Subject:  b.URL.Expr.Range().Ptr(),
			})
		}
		if s.Ref, ok = attrString(b.Ref, &diags); ok && strings.HasPrefix(s.Ref, "-") {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid source ref",
				Detail:   fmt.Sprintf("Source %q has ref %q; a git ref must not start with \"-\". Run \"hybrid lock\" to rewrite the pin from hybrid.hcl.", s.Name, s.Ref),
				Subject:  b.Ref.Expr.Range().Ptr(),
			})
		}
		if s.Commit, ok = attrString(b.Commit, &diags); ok && !commitRe.MatchString(s.Commit) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid commit",
				Detail:   fmt.Sprintf("Source %q has commit %q; a commit must be 40 or 64 lowercase hex digits. Run \"hybrid lock\" to resolve it again.", s.Name, s.Commit),
				Subject:  b.Commit.Expr.Range().Ptr(),
			})
		}
		if f.Sources == nil {
			f.Sources = map[string]*Source{}
		}
		f.Sources[s.Name] = s
	}
	return f, diags
}

// attrString evaluates a literal string attribute. It reports false when the
// attribute is absent (the value is then "") or could not be evaluated (the
// diagnostics are appended), so callers validate only values that exist.
func attrString(attr *hcl.Attribute, diags *hcl.Diagnostics) (string, bool) {
	if attr == nil {
		return "", false
	}
	return exprString(attr.Expr, diags)
}

// exprString evaluates a static expression to a string, adding at most one
// diagnostic for it.
func exprString(expr hcl.Expression, diags *hcl.Diagnostics) (string, bool) {
	val, d := expr.Value(nil)
	if d.HasErrors() {
		*diags = append(*diags, d...)
		return "", false
	}
	if !val.IsWhollyKnown() {
		// Only an expression that failed to parse evaluates to an unknown
		// value without an error; the parser has reported it.
		return "", false
	}
	if val.IsNull() {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value",
			Detail:   "A string is required here, not null.",
			Subject:  expr.Range().Ptr(),
		})
		return "", false
	}
	str, err := convert.Convert(val, cty.String)
	if err != nil {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid value",
			Detail:   fmt.Sprintf("A string is required here: %s.", err),
			Subject:  expr.Range().Ptr(),
		})
		return "", false
	}
	return str.AsString(), true
}

// requireAttr reports a missing required attribute at the block's header.
func requireAttr(attr *hcl.Attribute, name, block string, def hcl.Range, diags *hcl.Diagnostics) {
	if attr != nil {
		return
	}
	*diags = append(*diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Missing required argument",
		Detail:   fmt.Sprintf("The %s block needs a %q argument. Run \"hybrid lock\" to rewrite the file.", block, name),
		Subject:  def.Ptr(),
	})
}

func checkVersion(v string, attr *hcl.Attribute, what string, diags *hcl.Diagnostics) {
	if _, err := version.NewVersion(v); err != nil {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid version",
			Detail:   fmt.Sprintf("The %s version %q is not a version number. Run \"hybrid lock\" to pin it again.", what, v),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
}

func checkConstraint(c string, attr *hcl.Attribute, what string, diags *hcl.Diagnostics) {
	if c == "" {
		return
	}
	if _, err := version.NewConstraint(c); err != nil {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid version constraint",
			Detail:   fmt.Sprintf("The %s constraint %q is not a version constraint: %s. Run \"hybrid lock\" to record it again.", what, c, err),
			Subject:  attr.Expr.Range().Ptr(),
		})
	}
}

// decodeHashes reads a plugin's hashes: an object from platform to a static
// list of hashes, or a plain list of hashes from a lockfile written before
// platforms were recorded (returned under UnknownPlatform). Each bad
// platform or hash is reported at its own line; the valid ones are
// returned, each list sorted and de-duplicated.
func decodeHashes(attr *hcl.Attribute, diags *hcl.Diagnostics) map[string][]string {
	if attr == nil {
		return nil
	}
	out := map[string][]string{}
	pairs, mapDiags := hcl.ExprMap(attr.Expr)
	if mapDiags.HasErrors() {
		if _, isList := hcl.ExprList(attr.Expr); isList.HasErrors() {
			*diags = append(*diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin hashes",
				Detail:   "The hashes of a plugin map each platform to the list of its binaries' hashes, such as { linux_amd64 = [\"sha256:...\"] }. Run \"hybrid lock -upgrade\" for this plugin to record them again.",
				Subject:  attr.Expr.Range().Ptr(),
			})
			return nil
		}
		if hashes := decodeHashList(attr.Expr, diags); len(hashes) > 0 {
			out[UnknownPlatform] = hashes
		}
		return mapOrNil(out)
	}
	seen := map[string]hcl.Range{}
	for _, kv := range pairs {
		key, ok := exprString(kv.Key, diags)
		if !ok {
			continue
		}
		platform := key
		if key == unknownPlatformKey {
			platform = UnknownPlatform
		} else if err := CheckPlatform(key); err != nil {
			*diags = append(*diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid platform",
				Detail:   fmt.Sprintf("The hashes are keyed by platform, and %s. Run \"hybrid lock -upgrade\" for this plugin to record its hashes again.", err),
				Subject:  kv.Key.Range().Ptr(),
			})
			continue
		}
		if prev, dup := seen[key]; dup {
			*diags = append(*diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate platform",
				Detail:   fmt.Sprintf("The hashes of platform %s are already listed at line %d. Keep one list.", key, prev.Start.Line),
				Subject:  kv.Key.Range().Ptr(),
			})
			continue
		}
		seen[key] = kv.Key.Range()
		if hashes := decodeHashList(kv.Value, diags); len(hashes) > 0 {
			out[platform] = hashes
		}
	}
	return mapOrNil(out)
}

// decodeHashList reads a static list of hash strings, reporting each bad
// element at its own line, and returns the valid ones sorted and
// de-duplicated.
func decodeHashList(expr hcl.Expression, diags *hcl.Diagnostics) []string {
	elems, d := hcl.ExprList(expr)
	*diags = append(*diags, d...)
	var hashes []string
	for _, e := range elems {
		h, ok := exprString(e, diags)
		if !ok {
			continue
		}
		if !hashRe.MatchString(h) {
			*diags = append(*diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid plugin hash",
				Detail:   fmt.Sprintf("Hash %q is not of the form \"sha256:\" followed by 64 lowercase hex digits. Run \"hybrid lock -upgrade\" for this plugin to record its hashes again.", h),
				Subject:  e.Range().Ptr(),
			})
			continue
		}
		hashes = append(hashes, h)
	}
	return normalizeHashes(hashes)
}

// mapOrNil returns m, or nil when it is empty.
func mapOrNil[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// normalizeHashes sorts and de-duplicates hashes; an empty list becomes nil.
func normalizeHashes(hashes []string) []string {
	if len(hashes) == 0 {
		return nil
	}
	out := slices.Clone(hashes)
	slices.Sort(out)
	return slices.Compact(out)
}

func duplicate(kind, name string, first, again hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s block", kind),
		Detail:   fmt.Sprintf("The %s %q is already locked at line %d. Remove one of the blocks, or run \"hybrid lock\" to rewrite the file.", kind, name, first.Start.Line),
		Subject:  again.Ptr(),
	}
}

// validPluginSource checks a plugin address "hostname/namespace/type" the way
// packer 1.9.4 expects it, and so that it is safe to use as a relative path.
func validPluginSource(s string) error {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return fmt.Errorf("plugin source %q must have the form \"hostname/namespace/type\"", s)
	}
	if !hostRe.MatchString(parts[0]) || strings.Contains(parts[0], "..") {
		return fmt.Errorf("plugin source %q has an invalid hostname %q", s, parts[0])
	}
	for _, p := range parts[1:] {
		if !pluginPartRe.MatchString(p) {
			return fmt.Errorf("plugin source %q has an invalid part %q: use letters, digits, \"-\" and \"_\"", s, p)
		}
	}
	return nil
}

// validSourceName reports whether name can be a source's name and directory.
func validSourceName(name string) bool {
	return sourceNameRe.MatchString(name)
}
