package ci

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// githubExpr is a ${{ ... }} expression, which GitHub substitutes before
// the shell reads the script.
var githubExpr = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// checkBashSyntax parses script with "bash -n": what the shell would refuse
// before running a line.
func checkBashSyntax(t *testing.T, bash, where, script string) {
	t.Helper()
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s does not parse: %v\n%s\n--- script:\n%s", where, err, out, script)
	}
}

func requireBash(t *testing.T) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bash is required to check the example scripts")
		}
		t.Skip("bash is required to check the example scripts")
	}
	return bash
}

// TestScriptsParse checks that every script of the examples is valid
// bash: the run steps of the GitHub Actions workflows and of the local
// action (expressions replaced by a word), and each GitLab job's
// before_script and script, which GitLab runs in one shell.
func TestScriptsParse(t *testing.T) {
	bash := requireBash(t)

	files := workflows(t)
	actions, err := filepath.Glob(filepath.Join(githubRoot, ".github", "actions", "*", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range append(files, actions...) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Jobs map[string]struct {
				Steps []step `yaml:"steps"`
			} `yaml:"jobs"`
			Runs struct {
				Steps []step `yaml:"steps"`
			} `yaml:"runs"`
		}
		if err := yaml.Unmarshal(src, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		steps := map[string][]step{"runs": doc.Runs.Steps}
		for name, job := range doc.Jobs {
			steps[name] = job.Steps
		}
		for _, job := range slices.Sorted(maps.Keys(steps)) {
			for i, s := range steps[job] {
				if s.Run == "" {
					continue
				}
				n++
				checkBashSyntax(t, bash, fmt.Sprintf("%s: %s step %d (%s)", path, job, i+1, s.Name), githubExpr.ReplaceAllString(s.Run, "EXPR"))
			}
		}
	}

	p := loadGitLab(t)
	for _, name := range slices.Sorted(maps.Keys(p.Jobs)) {
		var lines []string
		for _, key := range []string{"before_script", "script"} {
			for _, l := range asList(p.Jobs[name][key]) {
				lines = append(lines, fmt.Sprint(l))
			}
		}
		n++
		checkBashSyntax(t, bash, gitlabFile+": job "+name, strings.Join(lines, "\n"))
	}
	if n < 10 {
		t.Errorf("only %d scripts checked: the examples are not being read", n)
	}
}

// step is a workflow or composite action step, as far as its script goes.
type step struct {
	Name string `yaml:"name"`
	Run  string `yaml:"run"`
}
