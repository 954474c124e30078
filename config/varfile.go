package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/hybridcore/hybrid/internal/hclguard"
)

// VarFile is a parsed packer var file (*.pkrvars.hcl, *.pkrvars.hcl.example,
// *.pkrvars.json): literal values by variable name.
type VarFile struct {
	Path   string // as written in hybrid.hcl (workspace-relative) or on the command line
	Values map[string]cty.Value
	Ranges map[string]hcl.Range
}

// readVarFile parses a var file once and caches it. Workspace files must stay
// inside the workspace; a -var-file from the command line (external) may be
// anywhere the user points.
func (c *Config) readVarFile(path string, external bool) (*VarFile, hcl.Diagnostics) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if vf, ok := c.varFiles[path]; ok {
		return vf, nil
	}
	var abs string
	if external {
		abs = path
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(c.Dir, path)
		}
	} else {
		var err error
		abs, err = resolveInRoot(c.Dir, path)
		if err != nil && !os.IsNotExist(err) {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Var file outside the workspace",
				Detail:   fmt.Sprintf("Cannot read var file %s: %v.", path, err),
			}}
		}
	}
	var src []byte
	var err error
	if c.files != nil && !external {
		src, err = c.files.ReadFile(path)
	} else {
		src, err = hclguard.ReadFile(abs)
	}
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read var file",
			Detail:   fmt.Sprintf("Cannot read var file %s: %v. Check the path, which is relative to the directory holding hybrid.hcl.", path, unwrapPathError(err)),
		}}
	}
	vf, diags := parseVarFile(c.parser, src, path)
	if vf != nil {
		c.varFiles[path] = vf
	}
	return vf, diags
}

// parseVarFile decodes var-file bytes. Var files hold literal values only, as
// packer requires. A file of plain name = literal lines, the usual shape, is
// decoded without the HCL parser, in time and memory linear in its size;
// any other is checked (hclguard.Check) before the parser sees it.
func parseVarFile(p *hclparse.Parser, src []byte, name string) (*VarFile, hcl.Diagnostics) {
	if lits, ok := hclguard.ParseLiterals(src, name); ok {
		p.AddFile(name, lits.File)
		return &VarFile{Path: name, Values: lits.Values, Ranges: lits.Ranges}, nil
	}
	syntax := hclguard.Native
	if strings.HasSuffix(name, ".json") {
		syntax = hclguard.JSON
	}
	if diags := hclguard.Check(src, name, syntax); diags.HasErrors() {
		return nil, diags
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if syntax == hclguard.JSON {
		f, diags = p.ParseJSON(src, name)
	} else {
		f, diags = p.ParseHCL(src, name)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	attrs, d := f.Body.JustAttributes()
	diags = append(diags, d...)
	vf := &VarFile{Path: name, Values: map[string]cty.Value{}, Ranges: map[string]hcl.Range{}}
	for name, attr := range attrs {
		v, d := attr.Expr.Value(nil)
		if d.HasErrors() {
			for _, diag := range d {
				diag.Detail = strings.TrimSpace(diag.Detail + " Var files hold literal values only; compute values in hybrid.hcl instead.")
			}
			diags = append(diags, d...)
			continue
		}
		vf.Values[name] = v
		vf.Ranges[name] = attr.Range
	}
	return vf, diags
}
