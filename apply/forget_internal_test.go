package apply

import "testing"

// TestWithinDir checks which recorded render paths forget may remove: only
// those inside the configs directory.
func TestWithinDir(t *testing.T) {
	tests := map[string]struct {
		dir, p string
		want   string
		ok     bool
	}{
		"inside":             {"configs", "configs/dev/a.pkrvars.hcl", "dev/a.pkrvars.hcl", true},
		"nested configs dir": {"build/configs", "build/configs/dev/a.pkrvars.hcl", "dev/a.pkrvars.hcl", true},
		"unclean but inside": {"configs", "configs/./dev//a.pkrvars.hcl", "dev/a.pkrvars.hcl", true},
		"the dir itself":     {"configs", "configs", "", false},
		"sibling prefix":     {"configs", "configs2/dev/a.pkrvars.hcl", "", false},
		"dot dot out":        {"configs", "configs/../hybrid.hcl", "", false},
		"dot dot deeper":     {"configs", "configs/dev/../../state/packer-hybrid.json", "", false},
		"absolute":           {"configs", "/etc/passwd", "", false},
		"elsewhere":          {"configs", "templates/a.pkrvars.hcl", "", false},
		"backslash":          {"configs", `configs\..\hybrid.hcl`, "", false},
		"empty":              {"configs", "", "", false},
		"workspace root dir": {".", "dev/a.pkrvars.hcl", "dev/a.pkrvars.hcl", true},
		"root dir, outside":  {".", "../a.pkrvars.hcl", "", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := withinDir(tt.dir, tt.p)
			if got != tt.want || ok != tt.ok {
				t.Errorf("withinDir(%q, %q) = %q, %v; want %q, %v", tt.dir, tt.p, got, ok, tt.want, tt.ok)
			}
		})
	}
}
