package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/lock"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
)

// markdownSecrets are the values the sensitive variable build_password
// has before and after the change a scenario plans: neither may appear in
// a comment.
var markdownSecrets = []string{"before-Secret-4b1d", "after-Secret-9c2e"}

// mdScenario is a generated workspace, a state recording what an earlier
// apply built there, and the change a pull request makes to it.
type mdScenario struct {
	// files is the workspace before the change; change edits it.
	files  map[string]string
	change func(t *testing.T, dir string)
	// rotate changes the secret's value with the change.
	rotate bool
	// seconds is how long each recorded build took; a build for which it
	// returns a negative number has no state record (it never ran).
	seconds func(addr string) int64
}

// run records the workspace as applied, makes the change and returns
// what "hybrid plan -markdown -out=pr.plan" prints, and the saved plan.
//
// The state is what apply would have recorded, and the var files what it
// would have written: each build's fingerprint, input digests and file
// trees as a plan of the unchanged workspace computes them, each render's
// digest and values, with a duration per build. No packer runs.
func (sc mdScenario) run(t *testing.T) (string, *plan.Plan) {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, sc.files)
	t.Setenv("HYBRID_VAR_build_password", markdownSecrets[0])
	ws, diags := plan.LoadWorkspace(dir, config.Inputs{Environ: os.Environ()})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	lf, diags := lock.Update(nil, ws.LockRequirements(), lock.Inputs{PackerVersion: "1.9.4"}, lock.Upgrade{})
	ws.Close()
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if err := lock.Write(filepath.Join(dir, lock.DefaultFilename), lf); err != nil {
		t.Fatal(err)
	}

	t.Chdir(dir)
	pd, before, diags := makePlan(context.Background(), "plan", planRequest{Inputs: config.Inputs{Environ: os.Environ()}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	ws = pd.ws
	renders := map[string]*config.Render{}
	for _, b := range ws.Builds {
		renders[b.RenderAddress()] = b.Render
	}
	ws.Close()
	st := state.New()
	st.Lineage, st.Serial = "0c8a3b8e-5f4d-4a57-9a31-3c0b0f7f2d10", 1
	st.Trees = map[string]map[string]string{}
	started := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range before.Changes {
		switch c.Type {
		case plan.TypeBuild:
			secs := sc.seconds(c.Address)
			if secs < 0 {
				continue
			}
			d := time.Duration(secs) * time.Second
			st.Builds[c.Address] = &state.Build{Env: c.Env, Image: c.Image, Fingerprint: c.After, Inputs: c.Inputs,
				Status: state.StatusSucceeded, Started: started, Finished: started.Add(d), Duration: d}
			for digest, files := range c.Trees {
				st.Trees[digest] = files
			}
		case plan.TypeRender:
			if sc.seconds(strings.Replace(c.Address, "render.", "build.", 1)) < 0 {
				continue
			}
			r := renders[c.Address]
			st.Renders[c.Address] = &state.Render{Env: c.Env, Image: c.Image, Path: r.Path,
				Digest: c.After, Fingerprint: c.After, Inputs: c.Inputs, Values: c.Values}
			writeTree(t, dir, map[string]string{r.Path: string(r.Bytes)})
		}
	}
	b, err := state.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state", "packer-hybrid.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}

	sc.change(t, dir)
	if sc.rotate {
		t.Setenv("HYBRID_VAR_build_password", markdownSecrets[1])
	}
	code, out := runHybrid(t, dir, "plan", "-markdown", "-out=pr.plan")
	if code != 0 {
		t.Fatalf("plan -markdown exited %d:\n%s", code, out)
	}
	saved, err := plan.ReadFile(filepath.Join(dir, "pr.plan"))
	if err != nil {
		t.Fatalf("plan -markdown -out did not save the plan: %v", err)
	}
	return out, saved
}

