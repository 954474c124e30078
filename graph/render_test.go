package graph

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hybridcore/hybrid/internal/atomicfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// planVertex is a vertex as a plan would draw it: an action and a reason.
type planVertex struct {
	name, action, reason string
}

func (v planVertex) Name() string { return v.name }

func planGraph() (*Graph, RenderOptions) {
	vs := map[string]planVertex{}
	add := func(name, action, reason string) {
		vs[name] = planVertex{name, action, reason}
	}
	add("source.examples", "no-op", "")
	add("source.plugins-vsphere", "update", "source plugins-vsphere 1a2b3c -> 4d5e6f")
	add("render.prod.ubuntu-22-04", "update", "var vm_mem_size 2048 -> 4096")
	add("render.prod.windows-2022", "no-op", "")
	add("build.prod.ubuntu-22-04", "update", `template file "ubuntu.pkr.hcl" changed`)
	add("build.prod.app-server", "update", "base image build.prod.ubuntu-22-04 will be rebuilt")
	add("build.prod.windows-2022", "create", "new image <windows> & friends")
	add("build.prod.legacy", "delete", "no longer in hybrid.hcl")

	g := New()
	for _, v := range vs {
		g.Add(v)
	}
	connect := func(from, to string) { g.Connect(vs[from], vs[to]) }
	connect("render.prod.ubuntu-22-04", "source.examples")
	connect("render.prod.windows-2022", "source.examples")
	connect("build.prod.ubuntu-22-04", "render.prod.ubuntu-22-04")
	connect("build.prod.ubuntu-22-04", "source.examples")
	connect("build.prod.ubuntu-22-04", "source.plugins-vsphere")
	connect("build.prod.app-server", "build.prod.ubuntu-22-04")
	connect("build.prod.windows-2022", "render.prod.windows-2022")
	connect("build.prod.windows-2022", "source.examples")

	opts := RenderOptions{
		Title: "hybrid plan: prod",
		Annotate: func(v Vertex) string {
			pv := v.(planVertex)
			if pv.reason == "" {
				return pv.action
			}
			return pv.action + ": " + pv.reason
		},
		Class: func(v Vertex) string { return v.(planVertex).action },
		Classes: map[string]Style{
			"create": {Fill: "#d4edda", Stroke: "#28a745", Color: "#155724"},
			"update": {Fill: "#fff3cd", Stroke: "#ffc107", Color: "#856404"},
			"delete": {Fill: "#f8d7da", Stroke: "#dc3545", Color: "#721c24", Dashed: true},
			"no-op":  {Stroke: "#6c757d", Color: "#6c757d"},
		},
	}
	return g, opts
}

func TestRenderGolden(t *testing.T) {
	g, opts := planGraph()
	bare := newGraph(t, []string{"c"}, "a -> b")
	tests := []struct {
		file string
		got  string
	}{
		{"plan.dot", g.DOT(opts)},
		{"plan.mmd", g.Mermaid(opts)},
		{"bare.dot", bare.DOT(RenderOptions{})},
		{"bare.mmd", bare.Mermaid(RenderOptions{})},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			golden(t, tt.file, tt.got)
		})
	}
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := atomicfile.Write(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; run go test -run %s -update to create it", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s\nrun go test -update if the change is intended", path, diff)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	first, opts := planGraph()
	for range 5 {
		g, _ := planGraph()
		if g.DOT(opts) != first.DOT(opts) || g.Mermaid(opts) != first.Mermaid(opts) {
			t.Fatal("rendering the same graph twice gave different text")
		}
	}
}

func TestMermaidIDs(t *testing.T) {
	got := mermaidIDs([]string{"a-b", "a.b", "a_b", "a_b_2", "end", "ö", "o", "x", "1"})
	want := map[string]string{
		"a-b":   "n_a_b",
		"a.b":   "n_a_b_2",
		"a_b":   "n_a_b_3",
		"a_b_2": "n_a_b_2_2",
		"end":   "n_end",
		"ö":     "n__",
		"o":     "n_o",
		"x":     "n_x",
		"1":     "n_1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrong ids (-want +got):\n%s", diff)
	}
}

