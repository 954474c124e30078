package ci

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// gitlabFile is the example pipeline.
var gitlabFile = filepath.Join("gitlab", ".gitlab-ci.yml")

// gitlabGlobalKeys are the top-level keys of .gitlab-ci.yml that are not
// jobs.
var gitlabGlobalKeys = []string{
	"after_script", "before_script", "cache", "default", "image", "include",
	"services", "spec", "stages", "variables", "workflow",
}

// gitlabWhen are the values "when" may take in a rule.
var gitlabWhen = []string{"always", "delayed", "manual", "never", "on_failure", "on_success"}

// gitlabPipeline is a .gitlab-ci.yml as GitLab reads it: its stages, and
// its jobs with what they extend merged in.
type gitlabPipeline struct {
	Stages []string
	Jobs   map[string]map[string]any
	// Hidden are the templates whose names start with ".".
	Hidden map[string]map[string]any
}

// parseGitLab reads a pipeline definition and resolves extends as GitLab
// does: the job's own keys win, and maps are merged key by key.
func parseGitLab(src []byte) (*gitlabPipeline, error) {
	var top map[string]any
	if err := yaml.Unmarshal(src, &top); err != nil {
		return nil, err
	}
	p := &gitlabPipeline{Jobs: map[string]map[string]any{}, Hidden: map[string]map[string]any{}}
	for _, s := range asList(top["stages"]) {
		p.Stages = append(p.Stages, fmt.Sprint(s))
	}
	raw := map[string]map[string]any{}
	for name, v := range top {
		if slices.Contains(gitlabGlobalKeys, name) {
			continue
		}
		job, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s is not a job (a mapping), but %T", name, v)
		}
		raw[name] = job
	}
	var resolve func(name string, seen []string) (map[string]any, error)
	resolve = func(name string, seen []string) (map[string]any, error) {
		if slices.Contains(seen, name) {
			return nil, fmt.Errorf("extends loops: %s", strings.Join(append(seen, name), " -> "))
		}
		job, ok := raw[name]
		if !ok {
			return nil, fmt.Errorf("%s extends %s, which is not defined", seen[len(seen)-1], name)
		}
		out := map[string]any{}
		for _, parent := range asList(job["extends"]) {
			base, err := resolve(fmt.Sprint(parent), append(seen, name))
			if err != nil {
				return nil, err
			}
			out = mergeYAML(out, base)
		}
		own := maps.Clone(job)
		delete(own, "extends")
		return mergeYAML(out, own), nil
	}
	for name := range raw {
		job, err := resolve(name, nil)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(name, ".") {
			p.Hidden[name] = job
		} else {
			p.Jobs[name] = job
		}
	}
	return p, nil
}

// mergeYAML merges over into base: maps key by key, anything else replaced.
func mergeYAML(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = mergeYAML(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

// asList returns v as a list: a list as it is, a scalar as one element,
// nothing as none.
func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

// problems lists every way the pipeline would be rejected by GitLab or
// would not do what it says, one line each.
func (p *gitlabPipeline) problems() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	if len(p.Stages) == 0 {
		add("no stages are declared")
	}
	for i, s := range p.Stages {
		if slices.Index(p.Stages, s) != i {
			add("stage %s is declared twice", s)
		}
	}
	if len(p.Jobs) == 0 {
		add("no job is defined")
	}
	for _, name := range slices.Sorted(maps.Keys(p.Jobs)) {
		job := p.Jobs[name]
		stage, _ := job["stage"].(string)
		if stage == "" {
			stage = "test" // GitLab's default
		}
		if !slices.Contains(p.Stages, stage) {
			add("job %s: stage %s is not declared in stages", name, stage)
		}

		script := asList(job["script"])
		if len(script) == 0 {
			add("job %s has no script", name)
		}
		for _, key := range []string{"before_script", "script"} {
			for i, line := range asList(job[key]) {
				if s, ok := line.(string); !ok || strings.TrimSpace(s) == "" {
					add("job %s: %s line %d is empty or not a string", name, key, i+1)
				}
			}
		}

		rules := asList(job["rules"])
		if len(rules) > 0 {
			for _, k := range []string{"only", "except", "when"} {
				if _, ok := job[k]; ok {
					add("job %s: %s cannot be used with rules; put it in the rules", name, k)
				}
			}
		}
		for i, r := range rules {
			rule, ok := r.(map[string]any)
			if !ok {
				add("job %s: rule %d is not a mapping", name, i+1)
				continue
			}
			for k := range rule {
				if !slices.Contains([]string{"if", "changes", "exists", "when", "allow_failure", "variables", "needs", "start_in", "interruptible"}, k) {
					add("job %s: rule %d has the unknown key %s", name, i+1, k)
				}
			}
			if w, ok := rule["when"]; ok && !slices.Contains(gitlabWhen, fmt.Sprint(w)) {
				add("job %s: rule %d has when: %v", name, i+1, w)
			}
		}

		for _, n := range asList(job["needs"]) {
			need := fmt.Sprint(n)
			if m, ok := n.(map[string]any); ok {
				need = fmt.Sprint(m["job"])
			}
			dep, ok := p.Jobs[need]
			if !ok {
				add("job %s needs %s, which is not a job", name, need)
				continue
			}
			depStage, _ := dep["stage"].(string)
			if slices.Index(p.Stages, depStage) > slices.Index(p.Stages, stage) {
				add("job %s (stage %s) needs %s of the later stage %s", name, stage, need, depStage)
			}
			// A job that needs another must not run in a pipeline where
			// the other does not: GitLab refuses to create the pipeline.
			if depRules := ruleConditions(dep); depRules != nil {
				for _, cond := range ruleConditions(job) {
					if !slices.Contains(depRules, cond) {
						add("job %s runs when %s, and needs %s, which does not", name, cond, need)
					}
				}
			}
		}

		for i, s := range asList(job["services"]) {
			svc, ok := s.(map[string]any)
			if !ok {
				add("job %s: service %d should be a mapping with a name and an alias", name, i+1)
				continue
			}
			if svc["name"] == nil || svc["alias"] == nil {
				add("job %s: service %d needs a name and an alias (the host jobs reach it by)", name, i+1)
			}
		}
	}
	return out
}

// ruleConditions returns the "if" conditions of a job's rules that let it
// run (not when: never), or nil when it has no rules and runs always.
func ruleConditions(job map[string]any) []string {
	rules := asList(job["rules"])
	if rules == nil {
		return nil
	}
	conds := []string{}
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		if rule["when"] == "never" {
			continue
		}
		conds = append(conds, fmt.Sprint(rule["if"]))
	}
	return conds
}

