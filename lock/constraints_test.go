package lock

import (
	"strings"
	"testing"
)

func TestCheckConstraint(t *testing.T) {
	tests := map[string]struct {
		constraint, version string
		wantErr             string // substring; empty for success
	}{
		"empty allows all":     {"", "0.0.1", ""},
		"blank allows all":     {"  ", "1.0.0", ""},
		"meets":                {">= 1.9.0", "1.9.4", ""},
		"meets range":          {">= 1.2.0, < 2.0.0", "1.9.9", ""},
		"pessimistic":          {"~> 1.9.0", "1.9.7", ""},
		"v prefix":             {">= 1.9.0", "v1.9.4", ""},
		"fails names both":     {">= 1.10.0", "1.9.4", `version 1.9.4 does not satisfy the constraint ">= 1.10.0"`},
		"fails upper bound":    {">= 1.2.0, < 2.0.0", "2.0.0", `version 2.0.0 does not satisfy the constraint ">= 1.2.0, < 2.0.0"`},
		"prerelease excluded":  {">= 1.9.0", "1.10.0-dev", `does not satisfy`},
		"bad constraint":       {">== 1", "1.0.0", `invalid version constraint ">== 1"`},
		"bad version":          {">= 1", "one", `invalid version "one"`},
		"empty version":        {"", "", `invalid version ""`},
		"pessimistic too new":  {"~> 1.9.0", "1.10.0", `does not satisfy`},
		"exact match":          {"= 1.9.4", "1.9.4", ""},
		"exact match no op":    {"1.9.4", "1.9.4", ""},
		"exclusion":            {"!= 1.9.3", "1.9.3", "does not satisfy"},
		"metadata is ignored":  {"= 1.9.4", "1.9.4+ent", ""},
		"short version padded": {">= 1.9", "1.9", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckConstraint(tt.constraint, tt.version)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestNewest(t *testing.T) {
	tests := map[string]struct {
		constraint string
		available  []string
		want       string
		wantErr    string
	}{
		"newest overall":      {"", []string{"1.0.0", "1.10.0", "1.9.0"}, "1.10.0", ""},
		"within bounds":       {">= 1.2.0, < 2.0.0", []string{"2.0.0", "1.2.1", "1.3.0", "1.1.0"}, "1.3.0", ""},
		"keeps original text": {"", []string{"v1.2.0", "1.1"}, "v1.2.0", ""},
		"skips prerelease":    {">= 1.0.0", []string{"1.0.0", "1.1.0-beta"}, "1.0.0", ""},
		"none fits":           {">= 3.0.0", []string{"1.0.0", "2.0.0"}, "", `no version satisfies the constraint ">= 3.0.0" (available: 1.0.0, 2.0.0)`},
		"none available":      {">= 3.0.0", nil, "", "none is available"},
		"bad constraint":      {"nope", []string{"1.0.0"}, "", `invalid version constraint "nope"`},
		"bad available":       {"", []string{"1.0.0", "x"}, "", `invalid version "x"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Newest(tt.constraint, tt.available)
			checkErr(t, err, tt.wantErr)
			if got != tt.want {
				t.Errorf("Newest = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJoinConstraints(t *testing.T) {
	tests := map[string]struct {
		in   []string
		want string
	}{
		"none":       {nil, ""},
		"empties":    {[]string{"", " "}, ""},
		"one":        {[]string{">= 1.9.0"}, ">= 1.9.0"},
		"two":        {[]string{">= 1.9.0", "< 2.0.0"}, ">= 1.9.0, < 2.0.0"},
		"dedupe":     {[]string{">= 1.9.0, < 2", ">=  1.9.0", "< 2"}, ">= 1.9.0, < 2"},
		"keep order": {[]string{"< 2", "", ">= 1"}, "< 2, >= 1"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := JoinConstraints(tt.in...); got != tt.want {
				t.Errorf("JoinConstraints(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSameConstraint(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"", " ", true},
		{">= 1.9.0", ">=1.9.0", true},
		{">= 1.9.0, < 2.0.0", "< 2.0.0, >= 1.9.0", true},
		{">= 1.9.0", ">= 1.9.1", false},
		{">= 1.9.0", "", false},
		{"bad", "bad", true},
		{"bad", "worse", false},
	}
	for _, tt := range tests {
		if got := sameConstraint(tt.a, tt.b); got != tt.want {
			t.Errorf("sameConstraint(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
