package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/packer"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/sources"
)

// lockCommand writes hybrid.lock.hcl.
type lockCommand struct{ s streams }

type lockArgs struct {
	Upgrade bool
	// Names restricts -upgrade to these sources and plugin addresses.
	Names []string
	// Platforms are the platforms whose plugin hashes are recorded
	// (-platform), in the order given, without duplicates.
	Platforms []string
	// PluginDirs are local plugin mirrors (-plugin-dir) where the binaries
	// of other platforms are found.
	PluginDirs []string
	NoColor    bool
	Inputs     config.Inputs
}

func (c *lockCommand) Synopsis() string {
	return "Pin packer, plugins and source commits in hybrid.lock.hcl"
}

func (c *lockCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid lock [options] [SOURCE|PLUGIN...]

  Writes hybrid.lock.hcl, which pins the packer version (read from
  "packer version"), each plugin the templates require (its version and the
  hashes of the installed binaries) and each git source (the commit its ref
  resolves to, with git ls-remote). Commit the lockfile: every machine that
  runs "hybrid init" then gets the same packer, plugins and commits.

  Without -upgrade, existing pins stay as they are: only new sources and
  plugins are pinned, and sources whose url or ref changed are resolved
  again. With -upgrade, every pin moves to the newest commit of its ref and
  the newest installed version within its constraint; with names after
  -upgrade, only those sources (by name) and plugins (by address) move.

  Templates inside sources are read at the commits being pinned, from
  the local object store, so the plugins they require are pinned too.

  Packer is needed only to pin its own version: when hybrid.lock.hcl has
  no packer pin yet, or with -upgrade and no names. Otherwise a missing
  packer is noted and its pin kept, so a change of sources alone locks on
  a machine without packer.

  Plugin hashes are recorded by platform (linux_amd64, darwin_arm64, ...).
  By default a new pin gets the hash of the binary installed for this
  platform. -platform records the hashes of other platforms too, for a
  team or CI that runs on several: this platform's from its installed
  binary, every platform's from -plugin-dir, a directory holding the
  plugin's release zips (packer-plugin-NAME_vX.Y.Z_x5.0_OS_ARCH.zip with
  packer-plugin-NAME_vX.Y.Z_SHA256SUMS, as published on its releases
  page) or binaries laid out as packer installs them. No plugin is
  downloaded; a platform whose binary cannot be found is an error that
  says what to put where. With -platform, existing pins gain the
  platforms they lack and keep the hashes they have.

Options:
  -upgrade             Move pins to the newest commits and versions.
  -platform=OS_ARCH    Record plugin hashes for this platform; may be
                       repeated. Default: this platform, for new pins.
  -plugin-dir=DIR      Also look for plugin binaries and release zips of
                       any platform in DIR; may be repeated.
  -no-color            Do not colour the output.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
