package templates

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/internal/hclguard"
)

// File name suffixes packer gives meaning to.
const (
	// HCLSuffix ends a packer template file in HCL native syntax.
	HCLSuffix = ".pkr.hcl"
	// JSONSuffix ends a packer template file in HCL JSON syntax.
	JSONSuffix = ".pkr.json"
	// AutoVarsHCLSuffix ends a var file packer loads by itself from the
	// template directory.
	AutoVarsHCLSuffix = ".auto.pkrvars.hcl"
	// AutoVarsJSONSuffix is the JSON form of AutoVarsHCLSuffix.
	AutoVarsJSONSuffix = ".auto.pkrvars.json"
)

// Template is what hybrid knows of one packer template directory. Every
// slice is in file order (files sorted by name, blocks in source order), so
// two loads of the same directory give equal Templates.
type Template struct {
	// Dir is the directory as given to Load.
	Dir string

	// RequiredVersion holds each `packer { required_version = ... }`
	// constraint; packer requires all of them to hold.
	RequiredVersion []Constraint

	// RequiredPlugins maps the local plugin name (the attribute name inside
	// `required_plugins`) to its requirement.
	RequiredPlugins map[string]Plugin

	// Sources are the `source "<type>" "<name>"` blocks.
	Sources []Source

	// Builds are the `build` blocks.
	Builds []Build

	// Variables are the declared input variables by name, from `variable`
	// blocks and `variables` blocks alike.
	Variables map[string]Variable

	files        []string
	autoVarFiles []string
	// parsed holds each packer file that parsed, in file order: what
	// Evaluate reads.
	parsed []*hcl.File
	// reader is what the template was read through; auto var files are
	// read through it too.
	reader    Files
	indexOnce sync.Once
	idx       *templateIndex
	// evals shares evaluations among builds that agree on what they use.
	evalMu sync.Mutex
	evals  map[string]*evalCall
	// lazy marks a template restored from a Snapshot: its files are
	// parsed only when it is evaluated. restoredAuto holds its auto var
	// values.
	lazy         bool
	restoredAuto map[string]cty.Value
	restoredVars []string
	restoredJSON bool
	// guard bounds what evaluations build; guardMu runs them one at a
	// time.
	guard   *hclguard.Guard
	guardMu sync.Mutex
}

// Constraint is a version constraint string as written, with where it was
// written. It has been checked to parse as a hashicorp/go-version constraint.
type Constraint struct {
	Value string
	Range hcl.Range
}

// Load reads every *.pkr.hcl and *.pkr.json file directly in dir (not in
// subdirectories, and never var files or *.pkrtpl.hcl templates), in name
// order, with p, so p.Files() holds their bytes for printing diagnostics.
// A nil p gets a fresh parser.
//
// Load always returns a Template, partial when there are errors: a file
// with syntax errors contributes nothing, and references between files are
// only checked when every file parsed.
func Load(p *hclparse.Parser, dir string) (*Template, hcl.Diagnostics) {
	return LoadFrom(p, OS, dir)
}

// LoadFrom is Load reading through files, with dir a path files accepts.
// File names in diagnostics are dir joined with each name.
func LoadFrom(p *hclparse.Parser, files Files, dir string) (*Template, hcl.Diagnostics) {
	if p == nil {
		p = hclparse.NewParser()
	}
	t := &Template{
		reader:          files,
		Dir:             dir,
		RequiredPlugins: map[string]Plugin{},
		Variables:       map[string]Variable{},
	}
	var diags hcl.Diagnostics

	var err error
	t.files, t.autoVarFiles, err = ListFiles(files, dir)
	if err != nil {
		return t, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read template directory",
			Detail:   fmt.Sprintf("%s. Check the template path given for this image.", err),
		})
	}
	if len(t.files) == 0 {
		return t, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No packer template files",
			Detail: fmt.Sprintf("%s holds no *%s or *%s file. Point the image at the directory that holds its packer template.",
				dir, HCLSuffix, JSONSuffix),
		})
	}

	d := &decoder{t: t, sources: map[string]Source{}}
	parsedAll := true
	for _, path := range t.files {
		f, fileDiags := parseFile(p, files, path)
		diags = append(diags, fileDiags...)
		if fileDiags.HasErrors() || f == nil || f.Body == nil {
			parsedAll = false
			continue
		}
		t.parsed = append(t.parsed, f)
		diags = append(diags, d.decodeFile(f)...)
	}
	if parsedAll {
		diags = append(diags, d.checkBuildReferences()...)
	}
	t.index()
	return t, diags
}

// ListFiles returns the files packer loads from the template directory
// dir: its *.pkr.hcl and *.pkr.json files, and its *.auto.pkrvars files,
// each sorted, as dir joined with the name.
func ListFiles(files Files, dir string) (packer, auto []string, err error) {
	entries, err := files.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		isTemplate := strings.HasSuffix(name, HCLSuffix) || strings.HasSuffix(name, JSONSuffix)
		isAutoVars := strings.HasSuffix(name, AutoVarsHCLSuffix) || strings.HasSuffix(name, AutoVarsJSONSuffix)
		if !isTemplate && !isAutoVars {
			continue
		}
		path := joinPath(dir, name)
		if isDirEntry(files, path, e) {
			continue
		}
		if isTemplate {
			packer = append(packer, path)
		} else {
			auto = append(auto, path)
		}
	}
	sort.Strings(packer)
	sort.Strings(auto)
	return packer, auto, nil
}

