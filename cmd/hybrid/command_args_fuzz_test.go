package main

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// FuzzCommandArgs feeds arbitrary argument lists to the flag parsers of
// lock, init, sources sync, state list, state show, show, force-unlock and
// images: none may panic, and each returns either its arguments or an
// error.
func FuzzCommandArgs(f *testing.F) {
	for _, seed := range []string{
		"", "-upgrade\x00examples", "-lock-timeout=5s\x00tools", "-json\x00plan.out",
		"-force\x00id", "--\x00-x", "-var\x00a=1\x00-var-file=x", "-lock-timeout=-1s", "a\x00b\x00-c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var args []string
		if in != "" {
			args = strings.Split(in, "\x00")
		}
		check := func(name string, ok bool, diags hcl.Diagnostics) {
			if ok == diags.HasErrors() {
				t.Fatalf("%s(%q): result present = %v, errors = %v", name, args, ok, diags)
			}
		}
		a1, d := parseLockArgs(args)
		check("parseLockArgs", a1 != nil, d)
		if a1 != nil && len(a1.Names) > 0 && !a1.Upgrade {
			t.Fatalf("parseLockArgs(%q): names without -upgrade", args)
		}
		a2, d := parseInitArgs(args)
		check("parseInitArgs", a2 != nil, d)
		a3, d := parseSourcesSyncArgs(args)
		check("parseSourcesSyncArgs", a3 != nil, d)
		if a3 != nil {
			for _, n := range a3.Names {
				if n == "" || strings.HasPrefix(n, "-") {
					t.Fatalf("parseSourcesSyncArgs(%q): name %q", args, n)
				}
			}
		}
		a4, d := parseStateListArgs(args)
		check("parseStateListArgs", a4 != nil, d)
		a5, d := parseStateShowArgs(args)
		check("parseStateShowArgs", a5 != nil, d)
		a6, d := parseShowArgs(args)
		check("parseShowArgs", a6 != nil, d)
		a7, d := parseForceUnlockArgs(args)
		check("parseForceUnlockArgs", a7 != nil, d)
		if a7 != nil && (a7.LockID == "" || strings.HasPrefix(a7.LockID, "-")) {
			t.Fatalf("parseForceUnlockArgs(%q): lock ID %q", args, a7.LockID)
		}
		a8, d := parseImagesArgs(args)
		check("parseImagesArgs", a8 != nil, d)
	})
}