`)
}

func parseLockArgs(args []string) (*lockArgs, hcl.Diagnostics) {
	a := &lockArgs{}
	fs := newFlagSet("lock")
	fs.BoolVar(&a.Upgrade, "upgrade", false, "")
	fs.Var((*platformsFlag)(&a.Platforms), "platform", "")
	fs.Var((*stringsFlag)(&a.PluginDirs), "plugin-dir", "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	varFlags(fs, &a.Inputs)
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("lock", err)
	}
	names, err := nameArgs(fs.Args())
	if err != nil {
		return nil, flagError("lock", err)
	}
	if len(names) > 0 && !a.Upgrade {
		return nil, flagError("lock", fmt.Errorf("naming %s needs -upgrade (hybrid lock -upgrade %s); without it, existing pins stay", names[0], strings.Join(names, " ")))
	}
	a.Names = names
	return a, nil
}

// platformsFlag collects -platform values: each a platform OS_ARCH, kept
// once.
type platformsFlag []string

func (f *platformsFlag) String() string { return strings.Join(*f, ",") }
func (f *platformsFlag) Set(s string) error {
	if err := lock.CheckPlatform(s); err != nil {
		return err
	}
	if !slices.Contains(*f, s) {
		*f = append(*f, s)
	}
	return nil
}

// nameArgs checks the positional arguments that name sources or plugins:
// options come first, and each name is given once.
func nameArgs(args []string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for _, n := range args {
		if strings.HasPrefix(n, "-") {
			// Only after "--": options elsewhere are parsed as options.
			return nil, fmt.Errorf("invalid name %q: no name starts with a dash", n)
		}
		if n == "" {
			return nil, fmt.Errorf("empty name")
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, nil
}

func (c *lockCommand) Run(args []string) int {
	a, diags := parseLockArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ctx, _, stop := signalContext(context.Background(), nil)
	defer stop()
	return c.run(ctx, a, v)
}

func (c *lockCommand) run(ctx context.Context, a *lockArgs, v *view) int {
	ws, diags := plan.LoadWorkspaceWith(".", a.Inputs, plan.LoadOptions{SkipUnsynced: true})
	defer ws.Close()
	if diags.HasErrors() {
		v.diagnostics(ws.Parser.Files(), diags)
		return 1
	}
	slog.Info("lock started", "upgrade", a.Upgrade, "names", a.Names)
	old, _, d := readLockfile(ws)
	diags = append(diags, d...)
	if diags.HasErrors() {
		v.diagnostics(ws.Parser.Files(), diags)
		v.errorf("%s cannot be read; fix it, or delete it and run hybrid lock to pin everything again", lock.DefaultFilename)
		return 1
	}
	opts := relockOptions{
		Upgrade:    lock.Upgrade{All: a.Upgrade && len(a.Names) == 0, Names: a.Names},
		Platforms:  a.Platforms,
		PluginDirs: a.PluginDirs,
		Note:       func(s string) { fmt.Fprintln(c.s.Out, s) },
	}
	next, pinned, d := relock(ctx, ws, a.Inputs, old, opts)
	if pinned != ws {
		defer pinned.Close()
	}
	diags = append(diags, d...)
	v.diagnostics(pinned.Parser.Files(), diags)
	if diags.HasErrors() {
		return 1
	}
	if err := writeLockfile(c.s, ws, old, next); err != nil {
		v.errorf("cannot write %s: %v", lock.DefaultFilename, err)
		return 1
	}
	return 0
}

// writeLockfile writes next over old and says what changed.
func writeLockfile(s streams, ws *plan.Workspace, old, next *lock.File) error {
	path := lockfilePath(ws)
	before, _ := os.ReadFile(path)
	if err := lock.Write(path, next); err != nil {
		return err
	}
	changes := lock.Changes(old, next)
	switch {
	case old == nil || old.Missing:
		fmt.Fprintf(s.Out, "Created %s:\n", lock.DefaultFilename)
	case len(changes) > 0:
		fmt.Fprintf(s.Out, "Updated %s:\n", lock.DefaultFilename)
	case !bytes.Equal(before, next.Bytes()):
		fmt.Fprintf(s.Out, "Rewrote %s in its canonical layout; no pin changed.\n", lock.DefaultFilename)
		return nil
	default:
		fmt.Fprintf(s.Out, "%s is up to date.\n", lock.DefaultFilename)
		return nil
	}
	if len(changes) == 0 {
		fmt.Fprintln(s.Out, "  (nothing to pin)")
	}
	for _, ch := range changes {
		fmt.Fprintf(s.Out, "  %s\n", ch)
	}
	return nil
}

// packerVersionTimeout bounds "packer version".
const packerVersionTimeout = 30 * time.Second

// relockOptions says which pins relock makes or moves, and where it looks
// for plugin binaries.
type relockOptions struct {
	// Upgrade selects the pins that move (hybrid lock -upgrade).
	Upgrade lock.Upgrade
	// AddOnly keeps every existing pin exactly as it is and pins only what
	// the lockfile lacks: what hybrid init does to an existing lockfile.
	AddOnly bool
	// Platforms are the platforms whose plugin hashes are recorded
	// (-platform); none means this platform, for new pins.
	Platforms []string
	// PluginDirs are local plugin mirrors (-plugin-dir).
	PluginDirs []string
	// Note prints a remark for people, such as a packer that was not found
	// and not needed; nil discards it.
	Note func(string)
}

// relock computes the lockfile hybrid lock (and hybrid init) writes for
// the workspace. It first pins the sources (resolving refs with git
// ls-remote where a pin is made or moved) and fetches every pinned commit
// into the local object store, which also proves that each pinned commit
// exists; then it reads the workspace again at those commits, so templates
// inside the sources count with what they hold at the new pins, never with
// an old checkout. With the templates read, it lists the plugin binaries
// (installed ones, and those in -plugin-dir) and, when the packer pin is
// made or moved, finds packer and its version; packer is needed for
// nothing else, and a packer that is missing but not needed is only noted.
// It hands all of it to lock.Update (lock.AddMissing with AddOnly). It
// returns the workspace as read at the new pins (ws itself when there are
// no sources); the caller closes it.
func relock(ctx context.Context, ws *plan.Workspace, in config.Inputs, old *lock.File, opts relockOptions) (*lock.File, *plan.Workspace, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	note := opts.Note
	if note == nil {
		note = func(string) {}
	}
	for _, d := range opts.PluginDirs {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return nil, ws, errDiag("Invalid -plugin-dir", fmt.Errorf("%s is not a directory", d),
				"Give a directory holding plugin release zips or binaries")
		}
	}
	req := ws.LockRequirements()
	var resolve func(name, url, ref string) (string, error)
	if len(req.Sources) > 0 {
		g, err := sources.NewGit()
		if err != nil {
			return nil, ws, append(diags, errDiag("git not found", err, "Install git: hybrid uses it to resolve and check out sources")...)
		}
		gitResolve := func(name, url, ref string) (string, error) {
			r, err := g.Resolve(ctx, url, ref)
			return r.Commit, err
		}
		var pins map[string]*lock.Source
		var d hcl.Diagnostics
		if opts.AddOnly {
			pins, d = lock.AddMissingSources(old, req.Sources, gitResolve)
		} else {
			pins, d = lock.UpdateSources(old, req.Sources, gitResolve, opts.Upgrade)
		}
		diags = append(diags, d...)
		if diags.HasErrors() {
			return nil, ws, diags
		}
		root := filepath.Join(ws.Config.Dir, filepath.FromSlash(ws.Config.Settings.Dirs.Sources))
		commits := map[string]string{}
		for _, name := range sortedNames(pins) {
			pin := pins[name]
			if err := g.Store(root, name).Fetch(ctx, pin.URL, pin.Ref, pin.Commit); err != nil {
				next := fmt.Sprintf("Check that commit %s is on ref %s of %s, or run \"hybrid lock -upgrade %s\" to pin the ref again", shortCommit(pin.Commit), pin.Ref, pin.URL, name)
				if errors.Is(err, sources.ErrRefNotFound) {
					next = "" // the error says what to do
				}
				diags = append(diags, errDiag(fmt.Sprintf("Cannot fetch source %s at %s", name, shortCommit(pin.Commit)), err, next)...)
				continue
			}
			commits[name] = pin.Commit
		}
		if diags.HasErrors() {
			return nil, ws, diags
		}
		next, d := plan.LoadWorkspaceWith(".", in, plan.LoadOptions{Commits: commits, Git: g})
		if d.HasErrors() {
			return nil, next, append(diags, d...)
		}
		ws, req = next, next.LockRequirements()
		resolve = func(name, url, ref string) (string, error) {
			if p := pins[name]; p != nil && p.URL == url && p.Ref == ref {
				return p.Commit, nil
			}
			return "", fmt.Errorf("source %s was not pinned in the first pass", name)
		}
	}

	bin, found, err := installedPacker(ctx)
	switch {
	case err == nil:
		diags = append(diags, checkRequiredVersions(ws, found)...)
		if diags.HasErrors() {
			return nil, ws, diags
		}
	case old == nil || old.Packer == nil:
		return nil, ws, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Packer is needed to pin its version",
			Detail: fmt.Sprintf("%s does not pin packer yet, and its pin is the version of the installed packer, but %s. Once packer is pinned, sources and plugins are pinned without it.",
				lock.DefaultFilename, trimDot(err.Error())),
		}}
	case opts.Upgrade.All && !opts.AddOnly:
		return nil, ws, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Packer is needed to pin its version",
			Detail: fmt.Sprintf("hybrid lock -upgrade moves the packer pin to the version of the installed packer, but %s. To move only sources and plugins, which needs no packer, name them: hybrid lock -upgrade NAME...",
				trimDot(err.Error())),
		}}
	default:
		what := "Packer was not found"
		if bin != "" {
			what = "Packer did not report its version"
		}
		note(fmt.Sprintf("%s (%s); kept the packer pin %s, checked against the constraints of hybrid.hcl and the templates.", what, trimDot(err.Error()), old.Packer.Version))
	}

	lin := lock.Inputs{PackerVersion: found, Plugins: map[string][]lock.InstalledPlugin{}, ResolveSource: resolve, Platforms: opts.Platforms}
	if len(req.Plugins) > 0 {
		dirs := lock.PluginDirs(bin, ws.Config.Dir)
		lin.PluginSearch = "the plugin directories packer uses (" + strings.Join(dirs, string(os.PathListSeparator)) + ")"
		if bin == "" && os.Getenv("PACKER_PLUGIN_PATH") == "" {
			lin.PluginSearch += ", not the directory of packer, which was not found"
		}
		if len(opts.PluginDirs) > 0 {
			lin.PluginSearch += " and -plugin-dir " + strings.Join(opts.PluginDirs, ", ")
		} else {
			lin.PluginSearch += "; no -plugin-dir was given"
		}
		for _, p := range req.Plugins {
			installed, err := lock.FindPlugins(dirs, p.Source)
			if err != nil {
				diags = append(diags, errDiag(fmt.Sprintf("Cannot list the installed versions of plugin %s", p.Source), err,
					"Check the plugin directories packer uses (PACKER_PLUGIN_PATH), then run hybrid lock again")...)
				continue
			}
			mirrored, err := lock.FindMirroredPlugins(opts.PluginDirs, p.Source)
			if err != nil {
				diags = append(diags, errDiag(fmt.Sprintf("Cannot list the binaries of plugin %s in -plugin-dir", p.Source), err, "")...)
				continue
			}
			lin.Plugins[p.Source] = append(installed, mirrored...)
		}
		if diags.HasErrors() {
			return nil, ws, diags
		}
	}
	var next *lock.File
	var d hcl.Diagnostics
	if opts.AddOnly {
		next, d = lock.AddMissing(old, req, lin)
	} else {
		next, d = lock.Update(old, req, lin, opts.Upgrade)
	}
	diags = append(diags, d...)
	return next, ws, diags
}

// installedPacker returns the packer binary hybrid runs and the version it
// reports.
func installedPacker(ctx context.Context) (bin, ver string, err error) {
	bin, err = findPacker()
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(ctx, packerVersionTimeout)
	defer cancel()
	ver, err = packer.Version(ctx, bin)
	if err != nil {
		return bin, "", err
	}
	return bin, ver, nil
}

// checkRequiredVersions checks the packer version found against the
// required_version of every template the workspace has read.
func checkRequiredVersions(ws *plan.Workspace, found string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	dirs := make([]string, 0, len(ws.Templates))
	for dir, t := range ws.Templates {
		if t != nil {
			dirs = append(dirs, dir)
		}
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		for _, c := range ws.Templates[dir].RequiredVersion {
			if err := lock.CheckRequiredVersion(filepath.ToSlash(dir), c.Value, found); err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Packer does not satisfy a template's required_version",
					Detail:   trimDot(err.Error()) + ".",
					Subject:  c.Range.Ptr(),
				})
			}
		}
	}
	return diags
}

// sortedNames returns a map's keys in order.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
