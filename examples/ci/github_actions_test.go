package ci

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v3"
)

// githubRoot is the example repository root: what a user copies .github
// from, and the project actionlint resolves local actions in.
var githubRoot = filepath.Join("github-actions")

// lintWorkflow lints one workflow, given as its content, as if it were the
// file at path in the example repository. Shellcheck and pyflakes are off,
// so that the result does not depend on what the machine has installed.
func lintWorkflow(t *testing.T, path string, content []byte) []*actionlint.Error {
	t.Helper()
	proj, err := actionlint.NewProject(absPath(t, githubRoot))
	if err != nil {
		t.Fatal(err)
	}
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(path, content, proj)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// workflows returns the example's workflow files.
func workflows(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(githubRoot, ".github", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no workflow in github-actions/.github/workflows")
	}
	return files
}

// TestGitHubActionsLint lints every example workflow with actionlint, as a
// Go library: no error is allowed.
func TestGitHubActionsLint(t *testing.T) {
	for _, path := range workflows(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range lintWorkflow(t, absPath(t, path), content) {
				t.Errorf("%s:%d:%d: %s [%s]", path, e.Line, e.Column, e.Message, e.Kind)
			}
		})
	}
}

// TestGitHubActionsLintReportsMistakes breaks the real workflow in one
// place at a time and checks that actionlint reports each mistake: the lint
// above reads the real file, resolves the local action and is not vacuous.
func TestGitHubActionsLintReportsMistakes(t *testing.T) {
	path := filepath.Join(githubRoot, ".github", "workflows", "hybrid.yml")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		old, new string
		want     string // a substring of the error
	}{
		"a job that needs a job that does not exist": {
			old: "needs: check", new: "needs: chek",
			want: `needs job "chek" which does not exist`,
		},
		"a misspelled input of a known action": {
			old: "retention-days: 30", new: "retention-day: 30",
			want: `input "retention-day" is not defined in action "actions/upload-artifact@v5"`,
		},
		"a misspelled input of the local action": {
			old: "hybrid-version: ${{ env.HYBRID_VERSION }}", new: "hybrid-verison: ${{ env.HYBRID_VERSION }}",
			want: `input "hybrid-verison" is not defined in action "Set up hybrid" defined at "./.github/actions/setup-hybrid"`,
		},
		"an output of a job the job does not need": {
			old: "(needs.plan-main.outputs.reviewed == 'file'", new: "(needs.plan.outputs.reviewed == 'file'",
			want: `property "plan" is not defined in object type`,
		},
		"an unknown context": {
			old: "${{ steps.plan.outputs.changes }}", new: "${{ step.plan.outputs.changes }}",
			want: `undefined variable "step"`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(string(good), tt.old) {
				t.Fatalf("the workflow no longer holds %q: update the test", tt.old)
			}
			broken := strings.Replace(string(good), tt.old, tt.new, 1)
			errs := lintWorkflow(t, absPath(t, path), []byte(broken))
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message))
				if strings.Contains(e.Message, tt.want) {
					return
				}
			}
			t.Errorf("actionlint did not report %q; it reported:\n%s", tt.want, strings.Join(msgs, "\n"))
		})
	}
}

// TestGitHubActionsLocalActions checks what actionlint does not: that each
// local action a workflow uses exists (actionlint skips a missing one, as
// it may be checked out at run time), and that every run step of a
// composite action names its shell, which GitHub requires there.
func TestGitHubActionsLocalActions(t *testing.T) {
	usesLocal := regexp.MustCompile(`(?m)^\s*-?\s*uses:\s*(\./\S+)\s*$`)
	seen := 0
	for _, path := range workflows(t) {
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range usesLocal.FindAllStringSubmatch(string(content), -1) {
			seen++
			metadata := filepath.Join(githubRoot, filepath.FromSlash(m[1]), "action.yml")
			b, err := os.ReadFile(metadata)
			if err != nil {
				t.Errorf("%s uses %s: %v", path, m[1], err)
				continue
			}
			var action struct {
				Runs struct {
					Using string `yaml:"using"`
					Steps []struct {
						Name  string `yaml:"name"`
						Uses  string `yaml:"uses"`
						Run   string `yaml:"run"`
						Shell string `yaml:"shell"`
					} `yaml:"steps"`
				} `yaml:"runs"`
			}
			if err := yaml.Unmarshal(b, &action); err != nil {
				t.Errorf("%s: %v", metadata, err)
				continue
			}
			if action.Runs.Using != "composite" || len(action.Runs.Steps) == 0 {
				t.Errorf("%s: runs.using is %q with %d steps, want a composite action with steps", metadata, action.Runs.Using, len(action.Runs.Steps))
			}
			for i, s := range action.Runs.Steps {
				if s.Run != "" && s.Shell == "" {
					t.Errorf("%s: step %d (%s) runs a script without shell:", metadata, i+1, s.Name)
				}
				if (s.Run == "") == (s.Uses == "") {
					t.Errorf("%s: step %d (%s) must either run a script or use an action", metadata, i+1, s.Name)
				}
			}
		}
	}
	if seen == 0 {
		t.Error("no workflow uses a local action; the setup is meant to be shared by every job")
	}
}
