package templates

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestCheckName(t *testing.T) {
	tests := map[string]struct {
		name     string
		families []string
		wantErr  string // "" when the name follows the convention
	}{
		"linux":                {"linux-ubuntu", nil, ""},
		"windows four words":   {"windows-server-2022-standard-core", nil, ""},
		"digits":               {"freebsd-14", nil, ""},
		"every default family": {"illumos-omnios", nil, ""},
		"custom family":        {"rhel-9", []string{"rhel"}, ""},
		"custom family only":   {"linux-ubuntu", []string{"rhel"}, `"linux-ubuntu" does not start with an OS family and a hyphen (rhel-)`},
		"no family":            {"ubuntu", nil, `"ubuntu" does not start with an OS family and a hyphen (linux-, windows-, freebsd-, openbsd-, netbsd-, macos-, solaris-, illumos-)`},
		"unknown family":       {"ubuntu-22-04", nil, `"ubuntu-22-04" does not start with an OS family`},
		"family alone":         {"linux", nil, `"linux" is only an OS family; add what it builds, e.g. "linux-example"`},
		"upper case":           {"Linux-ubuntu", nil, `"Linux-ubuntu" is not lowercase words of a-z and 0-9 joined by single hyphens`},
		"underscore":           {"linux_base", nil, "is not lowercase words"},
		"double hyphen":        {"linux--base", nil, "is not lowercase words"},
		"trailing hyphen":      {"linux-base-", nil, "is not lowercase words"},
		"leading hyphen":       {"-linux-base", nil, "is not lowercase words"},
		"dot":                  {"linux-22.04", nil, "is not lowercase words"},
		"non-ascii":            {"linux-ubüntu", nil, "is not lowercase words"},
		"empty":                {"", nil, "the name is empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckName(tc.name, tc.families)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("CheckName(%q) = %v, want nil", tc.name, err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("CheckName(%q) = nil, want an error containing %q", tc.name, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("CheckName(%q) = %q, want it to contain %q", tc.name, err, tc.wantErr)
			}
		})
	}
}

func TestOSFamily(t *testing.T) {
	tests := map[string]string{
		"linux-ubuntu":                      "linux",
		"windows-server-2022-standard-core": "windows",
		"linux":                             "linux",
		"ubuntu":                            "ubuntu",
		"":                                  "",
	}
	for name, want := range tests {
		if got := OSFamily(name); got != want {
			t.Errorf("OSFamily(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestCheckNamingDiagnostic(t *testing.T) {
	p := hclparse.NewParser()
	tmpl, diags := Load(p, "testdata/invalid/naming-violations")
	noDiags(t, diags)
	got := CheckNaming(tmpl, nil)
	if len(got) == 0 {
		t.Fatal("no naming diagnostics")
	}
	d := got[1] // source "null" "Linux_Base"
	for _, want := range []string{
		`source "null" "Linux_Base" at testdata/invalid/naming-violations/ubuntu.pkr.hcl:5`,
		"source.<builder>.<name>",
		`Renaming it "linux-base"`,
		`set naming = "relaxed" in the image block`,
	} {
		if !strings.Contains(d.Detail, want) {
			t.Errorf("detail lacks %q:\n%s", want, d.Detail)
		}
	}
	// The subject is the name label, on the block's line.
	if d.Subject.Start.Line != 5 || d.Subject.Start.Column != 15 {
		t.Errorf("subject at %s, want line 5 column 15", d.Subject)
	}

	// With custom families the same template has other violations.
	var addresses []string
	for _, d := range CheckNaming(tmpl, []string{"ubuntu"}) {
		addresses = append(addresses, d.Subject.String())
	}
	want := []string{
		"testdata/invalid/naming-violations/ubuntu.pkr.hcl:1,22-30",
		"testdata/invalid/naming-violations/ubuntu.pkr.hcl:5,15-27",
		"testdata/invalid/naming-violations/ubuntu.pkr.hcl:9,15-22",
		"testdata/invalid/naming-violations/ubuntu.pkr.hcl:13,15-30",
		"testdata/invalid/naming-violations/ubuntu.pkr.hcl:17,15-29",
		"testdata/invalid/naming-violations/ubuntu.pkr.hcl:24,10-29",
		"testdata/invalid/naming-violations/ubuntu.pkr.hcl:27,10-29",
	}
	if diff := cmp.Diff(want, addresses); diff != "" {
		t.Errorf("wrong subjects with families [ubuntu] (-want +got):\n%s", diff)
	}

	if diags := CheckNaming(nil, nil); diags != nil {
		t.Errorf("CheckNaming(nil) = %v", diags)
	}
}
