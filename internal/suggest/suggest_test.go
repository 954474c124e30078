package suggest

import "testing"

func TestClosest(t *testing.T) {
	images := []string{"linux-rocky", "linux-ubuntu", "linux-ubuntu-app", "windows-server-2022"}
	tests := []struct {
		name       string
		given      string
		candidates []string
		want       string
	}{
		{"one letter missing", "linux-ubunt", images, "linux-ubuntu"},
		{"letters swapped", "biuld", []string{"build", "network"}, "build"},
		{"case only", "Build", []string{"build"}, "build"},
		{"nearest of several", "linux-ubuntu-ap", images, "linux-ubuntu-app"},
		{"too far", "debian", images, ""},
		{"short names never guess", "ab", []string{"cd"}, ""},
		{"one letter never guesses", "a", []string{"b"}, ""},
		{"exact match is no suggestion", "build", []string{"build"}, ""},
		{"long address allows more edits", "build.prd.linux-ubunut-app", []string{"build.prod.linux-ubuntu-app", "build.dev.linux-ubuntu-app"}, "build.prod.linux-ubuntu-app"},
		{"another image is no misspelling", "build.dev.linux-debian", []string{"build.dev.linux-rocky", "build.dev.linux-ubuntu"}, ""},
		{"first of equals wins", "dex", []string{"dev", "den"}, "dev"},
		{"empty", "", images, ""},
		{"no candidates", "dev", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Closest(tt.given, tt.candidates); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.given, got, tt.want)
			}
		})
	}
}