// editFile rewrites a workspace file with edit.
func editFile(t *testing.T, dir, name string, edit func(string) string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(edit(string(b))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// nullTemplate is a template of null builds, one per source name, that
// reads the variables the generated images set.
func nullTemplate(sources ...string) string {
	var b strings.Builder
	b.WriteString(`packer {
  required_version = ">= 1.9.0"
}

variable "environment" {
  type = string
}

variable "vm_mem_size" {
  type = number
}

variable "build_password" {
  type      = string
  sensitive = true
}

variable "hybrid_upstream" {
  type    = map(object({ id = string, files = list(string) }))
  default = {}
}
`)
	var refs []string
	for _, s := range sources {
		fmt.Fprintf(&b, "\nsource \"null\" %q {\n  communicator = \"none\"\n}\n", s)
		refs = append(refs, fmt.Sprintf("%q", "source.null."+s))
	}
	fmt.Fprintf(&b, `
build {
  sources = [%s]

  provisioner "shell-local" {
    inline = ["echo ${var.environment} ${source.name} ${var.vm_mem_size}"]
  }
}
`, strings.Join(refs, ", "))
	return b.String()
}

// hybridHeader is the start of every generated hybrid.hcl: the settings,
// the secret, and the environments, prod with more memory.
func hybridHeader(envs ...string) string {
	var b strings.Builder
	b.WriteString(`hybrid {
  packer_version = ">= 1.9.0"
  parallelism    = 4
}

variable "build_password" {
  type      = string
  sensitive = true
}
`)
	for _, e := range envs {
		mem := 2048
		if e == "prod" {
			mem = 4096
		}
		fmt.Fprintf(&b, "\nenvironment %q {\n  values = { environment = %q, vm_mem_size = %d, build_password = var.build_password }\n}\n", e, e, mem)
	}
	return b.String()
}

// threeBuilds: a pull request that edits the base template, gives prod's
// builds more memory, rotates the build password and adds an application
// image on the base in prod. The base built in 9m in dev and 12m in prod;
// the application never ran. The estimate, by hand: 9 + 12 = 21m of
// builds; on 4 slots the two bases run side by side and the application,
// of unknown duration, counts for nothing: 12m; 1 build unknown.
func threeBuilds() mdScenario {
	return mdScenario{
		files: map[string]string{
			"hybrid.hcl": hybridHeader("dev", "prod") + `
image "linux-base" {
  template = "templates/linux"
  build    = "null.linux-base"
}
`,
			"templates/linux/linux.pkr.hcl": nullTemplate("linux-base"),
			"templates/app/app.pkr.hcl":     nullTemplate("linux-app"),
		},
		change: func(t *testing.T, dir string) {
			editFile(t, dir, "templates/linux/linux.pkr.hcl", func(s string) string {
				return strings.Replace(s, "echo ${var.environment}", "echo base ${var.environment}", 1)
			})
			editFile(t, dir, "hybrid.hcl", func(s string) string {
				return strings.Replace(s, "vm_mem_size = 4096", "vm_mem_size = 8192", 1) + `
image "linux-app" {
  template     = "templates/app"
  build        = "null.linux-app"
  environments = [environment.prod]
  depends_on   = [image.linux-base]
}
`
			})
		},
		rotate: true,
		seconds: func(addr string) int64 {
			return map[string]int64{"build.dev.linux-base": 9 * 60, "build.prod.linux-base": 12 * 60}[addr]
		},
	}
}

// threeHundredBuilds: 100 images in 10 templates (a base and nine images
// derived from it per template) in dev, stage and prod, and a pull request
// that edits every template and gives prod more memory: 300 rebuilds, 100
// variable diffs. The nine derived images of the last template never ran
// in stage. The estimate, by hand: the bases take 30+3k minutes in
// template k, the derived images 5+(7k+3j)%20, 5,063 minutes in all over
// the 291 known builds (84h23m); on 4 slots no chain is near a quarter of
// that, so the wall time is about 5,063/4 minutes (21h6m).
func threeHundredBuilds() mdScenario {
	var hcl strings.Builder
	hcl.WriteString(hybridHeader("dev", "stage", "prod"))
	files := map[string]string{}
	for k := range 10 {
		var sources []string
		for j := range 10 {
			name := fmt.Sprintf("linux-t%d-img%d", k, j)
			sources = append(sources, name)
			fmt.Fprintf(&hcl, "\nimage %q {\n  template = \"templates/os%d\"\n  build    = \"null.%s\"\n", name, k, name)
			if j > 0 {
				fmt.Fprintf(&hcl, "  depends_on = [image.linux-t%d-img0]\n", k)
			}
			hcl.WriteString("}\n")
		}
		files[fmt.Sprintf("templates/os%d/os.pkr.hcl", k)] = nullTemplate(sources...)
	}
	files["hybrid.hcl"] = hcl.String()
	return mdScenario{
		files: files,
		change: func(t *testing.T, dir string) {
			for k := range 10 {
				editFile(t, dir, fmt.Sprintf("templates/os%d/os.pkr.hcl", k), func(s string) string {
					return strings.Replace(s, "echo ${var.environment}", "echo v2 ${var.environment}", 1)
				})
			}
			editFile(t, dir, "hybrid.hcl", func(s string) string {
				return strings.Replace(s, "vm_mem_size = 4096", "vm_mem_size = 6144", 1)
			})
		},
		seconds: func(addr string) int64 {
			var env string
			var k, j int
			if _, err := fmt.Sscanf(strings.ReplaceAll(addr, ".", " "), "build %s linux-t%d-img%d", &env, &k, &j); err != nil {
				panic(addr + ": " + err.Error())
			}
			switch {
			case env == "stage" && k == 9 && j > 0:
				return -1
			case j == 0:
				return int64(30+3*k) * 60
			}
			return int64(5+(7*k+3*j)%20) * 60
		},
	}
}

// TestPlanMarkdownGolden compares "hybrid plan -markdown" on generated
// workspaces of 3 and 300 builds with testdata/golden/plan_markdown_*.md
// (go test -update rewrites them). The 300-build comment must be cut to
// the limits, saying what it left out, and still give every build its
// table row.
func TestPlanMarkdownGolden(t *testing.T) {
	tests := map[string]struct {
		scenario mdScenario
		// cut says whether the comment must leave something out.
		cut bool
	}{
		"plan_markdown_3.md":   {threeBuilds(), false},
		"plan_markdown_300.md": {threeHundredBuilds(), true},
	}
	for file, tt := range tests {
		t.Run(file, func(t *testing.T) {
			golden, err := filepath.Abs(filepath.Join("testdata", "golden", file))
			if err != nil {
				t.Fatal(err)
			}
			got, saved := tt.scenario.run(t)
			checkComment(t, got, tt.cut)
			// The tables have the room to name every build the plan runs,
			// each on its own row.
			for _, c := range saved.Changes {
				if c.Type == plan.TypeBuild && c.Runs() && !strings.Contains(got, "\n| "+mdCode(c.Address)+" | ") {
					t.Errorf("no table row for %s", c.Address)
				}
			}
			if tt.scenario.rotate && !strings.Contains(got, "- build_password = (sensitive)\n+ build_password = (sensitive)\n") {
				t.Errorf("the comment does not show the secret's change, masked")
			}
			// show -markdown gives the comment plan -markdown printed.
			if shown := newPlanComment(saved, "pr.plan").String(); shown != got {
				t.Errorf("show -markdown differs from plan -markdown:\n%s", cmp.Diff(got, shown))
			}
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("plan -markdown (-want +got):\n%s", diff)
			}
		})
	}
}

// leftOutRE matches the sentences that say what a comment left out.
var leftOutRE = regexp.MustCompile(`_… \d+ more builds? not shown; run ` + "`hybrid show pr.plan`" + ` for the whole plan\._|_The reasons of \d+ more builds? are not shown|_The graph shows \d+ of \d+ changed builds|_Only builds are drawn`)

// checkComment checks what every plan comment must be: within the size
// limits, its diagram too, no secret in it, and saying what it left out
// exactly when it was cut.
func checkComment(t *testing.T, comment string, cut bool) {
	t.Helper()
	if len(comment) > commentLimit {
		t.Errorf("the comment is %d bytes, over the %d limit", len(comment), commentLimit)
	}
	blocks := mermaidBlocks(comment)
	if len(blocks) != 1 {
		t.Fatalf("%d mermaid blocks, want 1", len(blocks))
	}
	if len(blocks[0]) > mermaidLimit {
		t.Errorf("the mermaid block is %d bytes, over the %d limit", len(blocks[0]), mermaidLimit)
	}
	if n := strings.Count(blocks[0], " --> "); n > mermaidEdgeLimit {
		t.Errorf("the mermaid block has %d edges, over the %d limit", n, mermaidEdgeLimit)
	}
	for _, s := range markdownSecrets {
		if strings.Contains(comment, s) {
			t.Errorf("the comment holds the secret %q", s)
		}
	}
	notes := leftOutRE.FindAllString(comment, -1)
	if cut && len(notes) == 0 {
		t.Errorf("the comment was cut but says nothing of what it left out")
	}
	if !cut && len(notes) > 0 {
		t.Errorf("the comment says it left out %q", notes)
	}
	t.Logf("comment: %d bytes, mermaid block: %d bytes, %d edges; left out: %q",
		len(comment), len(blocks[0]), strings.Count(blocks[0], " --> "), notes)
}

// mermaidBlocks returns the contents of the text's mermaid code blocks.
func mermaidBlocks(text string) []string {
	var out []string
	for {
		_, rest, ok := strings.Cut(text, "```mermaid\n")
		if !ok {
			return out
		}
		block, after, _ := strings.Cut(rest, "```\n")
		out = append(out, block)
		text = after
	}
}

func TestDetailEntry(t *testing.T) {
	secs := int64(754)
	build := &plan.Change{Address: "build.prod.linux", Type: plan.TypeBuild, Action: plan.Update, LastDurationSeconds: &secs,
		Reasons: []plan.Reason{
			{Kind: plan.ReasonFile, Input: "file templates/linux/linux.pkr.hcl", Before: "96a9d903f02b", After: "aae2a3f3ce09", Message: "file templates/linux/linux.pkr.hcl changed"},
			{Kind: plan.ReasonSensitive, Input: "var password", Before: "(sensitive)", After: "(sensitive)", Message: "sensitive value password changed"},
			{Kind: plan.ReasonSensitive, Input: "var token", After: "(sensitive)", Message: "sensitive value token added"},
		}}
	render := &plan.Change{Address: "render.prod.linux", Type: plan.TypeRender, Action: plan.Update,
		Reasons: []plan.Reason{
			{Kind: plan.ReasonVariable, Input: "var tags", Before: "{\n  a = \"1\"\n}", After: "{\n  a = \"```\"\n}", Message: "var tags changed"},
			{Kind: plan.ReasonVariable, Input: "var dropped", Before: "true", Message: "var dropped removed (was true)"},
			{Kind: plan.ReasonRenderDrift, Input: "configs/prod/linux.pkrvars.hcl", Message: "configs/prod/linux.pkrvars.hcl was edited outside hybrid"},
		}}
	drift := &plan.Change{Address: "render.dev.linux", Type: plan.TypeRender, Action: plan.Update,
		Reasons: []plan.Reason{{Kind: plan.ReasonRenderDrift, Message: "configs/dev/linux.pkrvars.hcl is missing"}}}
	failed := &plan.Change{Address: "build.dev.linux", Type: plan.TypeBuild, Action: plan.Update,
		Reasons: []plan.Reason{{Kind: plan.ReasonFailed, Message: "the last build failed: Invalid value for variable\n\n  on configs/dev/linux.pkrvars.hcl line 2:\n\nThe disk_size value must be at least 10."}}}

	tests := map[string]struct {
		n    *entry
		want string
	}{
		"build and render": {&entry{build: build, render: render}, "**`build.prod.linux`** ~ rebuild · last build took 13m\n\n" +
			"- file templates/linux/linux.pkr.hcl changed (96a9d903f02b -> aae2a3f3ce09)\n" +
			"- `render.prod.linux`: configs/prod/linux.pkrvars.hcl was edited outside hybrid\n\n" +
			"````diff\n" +
			"- password = (sensitive)\n+ password = (sensitive)\n+ token = (sensitive)\n" +
			"- tags = {\n-   a = \"1\"\n- }\n+ tags = {\n+   a = \"```\"\n+ }\n" +
			"- dropped = true\n" +
			"````\n\n"},
		"render only": {&entry{render: drift}, "**`render.dev.linux`** ~ re-render\n\n- configs/dev/linux.pkrvars.hcl is missing\n\n"},
		"packer's whole error": {&entry{build: failed}, "**`build.dev.linux`** ~ rebuild\n\n" +
			"- the last build failed: Invalid value for variable\n\n" +
			"  ```\n    on configs/dev/linux.pkrvars.hcl line 2:\n\n  The disk_size value must be at least 10.\n  ```\n\n"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, detailEntry(tt.n)); diff != "" {
				t.Errorf("wrong entry (-want +got):\n%s", diff)
			}
		})
	}

	// Long lists are cut, saying how much is left out.
	many := &plan.Change{Address: "build.dev.big", Type: plan.TypeBuild, Action: plan.Create}
	for i := range entryReasonLimit + 5 {
		many.Reasons = append(many.Reasons, plan.Reason{Kind: plan.ReasonFile, Message: fmt.Sprintf("file f%d changed", i)})
	}
	vars := &plan.Change{Address: "render.dev.big", Type: plan.TypeRender, Action: plan.Update}
	for i := range entryDiffLimit {
		vars.Reasons = append(vars.Reasons, plan.Reason{Kind: plan.ReasonVariable, Input: fmt.Sprintf("var v%d", i), Before: "1", After: "2"})
	}
	got := detailEntry(&entry{build: many, render: vars})
	for _, want := range []string{"- … and 5 more\n", fmt.Sprintf("# … and %d more lines\n", entryDiffLimit)} {
		if !strings.Contains(got, want) {
			t.Errorf("the entry does not say %q:\n%s", want, got)
		}
	}
}

// TestPlanCommentScope: the heading names the -target and -env options a
// plan was limited to, at most scopeLimit of them, so that it stays small
// however many were given.
func TestPlanCommentScope(t *testing.T) {
	p := syntheticPlan(1, false)
	p.Envs = []string{"dev"}
	for i := range 500 {
		p.Targets = append(p.Targets, fmt.Sprintf("build.dev.image-%03d", i))
	}
	got := newPlanComment(p, "").String()
	want := "Planned for `-target=build.dev.image-000` "
	if !strings.Contains(got, want) {
		t.Errorf("the comment does not start its scope with %q:\n%s", want, got)
	}
	if !strings.Contains(got, "`-target=build.dev.image-019` and 481 more only.\n") {
		t.Errorf("the scope is not cut after %d options, saying how many more:\n%s", scopeLimit, got)
	}
	if strings.Contains(got, "image-020") {
		t.Errorf("the scope names more than %d options", scopeLimit)
	}
}
