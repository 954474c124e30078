package graph_test

import (
	"context"
	"fmt"

	"github.com/hybridcore/hybrid/graph"
)

// The parallelism limit lives in the callback: Walk starts a goroutine for
// every ready vertex, and each one waits here for one of the N slots. A
// callback waiting for a slot returns ctx.Err() when the walk is cancelled,
// which Walk records as Cancelled rather than Failed.
func ExampleGraph_Walk() {
	source := graph.String("source.examples")
	render := graph.String("render.prod.ubuntu")
	base := graph.String("build.prod.ubuntu")
	app := graph.String("build.prod.app")
	win := graph.String("build.prod.windows")

	g := graph.New()
	for _, v := range []graph.Vertex{source, render, base, app, win} {
		g.Add(v)
	}
	g.Connect(render, source)
	g.Connect(base, render)
	g.Connect(base, source)
	g.Connect(app, base)
	g.Connect(win, source)

	const parallelism = 2
	slots := make(chan struct{}, parallelism)

	res := g.Walk(context.Background(), func(ctx context.Context, v graph.Vertex) error {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-ctx.Done():
			return ctx.Err()
		}
		if v.Name() == "build.prod.ubuntu" {
			return fmt.Errorf("packer build exited with status 1")
		}
		return nil // the real work: sync a source, render var files, run packer
	})

	for _, v := range g.Vertices() {
		r := res.Results[v.Name()]
		fmt.Println(v.Name(), r.Outcome, r.RootCauses)
	}
	fmt.Println(res.Err())
	// Output:
	// build.prod.app skipped [build.prod.ubuntu]
	// build.prod.ubuntu failed []
	// build.prod.windows succeeded []
	// render.prod.ubuntu succeeded []
	// source.examples succeeded []
	// build.prod.ubuntu: packer build exited with status 1
}

func ExampleGraph_Validate() {
	a, b, c := graph.String("build.prod.a"), graph.String("build.prod.b"), graph.String("build.prod.c")
	g := graph.New()
	g.Add(a)
	g.Add(b)
	g.Add(c)
	g.Connect(a, b)
	g.Connect(b, a)
	g.Connect(c, graph.String("source.missing"))
	fmt.Println(g.Validate())
	// Output:
	// cycle: build.prod.a -> build.prod.b -> build.prod.a
	// edge build.prod.c -> source.missing: vertex source.missing was never added to the graph
}
