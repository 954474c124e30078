package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/cli"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/state"
)

// stateCommand is the parent of the state subcommands; alone it prints its
// help.
type stateCommand struct{ s streams }

func (c *stateCommand) Synopsis() string { return "Read the state, or replace it" }

func (c *stateCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid state <subcommand> [options] [args]

  Reads the state, hybrid's record of the sources it synced, the var files
  it rendered and the images it built. Only state push changes it.
`)
}

func (c *stateCommand) Run(args []string) int { return cli.RunResultHelp }

// stateListCommand prints every address in the state.
type stateListCommand struct{ s streams }

// stateReadArgs are the options of the state commands that take only
// -no-color (state list, state pull).
type stateReadArgs struct {
	NoColor bool
}

func (c *stateListCommand) Synopsis() string { return "List the addresses in the state" }

func (c *stateListCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid state list [options]

  Prints the address of every entry in the state, one per line, sorted:
  sources (source.NAME), renders (render.ENV.IMAGE) and builds
  (build.ENV.IMAGE). Prints nothing when nothing has been recorded yet.

Options:
  -no-color            Do not colour the output.
`)
}

func parseStateListArgs(args []string) (*stateReadArgs, hcl.Diagnostics) {
	return parseStateReadArgs("state list", args)
}

// parseStateReadArgs parses the options of command name, which takes
// -no-color and no argument.
func parseStateReadArgs(name string, args []string) (*stateReadArgs, hcl.Diagnostics) {
	a := &stateReadArgs{}
	fs := newFlagSet(name)
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError(name, err)
	}
	if fs.NArg() > 0 {
		return nil, flagError(name, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	return a, nil
}

func (c *stateListCommand) Run(args []string) int {
	a, diags := parseStateListArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	st, _, ok := readWorkspaceState(v)
	if !ok {
		return 1
	}
	if st == nil {
		return 0
	}
	for _, addr := range st.Addresses() {
		fmt.Fprintln(c.s.Out, addr)
	}
	return 0
}

// stateShowCommand prints one entry of the state.
type stateShowCommand struct{ s streams }

type stateShowArgs struct {
	Address string
	NoColor bool
}

func (c *stateShowCommand) Synopsis() string { return "Show one entry of the state" }

func (c *stateShowCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid state show [options] ADDRESS

  Prints what the state records for one address, as "hybrid state list"
  prints it: a source's url, ref and commit; a render's file, digests and
  values; a build's status, fingerprint, artifacts and timings.

Options:
  -no-color            Do not colour the output.
`)
}

func parseStateShowArgs(args []string) (*stateShowArgs, hcl.Diagnostics) {
	a := &stateShowArgs{}
	fs := newFlagSet("state show")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("state show", err)
	}
	switch fs.NArg() {
	case 0:
		return nil, flagError("state show", fmt.Errorf("missing ADDRESS: hybrid state show ADDRESS (hybrid state list prints them)"))
	case 1:
	default:
		return nil, flagError("state show", fmt.Errorf("unexpected argument %q: state show takes one address", fs.Arg(1)))
	}
	a.Address = fs.Arg(0)
	return a, nil
}

func (c *stateShowCommand) Run(args []string) int {
	a, diags := parseStateShowArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	st, path, ok := readWorkspaceState(v)
	if !ok {
		return 1
	}
	if st == nil {
		v.errorf("no entry %s: there is no state yet at %s (hybrid init, sources sync and apply record one)", a.Address, path)
		return 1
	}
	entry, found := st.Lookup(a.Address)
	if !found {
		have := st.Addresses()
		list := "it is empty"
		if len(have) > 0 {
			list = "it has " + strings.Join(have, ", ")
		}
		v.errorf("no entry %s in the state; %s", a.Address, list)
		return 1
	}
	v.renderEntry(c.s.Out, a.Address, entry)
	return 0
}

// readWorkspaceState reads the workspace's state, printing any problem. The
// state is nil, and ok true, when there is no state file yet. Reading never
// writes: a state that cannot be read stays as it is.
func readWorkspaceState(v *view) (st *state.State, name string, ok bool) {
	store, files, diags := workspaceState(context.Background())
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return nil, "", false
	}
	if !store.exists() {
		fmt.Fprintf(v.s.Err, "No state at %s: nothing has been synced, rendered or built yet.\n", store.name)
		return nil, store.name, true
	}
	st, err := store.backend.Read(context.Background())
	if err != nil {
		v.diagnostics(nil, errDiag("Cannot read the state", err, ""))
		return nil, store.name, false
	}
	if st.Serial == 0 {
		fmt.Fprintf(v.s.Err, "No state in %s: nothing has been synced, rendered or built yet.\n", store.name)
		return nil, store.name, true
	}
	return st, store.name, true
}

// workspaceState opens the workspace's state backend (see
// workspaceSettings).
func workspaceState(ctx context.Context) (*stateStore, map[string]*hcl.File, hcl.Diagnostics) {
	cfg, files, diags := workspaceSettings()
	if diags.HasErrors() {
		return nil, files, diags
	}
	store, d := openStateStore(ctx, cfg)
	return store, files, append(diags, d...)
}

// workspaceSettings reads hybrid.hcl for its hybrid block, which says where the state is.
// The state commands need only that block, so errors elsewhere in the
// configuration (a variable without a value, a bad image) do not keep them
// from reading the state; errors in the hybrid block itself, or a file that
// does not parse, do.
func workspaceSettings() (*config.Config, map[string]*hcl.File, hcl.Diagnostics) {
	p := hclparse.NewParser()
	cfg, diags := config.Load(p, ".", config.Inputs{Environ: os.Environ()})
	if cfg == nil || cfg.Settings.Dirs.State == "" {
		if !diags.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No state directory",
				Detail: "hybrid.hcl could not be read far enough to find the state directory. Run hybrid validate to see why."})
		}
		return nil, p.Files(), diags
	}
	var fatal hcl.Diagnostics
	blocks := settingsRanges(p.Files()[cfg.Filename])
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		if d.Subject == nil {
			fatal = append(fatal, d)
			continue
		}
		for _, r := range blocks {
			if d.Subject.Filename == r.Filename && d.Subject.Start.Byte >= r.Start.Byte && d.Subject.Start.Byte < r.End.Byte {
				fatal = append(fatal, d)
				break
			}
		}
	}
	return cfg, p.Files(), fatal
}

// settingsRanges returns the ranges of the hybrid blocks in f.
func settingsRanges(f *hcl.File) []hcl.Range {
	if f == nil {
		return nil
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var out []hcl.Range
	for _, b := range body.Blocks {
		if b.Type == "hybrid" {
			out = append(out, b.Range())
		}
	}
	return out
}

// displayPath shows p relative to the working directory when it is inside it.
func displayPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return p
}

// field is one line of an entry: a name and its value, empty values left out.
type field struct{ name, value string }

// renderEntry prints one state entry as aligned "name = value" lines, with
// nested lists and maps indented below, as terraform state show does.
func (v *view) renderEntry(w io.Writer, addr string, entry any) {
	fmt.Fprintf(w, "# %s:\n", addr)
	var fields []field
	var maps []struct {
		name string
		m    map[string]string
	}
	var artifacts []state.Artifact
	addMap := func(name string, m map[string]string) {
		if len(m) > 0 {
			maps = append(maps, struct {
				name string
				m    map[string]string
			}{name, m})
		}
	}
	switch e := entry.(type) {
	case *state.Source:
		fields = []field{{"url", quote(e.URL)}, {"ref", quote(e.Ref)}, {"commit", quote(e.Commit)}, {"synced_at", timeString(e.SyncedAt)}}
	case *state.Render:
		fields = []field{{"env", quote(e.Env)}, {"image", quote(e.Image)}, {"path", quote(e.Path)}, {"digest", quote(e.Digest)},
			{"fingerprint", quote(e.Fingerprint)}, {"rendered_at", timeString(e.RenderedAt)}}
		addMap("values", e.Values)
		addMap("inputs", quoteMap(e.Inputs))
	case *state.Build:
		fields = []field{{"env", quote(e.Env)}, {"image", quote(e.Image)}, {"status", quote(e.Status)}, {"fingerprint", quote(e.Fingerprint)},
			{"started", timeString(e.Started)}, {"finished", timeString(e.Finished)}, {"duration", durationString(e.Duration)},
			{"exit_code", fmt.Sprint(e.ExitCode)}, {"error", quote(e.Error)}, {"log_path", quote(e.LogPath)},
			{"manifest_digest", quote(e.ManifestDigest)}, {"packer_run_uuid", quote(e.PackerRunUUID)}}
		if len(e.RootCauses) > 0 {
			causes := make([]string, len(e.RootCauses))
			for i, c := range e.RootCauses {
				causes[i] = quote(c)
			}
			fields = append(fields, field{"root_causes", "[" + strings.Join(causes, ", ") + "]"})
		}
		addMap("inputs", quoteMap(e.Inputs))
		artifacts = e.Artifacts
	}
	writeFields(w, "    ", fields)
	for _, m := range maps {
		fmt.Fprintf(w, "    %s = {\n", m.name)
		keys := make([]string, 0, len(m.m))
		width := 0
		for k := range m.m {
			keys = append(keys, k)
			width = max(width, len(quoteKey(k)))
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "        %-*s = %s\n", width, quoteKey(k), m.m[k])
		}
		fmt.Fprintf(w, "    }\n")
	}
	for _, a := range artifacts {
		fmt.Fprintf(w, "    artifact {\n")
		writeFields(w, "        ", []field{{"builder_id", quote(a.BuilderID)}, {"id", quote(a.ID)}, {"string", quote(a.String)}})
		if len(a.Files) > 0 {
			fmt.Fprintf(w, "        files = [\n")
			for _, f := range a.Files {
				fmt.Fprintf(w, "            %s,\n", quote(f))
			}
			fmt.Fprintf(w, "        ]\n")
		}
		fmt.Fprintf(w, "    }\n")
	}
}

// writeFields writes the non-empty fields aligned on "=".
func writeFields(w io.Writer, indent string, fields []field) {
	width := 0
	for _, f := range fields {
		if f.value != "" {
			width = max(width, len(f.name))
		}
	}
	for _, f := range fields {
		if f.value != "" {
			fmt.Fprintf(w, "%s%-*s = %s\n", indent, width, f.name, f.value)
		}
	}
}

// quote writes s as an HCL string, or nothing when it is empty.
func quote(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%q", s)
}

// quoteKey writes a map key bare when it is an identifier, else quoted.
func quoteKey(k string) string {
	if hclsyntax.ValidIdentifier(k) {
		return k
	}
	return fmt.Sprintf("%q", k)
}

func quoteMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = quote(v)
	}
	return out
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return quote(t.UTC().Format(time.RFC3339))
}

func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return quote(d.Round(time.Millisecond).String())
}

// renderState prints a summary of the whole state for people.
func (v *view) renderState(w io.Writer, st *state.State) {
	fmt.Fprintf(w, "State serial %d, lineage %s\n", st.Serial, st.Lineage)
	if r := st.LastRun; r != nil {
		fmt.Fprintf(w, "Last written by hybrid %s (%s, %s): %s\n", r.Command, orUnknown(r.Who), r.When.UTC().Format(time.RFC3339), orUnknown(r.Outcome))
	}
	if st.Packer != nil {
		fmt.Fprintf(w, "Packer %s (%s)\n", st.Packer.Version, st.Packer.Path)
	}
	if len(st.Plugins) > 0 {
		fmt.Fprintln(w, "\nPlugins:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, name := range sortedMapKeys(st.Plugins) {
			p := st.Plugins[name]
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, p.Source, p.Version)
		}
		tw.Flush()
	}
	if len(st.Sources) > 0 {
		fmt.Fprintln(w, "\nSources:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, name := range sortedMapKeys(st.Sources) {
			s := st.Sources[name]
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\tsynced %s\n", state.SourceAddr(name), shortCommit(s.Commit), s.Ref, s.URL, whenString(s.SyncedAt))
		}
		tw.Flush()
	}
	if len(st.Renders) > 0 {
		fmt.Fprintln(w, "\nRenders:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, addr := range sortedMapKeys(st.Renders) {
			r := st.Renders[addr]
			fmt.Fprintf(tw, "  %s\t%s\t%s\trendered %s\n", addr, r.Path, shortDigest(r.Digest), whenString(r.RenderedAt))
		}
		tw.Flush()
	}
	if len(st.Builds) > 0 {
		fmt.Fprintln(w, "\nBuilds:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, addr := range sortedMapKeys(st.Builds) {
			b := st.Builds[addr]
			fmt.Fprintf(tw, "  %s\t%s\tfinished %s\t%s\n", addr, b.Status, whenString(b.Finished), plural(len(b.Artifacts), "artifact"))
			for _, a := range b.Artifacts {
				fmt.Fprintf(tw, "      %s\t%s\n", a.BuilderID, strings.Join(a.Files, " "))
			}
			if b.Error != "" {
				fmt.Fprintf(tw, "      error: %s\n", indentLines(b.Error, "        "))
			}
			if len(b.RootCauses) > 0 {
				fmt.Fprintf(tw, "      skipped because %s failed\n", strings.Join(b.RootCauses, ", "))
			}
		}
		tw.Flush()
	}
	if len(st.Sources)+len(st.Renders)+len(st.Builds) == 0 {
		fmt.Fprintln(w, "\nThe state records no sources, renders or builds yet.")
	}
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func whenString(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// shortDigest abbreviates "sha256:<hex>" for tables.
func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	return d
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
