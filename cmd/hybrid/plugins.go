package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
)

// pluginNeed is a pinned plugin that something is about to use, with the
// directories packer searches for it.
type pluginNeed struct {
	Source string
	Dirs   []string
	// Required makes a plugin that is not installed (or that packer cannot
	// use) an error: a build that needs it will run. Otherwise it is a
	// warning. A binary whose hash the lockfile does not pin is always an
	// error.
	Required bool
}

// planPluginNeeds returns the plugins the builds of a plan need: the
// required_plugins of their templates, each searched for where packer
// looks when it runs in the build's working directory. Every build in the
// plan counts, no-ops too, so that plan and apply agree on a binary that
// does not match the lockfile. When forApply, the builds apply will run
// (create, update) make their plugins required; a plan runs nothing, so a
// plugin it finds missing is a warning. It needs the packer binary's path
// only when some template requires a plugin, and does without it when
// packer is not found (the plugins beside packer then go unseen).
func planPluginNeeds(ws *plan.Workspace, p *plan.Plan, forApply bool) []pluginNeed {
	builds := map[string]*plan.Build{}
	for _, b := range ws.Builds {
		builds[b.Address()] = b
	}
	type need struct {
		dirs     []string
		required bool
	}
	needs := map[string]*need{}
	bin, searched := "", false
	for _, c := range p.Changes {
		b := builds[c.Address]
		if c.Type != plan.TypeBuild || c.Action == plan.Delete || b == nil || len(b.Template.RequiredPlugins) == 0 {
			continue
		}
		if !searched {
			bin, _ = findPacker()
			searched = true
		}
		dirs := lock.PluginDirs(bin, filepath.Join(ws.Config.Dir, filepath.FromSlash(b.Image.WorkingDir)))
		for _, rp := range b.Template.RequiredPlugins {
			n := needs[rp.Source]
			if n == nil {
				n = &need{}
				needs[rp.Source] = n
			}
			for _, d := range dirs {
				if !slices.Contains(n.dirs, d) {
					n.dirs = append(n.dirs, d)
				}
			}
			n.required = n.required || (forApply && (c.Action == plan.Create || c.Action == plan.Update))
		}
	}
	out := make([]pluginNeed, 0, len(needs))
	for src, n := range needs {
		out = append(out, pluginNeed{Source: src, Dirs: n.dirs, Required: n.required})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// lockedPluginNeeds returns every plugin the lockfile pins, searched for
// where packer looks when it runs in the workspace root: what init and
// sources sync check.
func lockedPluginNeeds(ws *plan.Workspace, lf *lock.File) []pluginNeed {
	if len(lf.Plugins) == 0 {
		return nil
	}
	bin, _ := findPacker()
	dirs := lock.PluginDirs(bin, ws.Config.Dir)
	var out []pluginNeed
	for src := range lf.Plugins {
		out = append(out, pluginNeed{Source: src, Dirs: dirs, Required: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// checkPluginBinaries checks the installed binaries of each needed plugin
// against its pin in the lockfile, as packer would pick them: the binaries
// of the pinned version for this platform, against the hashes pinned for
// this platform. Each plugin with a problem gives one diagnostic that names
// it, says what is wrong and what to do: a binary whose hash the lockfile
// does not pin (replaced, or tampered with) is an error that gives the
// expected and the found hashes; a lockfile with hashes for other
// platforms only is an error that says which; a
// pinned version that is not installed, or that packer cannot use, is an
// error when the plugin is required and a warning otherwise. Plugins the
// lockfile does not pin are left to the lockfile's own check.
func checkPluginBinaries(lf *lock.File, needs []pluginNeed) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range needs {
		pin := lf.Plugins[n.Source]
		if pin == nil {
			continue
		}
		if d := checkPluginBinary(pin, n); d != nil {
			diags = append(diags, d)
		}
	}
	return diags
}

func checkPluginBinary(pin *lock.Plugin, n pluginNeed) *hcl.Diagnostic {
	lockfile := lock.DefaultFilename
	subject := pin.DeclRange.Ptr()
	if pin.DeclRange.Filename == "" {
		subject = nil
	}
	pinned, err := version.NewVersion(pin.Version)
	if err != nil {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid version of plugin %s in %s", n.Source, lockfile),
			Detail:   fmt.Sprintf("%s pins plugin %s to %q, which is not a version. Run \"hybrid lock -upgrade %s\" to pin it again.", lockfile, n.Source, pin.Version, n.Source),
			Subject:  subject,
		}
	}
	all, err := lock.FindPlugins(n.Dirs, n.Source)
	if err != nil {
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Cannot list the installed binaries of plugin %s", n.Source),
			Detail:   fmt.Sprintf("%s. Check the plugin directories packer uses (PACKER_PLUGIN_PATH), then run the command again.", trimDot(err.Error())),
		}
	}
	platform := lock.CurrentPlatform()
	accepted := pin.HashesFor(platform)
	var foreign, usable, unusable []lock.InstalledPlugin
	for _, ip := range all {
		v, err := version.NewVersion(ip.Version)
		if err != nil || !v.Equal(pinned) {
			continue
		}
		switch {
		case !slices.Contains(accepted, ip.Hash):
			foreign = append(foreign, ip)
		case ip.Unusable != "":
			unusable = append(unusable, ip)
		default:
			usable = append(usable, ip)
		}
	}
	name := fmt.Sprintf("%s v%s", n.Source, pin.Version)
	install := fmt.Sprintf("packer plugins install %s v%s", n.Source, pin.Version)
	switch {
	case len(foreign) > 0 && len(accepted) == 0:
		pinned := "no hash at all"
		if others := pin.Platforms(); len(others) > 0 {
			pinned = "hashes for " + strings.Join(others, ", ") + " only"
		}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("%s has no hash of plugin %s for %s", lockfile, n.Source, platform),
			Detail: fmt.Sprintf("%s pins plugin %s with %s, so the binary installed here cannot be checked:\n%s\n\n"+
				"If it is the binary you mean to run, record its hash with \"hybrid lock -platform=%s\" (add a -platform for each platform you build on), and review the change to %s before you commit it.",
				lockfile, name, pinned, foundBinaries(foreign), platform, lockfile),
			Subject: subject,
		}
	case len(foreign) > 0:
		expected := "the hash " + accepted[0]
		if len(accepted) > 1 {
			expected = "one of the hashes " + strings.Join(accepted, ", ")
		}
		if len(pin.Hashes[platform]) > 0 {
			expected += " for " + platform
		}
		binaries := "The installed binary"
		if len(foreign) > 1 {
			binaries = "The installed binaries"
		}
		var paths []string
		for _, ip := range foreign {
			paths = append(paths, ip.Path)
		}
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Plugin %s does not match %s", n.Source, lockfile),
			Detail: fmt.Sprintf("%s of plugin %s changed since \"hybrid lock\" pinned it:\n%s\nbut %s pins %s.\n\n"+
				"If you did not mean to change it, reinstall the locked version: delete %s and run \"%s\" (or \"packer init\" on the template). "+
				"If the new binary is intended, pin its hash with \"hybrid lock -upgrade %s\".",
				binaries, name, foundBinaries(foreign), lockfile, expected,
				strings.Join(paths, ", "), install, n.Source),
			Subject: subject,
		}
	case len(usable) > 0:
		return nil
	}
	sev, then := hcl.DiagWarning, "Builds that need it will fail until it is."
	if n.Required {
		sev, then = hcl.DiagError, "Builds that need it cannot run without it."
	}
	if len(unusable) > 0 {
		var why []string
		for _, ip := range unusable {
			why = append(why, fmt.Sprintf("%s: %s", ip.Path, ip.Unusable))
		}
		return &hcl.Diagnostic{
			Severity: sev,
			Summary:  fmt.Sprintf("Packer cannot use plugin %s", name),
			Detail: fmt.Sprintf("The binary of plugin %s matches %s, but packer would not run it (%s). Reinstall it with \"%s\". %s",
				name, lockfile, strings.Join(why, "; "), install, then),
			Subject: subject,
		}
	}
	return &hcl.Diagnostic{
		Severity: sev,
		Summary:  fmt.Sprintf("Plugin %s is not installed", name),
		Detail: fmt.Sprintf("%s pins plugin %s, but packer finds no binary of that version in %s. Install it with \"%s\" (or \"packer init\" on the template), or run \"hybrid lock -upgrade %s\" to pin an installed version. %s",
			lockfile, name, strings.Join(n.Dirs, string(os.PathListSeparator)), install, n.Source, then),
		Subject: subject,
	}
}

// foundBinaries lists binaries with their hashes, one per two lines, for a
// diagnostic's detail.
func foundBinaries(ps []lock.InstalledPlugin) string {
	lines := make([]string, len(ps))
	for i, ip := range ps {
		lines[i] = fmt.Sprintf("  %s\n    has %s", ip.Path, ip.Hash)
	}
	return strings.Join(lines, "\n")
}
