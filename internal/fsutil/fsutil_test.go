package fsutil

import "testing"

func TestWithin(t *testing.T) {
	cases := []struct {
		root, p string
		want    bool
	}{
		{"/w", "/w", true},
		{"/w", "/w/a/b", true},
		{"/w", "/w/../x", false},
		{"/w", "/x", false},
		{"/w", "/w2", false},
		{"/w", "/w/..a", true},
	}
	for _, tc := range cases {
		if got := Within(tc.root, tc.p); got != tc.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tc.root, tc.p, got, tc.want)
		}
	}
}

func TestRel(t *testing.T) {
	cases := []struct{ base, target, want string }{
		{".", "templates/linux", "templates/linux"},
		{"sources/examples", "sources/examples/builds/x", "builds/x"},
		{"sources/examples", "configs/dev/a.pkrvars.hcl", "../../configs/dev/a.pkrvars.hcl"},
	}
	for _, tc := range cases {
		if got := Rel(tc.base, tc.target); got != tc.want {
			t.Errorf("Rel(%q, %q) = %q, want %q", tc.base, tc.target, got, tc.want)
		}
	}
}
