package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridcore/hybrid/plan"
)

func TestShare(t *testing.T) {
	tests := map[string]struct {
		budget           int
		demands, weights []int
		want             []int
	}{
		"everything fits":        {100, []int{10, 20, 30}, []int{2, 1, 1}, []int{10, 20, 30}},
		"nothing fits":           {100, []int{100, 100, 100}, []int{2, 1, 1}, []int{50, 25, 25}},
		"a small one gives back": {100, []int{100, 10, 100}, []int{2, 1, 1}, []int{60, 10, 30}},
		// The first round satisfies the 10 (shares 50:25:25); the
		// second shares 90 as 60:30, which satisfies the 28; the first
		// gets the remaining 62.
		"three rounds": {100, []int{100, 10, 28}, []int{2, 1, 1}, []int{62, 10, 28}},
		"empty demand": {100, []int{0, 0, 500}, []int{2, 1, 1}, []int{0, 0, 100}},
		"no budget":    {0, []int{5, 5, 5}, []int{2, 1, 1}, []int{0, 0, 0}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := share(tt.budget, tt.demands, tt.weights)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrong shares (-want +got):\n%s", diff)
			}
			sum := 0
			for _, n := range got {
				sum += n
			}
			if sum > tt.budget {
				t.Errorf("shares add up to %d, over the budget %d", sum, tt.budget)
			}
		})
	}
}

func TestPack(t *testing.T) {
	one, two, three := strings.Repeat("1", 20), strings.Repeat("2", 20), strings.Repeat("3", 20)
	groups := []group{
		{open: "<a>", close: "</a>", items: []item{{one, plan.TypeBuild}, {two, plan.TypeBuild}}},
		{open: "<b>", close: "</b>", items: []item{{three, plan.TypeSource}}},
	}
	note := func(left tally) string { return "[" + left.String() + "]" }
	all := "<a>" + one + two + "</a><b>" + three + "</b>" // 74 bytes
	// An item is added only with room for its group's closing tag and the
	// note of what is left after it: the first needs 3 + 20 + 4 + 32
	// ("[1 more build and 1 more source]") = 59 bytes, the second 23 more
	// + 4 + 15 ("[1 more source]") = 62, and the third only fits with all.
	tests := map[string]struct {
		budget int
		want   string
	}{
		"all":                {100, all},
		"exactly all":        {74, all},
		"cut inside a group": {61, "<a>" + one + "</a>[1 more build and 1 more source]"},
		"cut at a group":     {73, "<a>" + one + two + "</a>[1 more source]"},
		"only the note":      {58, "[2 more builds and 1 more source]"},
		"not even the note":  {32, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := pack(groups, tt.budget, note)
			if got != tt.want {
				t.Errorf("pack(%d) = %q, want %q", tt.budget, got, tt.want)
			}
			if len(got) > tt.budget {
				t.Errorf("pack(%d) is %d bytes", tt.budget, len(got))
			}
		})
	}
}

// syntheticPlan is a plan of n images in three environments, each build
// after its render and, when derived, every fifth image's base, with long
// reasons and a variable diff: large enough, at n = 1000, to break every
// limit.
func syntheticPlan(n int, derived bool) *plan.Plan {
	p := &plan.Plan{}
	secs := int64(600)
	for i := range n {
		img := fmt.Sprintf("linux-image-%04d", i)
		for _, env := range []string{"dev", "prod", "stage"} {
			build := &plan.Change{Address: "build." + env + "." + img, Type: plan.TypeBuild, Env: env, Image: img,
				Action: plan.Update, LastDurationSeconds: &secs, DependsOn: []string{"render." + env + "." + img}}
			if derived && i%5 != 0 {
				build.DependsOn = append(build.DependsOn, fmt.Sprintf("build.%s.linux-image-%04d", env, i-i%5))
			}
			for f := range 3 {
				build.Reasons = append(build.Reasons, plan.Reason{Kind: plan.ReasonFile, Before: "96a9d903f02b", After: "aae2a3f3ce09",
					Message: fmt.Sprintf("file templates/%s/scripts/provision-step-%d.sh changed", img, f)})
			}
			render := &plan.Change{Address: "render." + env + "." + img, Type: plan.TypeRender, Env: env, Image: img, Action: plan.Update,
				Reasons: []plan.Reason{{Kind: plan.ReasonVariable, Input: "var vm_mem_size", Before: "2048", After: "4096", Message: "var vm_mem_size 2048 -> 4096"}}}
			p.Changes = append(p.Changes, build, render)
		}
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].Address < p.Changes[j].Address })
	p.Summary = plan.Summary{Rebuild: 3 * n, Render: 3 * n}
	p.Estimate = &plan.Estimate{BuildSeconds: secs * int64(3*n), WallSeconds: secs * int64(3*n) / 4, Parallelism: 4}
	return p
}

