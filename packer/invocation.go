package packer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/hybridcore/hybrid/logs"
)

// Invocation is one packer command for one image: which binary, where it
// runs, which template and builds, and the variables it gets.
type Invocation struct {
	// Bin is the packer binary, normally from Find. A relative path with a
	// directory in it is taken relative to this process's directory, not
	// WorkDir; a bare name is looked up in PATH.
	Bin string
	// WorkDir is packer's working directory (templates read ${path.cwd}).
	WorkDir string
	// Template is the template directory or file, relative to WorkDir or
	// absolute. Empty means WorkDir itself (".").
	Template string
	// Only lists the builds to run, "builder.name" (packer globs allowed).
	Only []string
	// VarFiles are passed as -var-file in this order, so later files
	// override earlier ones (the layer order).
	VarFiles []string
	// Vars are sensitive values by variable name. They reach packer only as
	// PKR_VAR_<name> in its environment and are redacted from the log and
	// the events.
	Vars map[string]string
	// Env holds extra KEY=VALUE environment entries; they come last and so
	// override the rest.
	Env []string
	// Secrets are further strings to redact from the log and the events:
	// every field and element of a sensitive object or list (a build that
	// echoes var.creds.pass).
	Secrets []string
}

// Args returns the command line after the binary for cmd ("build",
// "validate"): the options, the -only and -var-file flags and the template.
// A build gets -machine-readable and -color=false so its output can be
// parsed. Values never become options of their own: -only and -var-file
// values are flag values, and a template that starts with "-" gets "./".
// Vars never appear here.
func (inv *Invocation) Args(cmd string) []string {
	args := []string{cmd}
	if cmd == "build" {
		args = append(args, "-machine-readable", "-color=false")
	}
	for _, o := range inv.Only {
		args = append(args, "-only="+o)
	}
	for _, f := range inv.VarFiles {
		args = append(args, "-var-file="+f)
	}
	return append(args, safePath(inv.Template))
}

// safePath keeps a path from being read as an option.
func safePath(p string) string {
	switch {
	case p == "":
		return "."
	case strings.HasPrefix(p, "-"):
		return "./" + p
	}
	return p
}

// varName is a packer (HCL) variable name.
var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// check reports an Invocation that cannot be run as intended.
func (inv *Invocation) check() error {
	if inv.Bin == "" {
		return errors.New("no packer binary given; find one with packer.Find")
	}
	for _, o := range inv.Only {
		if o == "" || strings.ContainsAny(o, ", \t\n") {
			return fmt.Errorf("invalid -only value %q: give one build as builder.name", o)
		}
	}
	for _, f := range inv.VarFiles {
		if f == "" {
			return errors.New("empty var file path; remove it or name the file")
		}
	}
	for name := range inv.Vars {
		if !varName.MatchString(name) {
			return fmt.Errorf("invalid variable name %q: use letters, digits, '_' and '-'", name)
		}
	}
	for _, kv := range inv.Env {
		if i := strings.IndexByte(kv, '='); i <= 0 {
			return fmt.Errorf("invalid environment entry %q: want KEY=VALUE", kv)
		}
	}
	return nil
}

// bin returns Bin made absolute when it is a relative path, because packer
// starts in WorkDir.
func (inv *Invocation) bin() string {
	if filepath.IsAbs(inv.Bin) || !strings.ContainsRune(inv.Bin, filepath.Separator) && !strings.Contains(inv.Bin, "/") {
		return inv.Bin
	}
	if abs, err := filepath.Abs(inv.Bin); err == nil {
		return abs
	}
	return inv.Bin
}

// environ is packer's environment: this process's, with checkpoint (packer's
// update check) disabled, the Vars as PKR_VAR_<name>, then inv.Env. Later
// entries win.
func (inv *Invocation) environ() []string {
	env := append(os.Environ(), "CHECKPOINT_DISABLE=1")
	names := make([]string, 0, len(inv.Vars))
	for name := range inv.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		env = append(env, "PKR_VAR_"+name+"="+inv.Vars[name])
	}
	return append(env, inv.Env...)
}

// redactor returns a function that replaces the Vars values, and every
// string in Secrets, in a line of output, both as written and as escaped in
// machine-readable fields. A value is replaced only where it stands whole
// (logs.Redactor's rule), so a short secret never mangles other words.
func (inv *Invocation) redactor() func(string) string {
	var secrets []string
	add := func(v string) {
		if v == "" {
			return
		}
		secrets = append(secrets, v)
		if e := escape(v); e != v {
			secrets = append(secrets, e)
		}
	}
	for _, v := range inv.Vars {
		add(v)
	}
	for _, v := range inv.Secrets {
		add(v)
	}
	if len(secrets) == 0 {
		return func(s string) string { return s }
	}
	r := logs.NewRedactor(secrets...)
	return func(s string) string { return r.Replace(s, Redacted) }
}

// Redacted replaces sensitive values in logs and events.
const Redacted = "<sensitive>"

// logCommand logs, at debug level, the packer command inv runs for cmd
// ("build", "validate"): the binary, its arguments and directory, and the
// names of the variables it gets in its environment, never their values.
func (inv *Invocation) logCommand(cmd string) {
	var vars []string
	for name := range inv.Vars {
		vars = append(vars, "PKR_VAR_"+name)
	}
	for _, kv := range inv.Env {
		name, _, _ := strings.Cut(kv, "=")
		vars = append(vars, name)
	}
	sort.Strings(vars)
	logRun(inv.bin(), inv.WorkDir, inv.Args(cmd), vars)
}

// logRun logs, at debug level, a packer command about to run, with the
// names of the environment variables hybrid sets for it.
func logRun(bin, dir string, args, env []string) {
	attrs := []any{"command", bin + " " + strings.Join(args, " ")}
	if dir != "" {
		attrs = append(attrs, "dir", dir)
	}
	if len(env) > 0 {
		attrs = append(attrs, "env", strings.Join(env, " "))
	}
	slog.Debug("running packer", attrs...)
}
