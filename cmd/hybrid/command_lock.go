package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
	Names   []string
	NoColor bool
	Inputs  config.Inputs
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

  Templates inside sources that are not checked out yet are read after
  "hybrid init" or "hybrid sources sync"; run hybrid lock again then to pin
  the plugins they require.

Options:
  -upgrade             Move pins to the newest commits and versions.
  -no-color            Do not colour the output.
  -var 'NAME=VALUE'    Set a variable; may be repeated.
  -var-file=FILE       Set variables from a file; may be repeated.
`)
}

func parseLockArgs(args []string) (*lockArgs, hcl.Diagnostics) {
	a := &lockArgs{}
	fs := newFlagSet("lock")
	fs.BoolVar(&a.Upgrade, "upgrade", false, "")
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
	up := lock.Upgrade{All: a.Upgrade && len(a.Names) == 0, Names: a.Names}
	next, pinned, d := relock(ctx, ws, a.Inputs, old, up)
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

// relock computes the lockfile hybrid lock writes for the workspace. It
// first pins the sources (resolving refs with git ls-remote where a pin is
// made or moved) and fetches every pinned commit into the local object
// store, which also proves that each pinned commit exists; then it reads
// the workspace again at those commits, so templates inside the sources
// count with what they hold at the new pins, never with an old checkout.
// With the templates read, it finds packer and its version, checks every
// template's required_version against it, lists the installed plugins and
// hands all of it to lock.Update. It returns the workspace as read at the
// new pins (ws itself when there are no sources); the caller closes it.
func relock(ctx context.Context, ws *plan.Workspace, in config.Inputs, old *lock.File, up lock.Upgrade) (*lock.File, *plan.Workspace, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	req := ws.LockRequirements()
	var resolve func(name, url, ref string) (string, error)
	if len(req.Sources) > 0 {
		g, err := sources.NewGit()
		if err != nil {
			return nil, ws, append(diags, errDiag("git not found", err, "Install git: hybrid uses it to resolve and check out sources")...)
		}
		pins, d := lock.UpdateSources(old, req.Sources, func(name, url, ref string) (string, error) {
			r, err := g.Resolve(ctx, url, ref)
			return r.Commit, err
		}, up)
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
	needPacker := old == nil || old.Packer == nil || up.All

	bin, found, err := installedPacker(ctx)
	if err != nil && needPacker {
		return nil, ws, errDiag("Cannot find the packer version", err,
			"Install packer (hybrid is tested with 1.9.4) or set HYBRID_PACKER to its path, then run hybrid lock again")
	}
	if found != "" {
		diags = append(diags, checkRequiredVersions(ws, found)...)
		if diags.HasErrors() {
			return nil, ws, diags
		}
	}

	lin := lock.Inputs{PackerVersion: found, Plugins: map[string][]lock.InstalledPlugin{}, ResolveSource: resolve}
	if len(req.Plugins) > 0 {
		dirs := lock.PluginDirs(bin, ws.Config.Dir)
		for _, p := range req.Plugins {
			installed, err := lock.FindPlugins(dirs, p.Source)
			if err != nil {
				diags = append(diags, errDiag(fmt.Sprintf("Cannot list the installed versions of plugin %s", p.Source), err,
					"Check the plugin directories packer uses (PACKER_PLUGIN_PATH), then run hybrid lock again")...)
				continue
			}
			lin.Plugins[p.Source] = installed
		}
		if diags.HasErrors() {
			return nil, ws, diags
		}
	}
	next, d := lock.Update(old, req, lin, up)
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