func loadGitLab(t *testing.T) *gitlabPipeline {
	t.Helper()
	src, err := os.ReadFile(gitlabFile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseGitLab(src)
	if err != nil {
		t.Fatalf("%s: %v", gitlabFile, err)
	}
	return p
}

// TestGitLabPipeline checks the example pipeline's structure: stages, jobs,
// scripts, rules, needs and services.
func TestGitLabPipeline(t *testing.T) {
	p := loadGitLab(t)
	for _, problem := range p.problems() {
		t.Error(problem)
	}

	// What the pipeline is for: a plan on merge requests, a plan and an
	// apply on the default branch, the apply gated on the comparison.
	stages := map[string]string{}
	for name, job := range p.Jobs {
		stages[name], _ = job["stage"].(string)
	}
	want := map[string]string{
		"hybrid:check":            "check",
		"hybrid:plan":             "plan",
		"hybrid:plan-main":        "plan",
		"hybrid:apply":            "apply",
		"hybrid:apply-unreviewed": "apply",
	}
	if fmt.Sprint(stages) != fmt.Sprint(want) {
		t.Errorf("jobs and stages = %v, want %v", stages, want)
	}
	if got := ruleConditions(p.Jobs["hybrid:plan"]); !slices.Equal(got, []string{`$CI_PIPELINE_SOURCE == "merge_request_event"`}) {
		t.Errorf("hybrid:plan runs when %v, want on merge requests only", got)
	}
	for _, name := range []string{"hybrid:plan-main", "hybrid:apply", "hybrid:apply-unreviewed"} {
		if got := ruleConditions(p.Jobs[name]); !slices.Equal(got, []string{"$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}) {
			t.Errorf("%s runs when %v, want on the default branch only", name, got)
		}
	}
	if r, _ := asList(p.Jobs["hybrid:apply-unreviewed"]["rules"])[0].(map[string]any); r["when"] != "manual" {
		t.Errorf("hybrid:apply-unreviewed is not manual: %v", r)
	}
	for _, name := range []string{"hybrid:apply", "hybrid:apply-unreviewed"} {
		if p.Jobs[name]["resource_group"] != "hybrid-apply" {
			t.Errorf("%s does not run one at a time (resource_group %v)", name, p.Jobs[name]["resource_group"])
		}
	}
	reports, _ := p.Jobs["hybrid:plan-main"]["artifacts"].(map[string]any)["reports"].(map[string]any)
	if reports["dotenv"] != "plan.env" {
		t.Errorf("hybrid:plan-main does not hand CHANGES and REVIEWED to the applies: reports %v", reports)
	}

	// The merge request plan's throwaway database: the host the fallback
	// connection string names is the service's alias.
	plan := p.Jobs["hybrid:plan"]
	svc, _ := asList(plan["services"])[0].(map[string]any)
	vars, _ := plan["variables"].(map[string]any)
	if !strings.HasPrefix(fmt.Sprint(svc["name"]), "postgres:") || !strings.Contains(fmt.Sprint(vars["EMPTY_STATE"]), "@"+fmt.Sprint(svc["alias"])+":5432/") {
		t.Errorf("hybrid:plan: service %v and EMPTY_STATE %v do not agree", svc, vars["EMPTY_STATE"])
	}
	for _, k := range []string{"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} {
		if vars[k] == nil {
			t.Errorf("hybrid:plan does not set %s for its postgres service", k)
		}
	}
}

// TestGitLabPipelineReportsMistakes breaks the real pipeline in one place
// at a time and checks that each mistake is reported: the checks above read
// the real file and are not vacuous.
func TestGitLabPipelineReportsMistakes(t *testing.T) {
	tests := map[string]struct {
		breakIt func(p *gitlabPipeline)
		want    string
	}{
		"an undeclared stage": {
			breakIt: func(p *gitlabPipeline) { p.Jobs["hybrid:apply"]["stage"] = "deploy" },
			want:    "job hybrid:apply: stage deploy is not declared in stages",
		},
		"a stage declared twice": {
			breakIt: func(p *gitlabPipeline) { p.Stages = append(p.Stages, "plan") },
			want:    "stage plan is declared twice",
		},
		"a need that is not a job": {
			breakIt: func(p *gitlabPipeline) { p.Jobs["hybrid:plan"]["needs"] = []any{"hybrid:chek"} },
			want:    "job hybrid:plan needs hybrid:chek, which is not a job",
		},
		"a need of a later stage": {
			breakIt: func(p *gitlabPipeline) { p.Jobs["hybrid:plan-main"]["needs"] = []any{"hybrid:apply"} },
			want:    "job hybrid:plan-main (stage plan) needs hybrid:apply of the later stage apply",
		},
		"a need that does not run in the same pipelines": {
			breakIt: func(p *gitlabPipeline) { p.Jobs["hybrid:apply"]["needs"] = []any{"hybrid:plan"} },
			want:    "job hybrid:apply runs when $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH, and needs hybrid:plan, which does not",
		},
		"an empty script": {
			breakIt: func(p *gitlabPipeline) { p.Jobs["hybrid:check"]["script"] = []any{} },
			want:    "job hybrid:check has no script",
		},
		"a script line YAML reads as a mapping": {
			breakIt: func(p *gitlabPipeline) {
				p.Jobs["hybrid:check"]["script"] = []any{map[string]any{`test -n "$X" || echo "X is not set`: `run hybrid lock"`}}
			},
			want: "job hybrid:check: script line 1 is empty or not a string",
		},
		"when beside rules": {
			breakIt: func(p *gitlabPipeline) { p.Jobs["hybrid:apply-unreviewed"]["when"] = "manual" },
			want:    "job hybrid:apply-unreviewed: when cannot be used with rules; put it in the rules",
		},
		"a service without an alias": {
			breakIt: func(p *gitlabPipeline) {
				p.Jobs["hybrid:plan"]["services"] = []any{map[string]any{"name": "postgres:17"}}
			},
			want: "job hybrid:plan: service 1 needs a name and an alias",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			p := loadGitLab(t)
			for n, job := range p.Jobs {
				p.Jobs[n] = maps.Clone(job)
			}
			tt.breakIt(p)
			got := p.problems()
			if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("not reported: %q; reported:\n%s", tt.want, strings.Join(got, "\n"))
			}
		})
	}
}

