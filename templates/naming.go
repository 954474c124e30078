package templates

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// DefaultFamilies are the OS families a source name may start with when the
// caller names none.
var DefaultFamilies = []string{"linux", "windows", "freebsd", "openbsd", "netbsd", "macos", "solaris", "illumos"}

// RelaxedNaming is the value of an image's `naming` attribute that turns the
// naming convention off for that image's template.
const RelaxedNaming = "relaxed"

// OSFamily returns the first word of a source name, the part before the
// first "-": "linux" for "linux-ubuntu".
func OSFamily(name string) string {
	family, _, _ := strings.Cut(name, "-")
	return family
}

// CheckName checks one source name against the naming convention: lowercase
// words of [a-z0-9] joined by single "-", the first word one of families
// (DefaultFamilies when empty), followed by at least one more word, e.g.
// "linux-ubuntu" or "windows-server-2022-standard-core". The error says what
// is wrong in one line.
func CheckName(name string, families []string) error {
	if len(families) == 0 {
		families = DefaultFamilies
	}
	if name == "" {
		return errors.New("the name is empty")
	}
	for _, word := range strings.Split(name, "-") {
		if word == "" || strings.IndexFunc(word, func(r rune) bool {
			return (r < 'a' || r > 'z') && (r < '0' || r > '9')
		}) >= 0 {
			return fmt.Errorf("%q is not lowercase words of a-z and 0-9 joined by single hyphens", name)
		}
	}
	family, rest, _ := strings.Cut(name, "-")
	if !slices.Contains(families, family) {
		return fmt.Errorf("%q does not start with an OS family and a hyphen (%s)", name, familyList(families))
	}
	if rest == "" {
		return fmt.Errorf("%q is only an OS family; add what it builds, e.g. %q", name, family+"-example")
	}
	return nil
}

// CheckNaming checks the template against the naming convention: every
// source block's name, and every local name a build gives a source, since
// both become addresses packer's -only selects. Each violation is an error
// at the offending label whose detail says how to relax the rule.
func CheckNaming(t *Template, families []string) hcl.Diagnostics {
	if t == nil {
		return nil
	}
	if len(families) == 0 {
		families = DefaultFamilies
	}
	var diags hcl.Diagnostics
	for _, s := range t.Sources {
		if err := CheckName(s.Name, families); err != nil {
			diags = append(diags, namingDiag("Source name breaks the naming convention",
				fmt.Sprintf("source %q %q", s.Type, s.Name), s.Type, s.Name, s.NameRange, families, err))
		}
	}
	for _, b := range t.Builds {
		for _, ref := range b.Sources {
			if ref.LocalName == "" {
				continue
			}
			if err := CheckName(ref.LocalName, families); err != nil {
				diags = append(diags, namingDiag("Build name breaks the naming convention",
					fmt.Sprintf("the build of source.%s named %q", ref.Address(), ref.LocalName), ref.Type, ref.LocalName, ref.Range, families, err))
			}
		}
	}
	return diags
}

func namingDiag(summary, what, typ, name string, rng hcl.Range, families []string, err error) *hcl.Diagnostic {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s: %s.\n\n", what, position(rng), err)
	fmt.Fprintf(&b, "Builders are addressed as source.<builder>.<name>, where <name> is lowercase words joined by \"-\" that starts with its OS family, e.g. source.%s.linux-ubuntu.", typ)
	if s := suggestName(name, families); s != "" {
		fmt.Fprintf(&b, " Renaming it %q (and its uses in build blocks) would follow the convention.", s)
	}
	fmt.Fprintf(&b, "\n\nIf this repository does not follow the convention, set naming = %q in the image block that builds this template.", RelaxedNaming)
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   b.String(),
		Subject:  rng.Ptr(),
	}
}

func familyList(families []string) string {
	out := make([]string, len(families))
	for i, f := range families {
		out[i] = f + "-"
	}
	return strings.Join(out, ", ")
}

// suggestName lowercases name and joins its runs of letters and digits with
// "-", returning the result only when that follows the convention.
func suggestName(name string, families []string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	s := strings.Join(words, "-")
	if s == name || CheckName(s, families) != nil {
		return ""
	}
	return s
}

// CheckNamingOf checks the naming convention for the builds hybrid runs
// only: the source block each use names, and the local name a build gives
// it. Source blocks no image builds are not checked, so a repository's
// other sources may be named as its authors like.
func CheckNamingOf(t *Template, uses []SourceRef, families []string) hcl.Diagnostics {
	if t == nil {
		return nil
	}
	if len(families) == 0 {
		families = DefaultFamilies
	}
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	for _, ref := range uses {
		if s, ok := t.Source(ref.Address()); ok && !seen["source:"+s.Address()] {
			seen["source:"+s.Address()] = true
			if err := CheckName(s.Name, families); err != nil {
				diags = append(diags, namingDiag("Source name breaks the naming convention",
					fmt.Sprintf("source %q %q", s.Type, s.Name), s.Type, s.Name, s.NameRange, families, err))
			}
		}
		if ref.LocalName == "" || seen["local:"+ref.PackerName()] {
			continue
		}
		seen["local:"+ref.PackerName()] = true
		if err := CheckName(ref.LocalName, families); err != nil {
			diags = append(diags, namingDiag("Build name breaks the naming convention",
				fmt.Sprintf("the build of source.%s named %q", ref.Address(), ref.LocalName), ref.Type, ref.LocalName, ref.Range, families, err))
		}
	}
	return diags
}
