package lock

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-version"
)

// CheckConstraint reports whether v satisfies constraint. An empty constraint
// allows every version. The error names both the version and the constraint,
// and says when either one does not parse.
func CheckConstraint(constraint, v string) error {
	ver, err := version.NewVersion(v)
	if err != nil {
		return fmt.Errorf("invalid version %q: %v", v, err)
	}
	ok, err := satisfies(constraint, ver)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("version %s does not satisfy the constraint %q", v, constraint)
	}
	return nil
}

// satisfies is CheckConstraint for a parsed version.
func satisfies(constraint string, v *version.Version) (bool, error) {
	if strings.TrimSpace(constraint) == "" {
		return true, nil
	}
	cs, err := version.NewConstraint(constraint)
	if err != nil {
		return false, fmt.Errorf("invalid version constraint %q: %v", constraint, err)
	}
	return cs.Check(v), nil
}

// Newest returns the highest of the available versions that satisfies
// constraint, as it was written in available. It fails when the constraint or
// an available version does not parse, or when none satisfies the constraint;
// that error lists what was available.
func Newest(constraint string, available []string) (string, error) {
	var best *version.Version
	bestText := ""
	for _, a := range available {
		v, err := version.NewVersion(a)
		if err != nil {
			return "", fmt.Errorf("invalid version %q: %v", a, err)
		}
		ok, err := satisfies(constraint, v)
		if err != nil {
			return "", err
		}
		if ok && (best == nil || v.GreaterThan(best)) {
			best, bestText = v, a
		}
	}
	if best == nil {
		if len(available) == 0 {
			return "", fmt.Errorf("no version satisfies the constraint %q: none is available", constraint)
		}
		return "", fmt.Errorf("no version satisfies the constraint %q (available: %s)", constraint, strings.Join(available, ", "))
	}
	return bestText, nil
}

// JoinConstraints combines constraints that must all hold (for example a
// plugin's required_plugins entries from several templates) into one
// constraint string, dropping empty and repeated parts and keeping the order
// they were first given in.
func JoinConstraints(constraints ...string) string {
	var parts []string
	for _, c := range constraints {
		for _, p := range strings.Split(c, ",") {
			p = strings.Join(strings.Fields(p), " ")
			if p != "" && !slices.Contains(parts, p) {
				parts = append(parts, p)
			}
		}
	}
	return strings.Join(parts, ", ")
}

// sameConstraint reports whether two constraint strings say the same thing,
// ignoring spacing and the order of their parts.
func sameConstraint(a, b string) bool {
	if a == b {
		return true
	}
	ca, errA := version.NewConstraint(a)
	cb, errB := version.NewConstraint(b)
	if strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" || errA != nil || errB != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return ca.Equals(cb)
}

// sameVersion reports whether two version strings name the same version
// ("1.2" and "v1.2.0" do).
func sameVersion(a, b string) bool {
	va, errA := version.NewVersion(a)
	vb, errB := version.NewVersion(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return va.Equal(vb)
}