// TestParseGitLabExtends checks extends as GitLab resolves it: a chain of
// templates, maps merged key by key, lists replaced, and a loop or a
// missing template refused.
func TestParseGitLabExtends(t *testing.T) {
	p, err := parseGitLab([]byte(`
stages: [build]
.base:
  image: golang
  variables: {A: "1", B: "1"}
  script: [base]
.middle:
  extends: .base
  variables: {B: "2"}
job:
  extends: .middle
  stage: build
  script: [own]
`))
	if err != nil {
		t.Fatal(err)
	}
	job := p.Jobs["job"]
	if fmt.Sprint(job["variables"]) != "map[A:1 B:2]" || fmt.Sprint(job["script"]) != "[own]" || job["image"] != "golang" {
		t.Errorf("resolved job = %v", job)
	}
	if len(p.Hidden) != 2 || len(p.Jobs) != 1 {
		t.Errorf("hidden %d, jobs %d; want 2 and 1", len(p.Hidden), len(p.Jobs))
	}
	for src, want := range map[string]string{
		"a:\n  extends: b\nb:\n  extends: a\n": "extends loops",
		"a:\n  extends: .nope\n":               "a extends .nope, which is not defined",
	} {
		if _, err := parseGitLab([]byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseGitLab(%q) error = %v, want %q", src, err, want)
		}
	}
}