// TestPlanCommentLimits renders plans from one build to 3,000 at the
// standard limits and with room for a larger comment: the comment, its
// diagram and the diagram's edges stay within their limits, and a comment
// that leaves something out says so.
func TestPlanCommentLimits(t *testing.T) {
	for _, n := range []int{1, 40, 1000} {
		p := syntheticPlan(n, true)
		for _, limit := range []int{commentLimit, 1 << 24} {
			t.Run(fmt.Sprintf("%d builds, limit %d", 3*n, limit), func(t *testing.T) {
				pc := newPlanComment(p, "pr.plan")
				pc.limit = limit
				got := pc.String()
				if len(got) > limit {
					t.Errorf("the comment is %d bytes, over %d", len(got), limit)
				}
				blocks := mermaidBlocks(got)
				if len(blocks) != 1 {
					t.Fatalf("%d mermaid blocks, want 1", len(blocks))
				}
				if len(blocks[0]) > mermaidLimit {
					t.Errorf("the diagram is %d bytes, over %d", len(blocks[0]), mermaidLimit)
				}
				if edges := strings.Count(blocks[0], " --> "); edges > mermaidEdgeLimit {
					t.Errorf("the diagram has %d edges, over %d", edges, mermaidEdgeLimit)
				}
				shownRows := strings.Count(got, "| ~ rebuild |")
				shownNodes := strings.Count(blocks[0], `["`)
				if shownRows < 3*n && !strings.Contains(got, fmt.Sprintf("_… %d more builds not shown;", 3*n-shownRows)) {
					t.Errorf("%d of %d rows shown, and no note says how many are not", shownRows, 3*n)
				}
				if shownNodes < 6*n && !strings.Contains(got, "_The graph shows ") && !strings.Contains(got, "_Only builds are drawn") {
					t.Errorf("%d of %d nodes drawn, and no note says so", shownNodes, 6*n)
				}
				t.Logf("%d bytes; %d of %d rows; diagram %d bytes, %d of %d nodes", len(got), shownRows, 3*n, len(blocks[0]), shownNodes, 6*n)
			})
		}
	}
}

// TestPlanCommentDiagramLimits gives the diagram all the room it could
// want, so that Mermaid's own limits bind: 3,000 derived builds have more
// edges than Mermaid draws, 3,000 independent ones more text.
func TestPlanCommentDiagramLimits(t *testing.T) {
	tests := map[string]struct {
		derived bool
		// check says which limit the diagram reached.
		check func(diagram string) error
	}{
		"edges": {true, func(d string) error {
			if n := strings.Count(d, " --> "); n > mermaidEdgeLimit || n < mermaidEdgeLimit-5 {
				return fmt.Errorf("%d edges, want just under %d", n, mermaidEdgeLimit)
			}
			return nil
		}},
		"text": {false, func(d string) error {
			if len(d) > mermaidLimit || len(d) < mermaidLimit-100 {
				return fmt.Errorf("%d bytes, want just under %d", len(d), mermaidLimit)
			}
			return nil
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			pc := newPlanComment(syntheticPlan(1000, tt.derived), "pr.plan")
			pc.limit = 1 << 24
			got := pc.String()
			blocks := mermaidBlocks(got)
			if len(blocks) != 1 {
				t.Fatalf("%d mermaid blocks, want 1", len(blocks))
			}
			if err := tt.check(blocks[0]); err != nil {
				t.Error(err)
			}
			if !strings.Contains(got, "_The graph shows ") {
				t.Error("the comment does not say which builds the graph leaves out")
			}
		})
	}
}