func TestRenderEscaping(t *testing.T) {
	g := New()
	weird := String("build.\"q\"\\n.#1 <b>&`x`\nnext")
	g.Add(weird)
	opts := RenderOptions{
		Annotate: func(Vertex) string { return "why: \"this\"" },
		Class:    func(Vertex) string { return "bad class;name" },
		Classes:  map[string]Style{"bad class;name": {Fill: "red;}\n classDef x"}},
	}

	mmd := g.Mermaid(opts)
	wantMmd := "flowchart RL\n" +
		"    classDef bad_class_name fill:redclassDefx\n" +
		"    n_build__q__n__1__b___x__next[\"build.#quot;q#quot;\\n.#35;1 #lt;b#gt;#amp;#96;x#96;<br/>next<br/>why: #quot;this#quot;\"]:::bad_class_name\n"
	if diff := cmp.Diff(wantMmd, mmd); diff != "" {
		t.Errorf("wrong Mermaid (-want +got):\n%s", diff)
	}

	dot := g.DOT(opts)
	wantNode := `	"build.\"q\"\\n.#1 <b>&` + "`x`" + `\nnext" [label = "build.\"q\"\\n.#1 <b>&` + "`x`" + `\nnext\nwhy: \"this\"", class = "bad_class_name", style = "filled", fillcolor = "redclassDefx"]`
	if !strings.Contains(dot, wantNode+"\n") {
		t.Errorf("DOT lacks the escaped node line %s\ngot:\n%s", wantNode, dot)
	}
}

var mermaidNodeLine = regexp.MustCompile(`^    (n_[A-Za-z0-9_]*)\["[^"\n]*"\](:::[A-Za-z_][A-Za-z0-9_]*)?$`)

// checkMermaid reports lines of a rendered flowchart that do not parse as a
// node, an edge or a classDef, and duplicate node ids.
func checkMermaid(t testing.TB, g *Graph, text string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if lines[0] != "flowchart RL" {
		t.Fatalf("first line %q", lines[0])
	}
	nodes := map[string]bool{}
	edgeLine := regexp.MustCompile(`^    (n_[A-Za-z0-9_]*) --> (n_[A-Za-z0-9_]*)$`)
	for _, l := range lines[1:] {
		if m := mermaidNodeLine.FindStringSubmatch(l); m != nil {
			if nodes[m[1]] {
				t.Errorf("duplicate node id %s", m[1])
			}
			nodes[m[1]] = true
			continue
		}
		if m := edgeLine.FindStringSubmatch(l); m != nil {
			if !nodes[m[1]] || !nodes[m[2]] {
				t.Errorf("edge to undeclared node: %q", l)
			}
			continue
		}
		if strings.HasPrefix(l, "    classDef ") {
			continue
		}
		t.Errorf("unexpected line %q in\n%s", l, text)
	}
	if len(nodes) != g.Len() {
		t.Errorf("%d nodes drawn, graph has %d", len(nodes), g.Len())
	}
}

func TestMermaidShape(t *testing.T) {
	g, opts := planGraph()
	checkMermaid(t, g, g.Mermaid(RenderOptions{Annotate: opts.Annotate, Class: opts.Class, Classes: opts.Classes}))
}

func TestMermaidShortIDs(t *testing.T) {
	g := newGraph(t, []string{"render.dev.a"}, "build.dev.b -> build.dev.a")
	got := g.Mermaid(RenderOptions{ShortIDs: true, Class: func(v Vertex) string { return "update" }})
	want := `flowchart RL
    n0["build.dev.a"]:::update
    n1["build.dev.b"]:::update
    n2["render.dev.a"]:::update
    n1 --> n0
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrong text (-want +got):\n%s", diff)
	}
}