// parseFile reads and parses one packer file; a file that cannot be read is
// an error diagnostic naming it, never its content.
func parseFile(p *hclparse.Parser, files Files, path string) (*hcl.File, hcl.Diagnostics) {
	if f := p.Files()[path]; f != nil {
		return f, nil
	}
	src, err := files.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read template file",
			Detail:   fmt.Sprintf("%s: %v.", path, unwrapPathError(err)),
		}}
	}
	// Refuse what would exhaust the parser's stack or memory before it
	// sees it.
	syntax := hclguard.Native
	if strings.HasSuffix(path, JSONSuffix) {
		syntax = hclguard.JSON
	}
	if diags := hclguard.Check(src, path, syntax); diags.HasErrors() {
		return nil, diags
	}
	if syntax == hclguard.JSON {
		return p.ParseJSON(src, path)
	}
	return p.ParseHCL(src, path)
}

// joinPath joins a directory and a name with a slash, the separator both
// workspace paths and (on Unix) local paths use.
func joinPath(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return strings.TrimSuffix(dir, "/") + "/" + name
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// isDirEntry reports whether e (found at path) is a directory, following a
// symbolic link.
func isDirEntry(files Files, path string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	info, err := files.Stat(path)
	return err == nil && info.IsDir()
}

// Files returns the paths of the template's packer files (Dir joined with
// each name), sorted.
func (t *Template) Files() []string {
	return slices.Clone(t.files)
}

// AutoVarFiles returns the *.auto.pkrvars.hcl and *.auto.pkrvars.json files
// in the template directory, sorted. Packer loads them by itself, before any
// -var-file, so their values count as set; Load does not parse them.
func (t *Template) AutoVarFiles() []string {
	return slices.Clone(t.autoVarFiles)
}

// CommandFiles returns the files one build reads: the template's packer
// files, then varFiles in the order given (the layer order, later files
// overriding earlier ones). A nil template contributes no files.
func CommandFiles(template *Template, varFiles []string) []string {
	var out []string
	if template != nil {
		out = append(out, template.files...)
	}
	return append(out, varFiles...)
}

// BuildSources returns every source use some build block makes, once per
// packer build name, in declaration order. A source block no build uses
// cannot be built, so it is not here.
func (t *Template) BuildSources() []SourceRef {
	var out []SourceRef
	seen := map[string]bool{}
	for _, b := range t.Builds {
		for _, ref := range b.Sources {
			name := ref.PackerName()
			if seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, ref)
		}
	}
	return out
}

// FindBuild returns the build source that packer would select with
// -only=address: the first whose PackerName is address, else the first that
// uses the source block address ("<type>.<name>" or "source.<type>.<name>").
func (t *Template) FindBuild(address string) (SourceRef, bool) {
	refs := t.BuildSources()
	for _, ref := range refs {
		if ref.PackerName() == address {
			return ref, true
		}
	}
	typ, name, ok := splitSourceAddress(address)
	if !ok {
		return SourceRef{}, false
	}
	for _, ref := range refs {
		if ref.Type == typ && ref.Name == name {
			return ref, true
		}
	}
	return SourceRef{}, false
}

// Source returns the source block with the given address ("<type>.<name>"
// or "source.<type>.<name>").
func (t *Template) Source(address string) (Source, bool) {
	typ, name, ok := splitSourceAddress(address)
	if !ok {
		return Source{}, false
	}
	for _, s := range t.Sources {
		if s.Type == typ && s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// decoder carries the state of one Load across files.
type decoder struct {
	t       *Template
	sources map[string]Source // by Address
}

// fileSchema names the top-level blocks hybrid reads; everything else packer
// allows (locals, local, data, communicator...) is left in the remainder.
var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "packer"},
		{Type: "source", LabelNames: []string{"type", "name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "variables"},
		{Type: "build"},
	},
}

func (d *decoder) decodeFile(f *hcl.File) hcl.Diagnostics {
	content, _, diags := f.Body.PartialContent(fileSchema)
	for _, block := range content.Blocks {
		switch block.Type {
		case "packer":
			diags = append(diags, d.decodePackerBlock(block)...)
		case "source":
			diags = append(diags, d.decodeSource(block)...)
		case "variable":
			diags = append(diags, d.decodeVariableBlock(block)...)
		case "variables":
			diags = append(diags, d.decodeVariablesBlock(block)...)
		case "build":
			diags = append(diags, d.decodeBuild(block)...)
		}
	}
	return diags
}

// sortedAttributes returns attrs ordered by position in the file, so
// diagnostics come out in a stable order.
func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Range, out[j].Range
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Start.Byte != b.Start.Byte {
			return a.Start.Byte < b.Start.Byte
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// position formats a range's start as file:line for diagnostic details.
func position(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}
