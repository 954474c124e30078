package plan

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/packer"
)

// PackerDiagnostics turns what packer printed about one build (the
// Error: and Warning: blocks of packer validate) into diagnostics at the
// user's own files, never at the files hybrid made for packer:
//
//   - a location in the build's rendered var file, which packer was given
//     as varFile, becomes where the variable on that line got its value:
//     the var file of a source, var_group, environment or image that set
//     it last, at that line;
//   - a location in a template becomes that template file and line,
//     workspace-relative, with the file added to ws.Parser for its
//     snippet;
//   - no location, or one hybrid cannot place, becomes the image.
//
// workDir is the directory packer ran in, against which packer's relative
// paths are resolved. Paths inside the workspace in the text are made
// workspace-relative and varFile is named as the var file apply renders,
// so the same problem found for several builds reads the same.
func (ws *Workspace) PackerDiagnostics(b *Build, varFile, workDir string, found []packer.Diagnostic) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, pd := range found {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: pd.Summary, Detail: pd.Detail}
		if pd.Severity == packer.SeverityWarning {
			d.Severity = hcl.DiagWarning
		}
		file := pd.File
		if file != "" && !filepath.IsAbs(file) {
			file = filepath.Join(workDir, file)
		}
		// A location that starts the detail is the subject's now.
		if file != "" && strings.HasPrefix(d.Detail, pd.File+":") {
			if m := quotedRange.FindString(d.Detail[len(pd.File):]); m != "" {
				d.Detail = d.Detail[len(pd.File)+len(m):]
			}
		}
		switch {
		case file == "":
		case file == varFile:
			name := renderedVariableAt(b.Render.Bytes, pd.Line)
			origin := b.Render.Origins[name]
			if name != "" && origin != "" {
				if rng := originRange(b.Render, name); rng.Filename != "" {
					d.Subject = rng.Ptr()
				}
				d.Detail = appendSentence(d.Detail, fmt.Sprintf("The value of %s comes from %s.", name, origin))
			}
		default:
			if rel, ok := ws.relative(file); ok {
				if src := ws.parsedFile(rel); src != nil {
					d.Subject = lineRange(rel, src, pd.Line, pd.Column, pd.EndColumn).Ptr()
				} else {
					d.Detail = appendSentence(d.Detail, fmt.Sprintf("(at %s line %d)", rel, pd.Line))
				}
			} else {
				d.Detail = appendSentence(d.Detail, fmt.Sprintf("(at %s line %d)", file, pd.Line))
			}
		}
		if d.Subject == nil {
			d.Subject = b.Image.NameRange.Ptr()
		}
		d.Summary = ws.relativeText(d.Summary, varFile, b.Render.Path)
		d.Detail = ws.relativeText(d.Detail, varFile, b.Render.Path)
		diags = append(diags, d)
	}
	return diags
}

// quotedRange is the ":LINE,COL-COL: " after the file name of a
// diagnostic packer quotes at the start of a detail.
var quotedRange = regexp.MustCompile(`^:\d+,\d+-(?:\d+,)?\d+:\s+`)

// relative is file, an absolute path, relative to the workspace, when it
// is inside it.
func (ws *Workspace) relative(file string) (string, bool) {
	rel, err := filepath.Rel(ws.Config.Dir, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// relativeText writes the paths of text inside the workspace relative to
// it, and the temporary var file as the one apply renders.
func (ws *Workspace) relativeText(text, varFile, renderPath string) string {
	text = strings.ReplaceAll(text, varFile, renderPath)
	return strings.ReplaceAll(text, ws.Config.Dir+string(filepath.Separator), "")
}

// parsedFile returns the bytes of the workspace file rel, adding it to
// ws.Parser when it is not there yet (a template restored from the plan
// cache was not parsed), or nil when it cannot be read.
func (ws *Workspace) parsedFile(rel string) []byte {
	if f := ws.Parser.Files()[rel]; f != nil {
		return f.Bytes
	}
	if ws.Files == nil {
		return nil
	}
	src, err := ws.Files.ReadFile(rel)
	if err != nil {
		return nil
	}
	// The file is only kept for its snippet: a syntax error is packer's
	// to report.
	if strings.HasSuffix(rel, ".json") {
		ws.Parser.ParseJSON(src, rel)
	} else {
		ws.Parser.ParseHCL(src, rel)
	}
	return src
}

// renderedVariableAt names the variable whose attribute in a rendered var
// file covers line, or "".
func renderedVariableAt(src []byte, line int) string {
	f, diags := hclsyntax.ParseConfig(src, "", hcl.InitialPos)
	if diags.HasErrors() {
		return ""
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return ""
	}
	for name, a := range body.Attributes {
		if r := a.SrcRange; r.Start.Line <= line && line <= r.End.Line {
			return name
		}
	}
	return ""
}

// lineRange is the range of line in src: from column col to endCol when
// both are known, else the line without its indentation.
func lineRange(filename string, src []byte, line, col, endCol int) hcl.Range {
	start := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[start:], '\n')
		if i < 0 {
			pos := hcl.Pos{Line: line, Column: 1, Byte: len(src)}
			return hcl.Range{Filename: filename, Start: pos, End: pos}
		}
		start += i + 1
	}
	end := len(src)
	if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
		end = start + i
	}
	text := src[start:end]
	if col > 0 && endCol >= col && endCol-1 <= len(text) {
		return hcl.Range{
			Filename: filename,
			Start:    hcl.Pos{Line: line, Column: col, Byte: start + col - 1},
			End:      hcl.Pos{Line: line, Column: endCol, Byte: start + endCol - 1},
		}
	}
	indent := len(text) - len(bytes.TrimLeft(text, " \t"))
	body := bytes.TrimRight(text, " \t\r")
	return hcl.Range{
		Filename: filename,
		Start:    hcl.Pos{Line: line, Column: indent + 1, Byte: start + indent},
		End:      hcl.Pos{Line: line, Column: len(body) + 1, Byte: start + len(body)},
	}
}

func appendSentence(text, sentence string) string {
	if text == "" {
		return sentence
	}
	return text + "\n\n" + sentence
}

// BuildFinding is one distinct problem and the builds it was found for.
type BuildFinding struct {
	Diag   *hcl.Diagnostic
	Builds []string
}

// BuildFindings gathers the diagnostics found build by build (packer
// validate runs once per build) and gives each distinct one once, with
// every build it was found for: a mistake in a template shared by ten
// builds is one finding, not ten.
type BuildFindings struct {
	order []string
	byKey map[string]*BuildFinding
}

// Add records diags as found for the build at address addr.
func (f *BuildFindings) Add(addr string, diags hcl.Diagnostics) {
	if f.byKey == nil {
		f.byKey = map[string]*BuildFinding{}
	}
	for _, d := range diags {
		k := config.DiagKey(d)
		bf, ok := f.byKey[k]
		if !ok {
			bf = &BuildFinding{Diag: d}
			f.byKey[k] = bf
			f.order = append(f.order, k)
		}
		if !slices.Contains(bf.Builds, addr) {
			bf.Builds = append(bf.Builds, addr)
		}
	}
}

// List returns the findings in the order first found, each with its
// builds sorted.
func (f *BuildFindings) List() []*BuildFinding {
	out := make([]*BuildFinding, 0, len(f.order))
	for _, k := range f.order {
		bf := f.byKey[k]
		slices.Sort(bf.Builds)
		out = append(out, bf)
	}
	return out
}
