package main

import "testing"

func TestColorEnabled(t *testing.T) {
	tests := map[string]struct {
		tty, noColor bool
		env          map[string]string
		want         bool
	}{
		"terminal":                     {tty: true, want: true},
		"pipe":                         {tty: false, want: false},
		"-no-color":                    {tty: true, noColor: true, want: false},
		"NO_COLOR":                     {tty: true, env: map[string]string{"NO_COLOR": "1"}, want: false},
		"NO_COLOR empty":               {tty: true, env: map[string]string{"NO_COLOR": ""}, want: true},
		"GitHub Actions":               {env: map[string]string{"GITHUB_ACTIONS": "true"}, want: true},
		"GitHub Actions and NO_COLOR":  {env: map[string]string{"GITHUB_ACTIONS": "true", "NO_COLOR": "1"}, want: false},
		"forced":                       {env: map[string]string{"HYBRID_FORCE_COLOR": "1"}, want: true},
		"forced over NO_COLOR":         {env: map[string]string{"HYBRID_FORCE_COLOR": "1", "NO_COLOR": "1"}, want: true},
		"-no-color over forced":        {noColor: true, env: map[string]string{"HYBRID_FORCE_COLOR": "1"}, want: false},
		"force off":                    {tty: false, env: map[string]string{"HYBRID_FORCE_COLOR": "0"}, want: false},
		"force false on a terminal":    {tty: true, env: map[string]string{"HYBRID_FORCE_COLOR": "false"}, want: true},
		"GitHub Actions spelled other": {env: map[string]string{"GITHUB_ACTIONS": "1"}, want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			if got := colorEnabled(tc.tty, tc.noColor, getenv); got != tc.want {
				t.Errorf("colorEnabled = %v, want %v", got, tc.want)
			}
		})
	}
}
