package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hybridcore/hybrid/lock"
)

const lockFilename = lock.DefaultFilename

// writeImages prints the images x environments matrix: its versioned
// JSON document, or for people one aligned table per OS and platform, with
// each build's packer files below its row so long paths do not widen the
// columns. The JSON document carries the run's warnings, if any.
func (v *view) writeImages(w io.Writer, rows []imageRow, images, envs int, asJSON bool, warnings []jsonDiagnostic) error {
	if asJSON {
		doc := map[string]any{"format_version": "1.0", "images": rows}
		if len(warnings) > 0 {
			doc["diagnostics"] = warnings
		}
		return writeJSON(w, doc)
	}
	for start := 0; start < len(rows); {
		end := start
		for end < len(rows) && rows[end].OS == rows[start].OS && rows[end].Platform == rows[start].Platform {
			end++
		}
		if start > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, v.bold(rows[start].OS+" / "+rows[start].Platform))
		var buf strings.Builder
		tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "IMAGE\tENV\tBUILD\tPROVISIONER\tTEMPLATE\tDEPENDS ON")
		for _, r := range rows[start:end] {
			deps := strings.Join(r.DependsOn, ",")
			if deps == "" {
				deps = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Image, r.Environment, r.Build, r.Provisioner, r.Template, deps)
		}
		tw.Flush()
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		fmt.Fprintf(w, "  %s\n", strings.TrimRight(lines[0], " "))
		for i, r := range rows[start:end] {
			fmt.Fprintf(w, "  %s\n", strings.TrimRight(lines[i+1], " "))
			fmt.Fprintf(w, "      files: %s\n", strings.Join(r.Files, " "))
		}
		start = end
	}
	_, err := fmt.Fprintf(w, "\n%s, %s across %s.\n", plural(images, "image"), plural(len(rows), "build"), plural(envs, "environment"))
	return err
}

// writeInputs prints every input of every build: the versioned JSON
// document, or for people one block per build (its template, packer
// build and stack, then one aligned row per input: kind, what, why).
func (v *view) writeInputs(w io.Writer, doc *inputsDoc, asJSON bool) error {
	if asJSON {
		return writeJSON(w, doc)
	}
	untracked := 0
	for i, b := range doc.Builds {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, v.bold(b.Address))
		fmt.Fprintf(w, "  template %s, build %s, working dir %s\n", b.Template, b.Build, b.WorkingDir)
		fmt.Fprintf(w, "  stack %s, %s\n", b.Stack.Name, b.Stack.Note)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, in := range b.Inputs {
			if in.Kind == kindGit || in.Kind == kindUntracked {
				untracked++
			}
			for j, why := range inputLines(in) {
				if j == 0 {
					fmt.Fprintf(tw, "    %s\t%s\t%s\n", in.Kind, inputSubject(in), why)
				} else {
					fmt.Fprintf(tw, "    \t\t%s\n", why)
				}
			}
		}
		tw.Flush()
	}
	fmt.Fprintln(w)
	builds := "builds"
	if len(doc.Builds) == 1 {
		builds = "build"
	}
	if untracked == 0 {
		_, err := fmt.Fprintf(w, "%d %s; hybrid fingerprints every input listed.\n", len(doc.Builds), builds)
		return err
	}
	are := "are"
	if untracked == 1 {
		are = "is"
	}
	_, err := fmt.Fprintf(w, "%d %s; %d of the paths listed %s read but not fingerprinted (git metadata outside a source, paths outside the workspace): a change to them rebuilds nothing.\n",
		len(doc.Builds), builds, untracked, are)
	return err
}

// inputSubject is what an input is, in one column: a path (directories
// end in "/"), or a name and its pinned value.
func inputSubject(in buildInput) string {
	switch {
	case in.Kind == kindPacker:
		return in.Value
	case in.Path != "" && in.Directory:
		return strings.TrimSuffix(in.Path, "/") + "/"
	case in.Path != "":
		return in.Path
	case in.Value != "":
		return in.Name + " " + shortCommit(in.Value)
	case in.Name != "":
		return in.Name
	}
	return "-"
}

// inputLines says why an input is one, a line each: the places that read
// it, or the reason.
func inputLines(in buildInput) []string {
	var lines []string
	switch in.Kind {
	case kindRead, kindGlob, kindTemplateDir, kindInputs:
		for _, r := range in.Reads {
			lines = append(lines, r.String())
		}
	case kindGit:
		for _, r := range in.Reads {
			lines = append(lines, r.String()+"; not inside a source: no commit is an input")
		}
	case kindUntracked:
		for _, r := range in.Reads {
			lines = append(lines, r.String()+"; outside the workspace: not fingerprinted")
		}
	case kindPlugin:
		if !in.Fingerprinted {
			lines = append(lines, in.Reason)
		}
		for _, r := range in.Reads {
			if in.Fingerprinted {
				lines = append(lines, r.String()+"; the version "+lockFilename+" pins")
			} else {
				lines = append(lines, r.String())
			}
		}
	default:
		lines = append(lines, in.Reason)
		for _, r := range in.Reads {
			lines = append(lines, r.String())
		}
	}
	if len(lines) == 0 {
		lines = append(lines, in.Reason)
	}
	return lines
}
