package graph

import (
	"context"
	"fmt"
	"testing"
)

// The benchmark graph has the shape of a large workspace: 3,000 vertices
// and 6,000 edges, each vertex depending on two earlier ones.
const (
	benchVertices = 3000
	benchDegree   = 2
)

func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		layered(benchVertices, benchDegree, 7)
	}
}

func BenchmarkValidate(b *testing.B) {
	g := layered(benchVertices, benchDegree, 7)
	b.ResetTimer()
	for b.Loop() {
		if err := g.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTopologicalOrder(b *testing.B) {
	g := layered(benchVertices, benchDegree, 7)
	b.ResetTimer()
	for b.Loop() {
		if _, err := g.TopologicalOrder(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWalk(b *testing.B) {
	g := layered(benchVertices, benchDegree, 7)
	b.ResetTimer()
	for b.Loop() {
		if err := g.Walk(context.Background(), func(context.Context, Vertex) error { return nil }).Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipeline is everything a plan-and-apply run does with the graph:
// build it, validate it, order it, walk it, draw it.
func BenchmarkPipeline(b *testing.B) {
	for b.Loop() {
		g := layered(benchVertices, benchDegree, 7)
		if err := g.Validate(); err != nil {
			b.Fatal(err)
		}
		if _, err := g.TopologicalOrder(); err != nil {
			b.Fatal(err)
		}
		if err := g.Walk(context.Background(), func(context.Context, Vertex) error { return nil }).Err(); err != nil {
			b.Fatal(err)
		}
		_ = g.Mermaid(RenderOptions{})
	}
}

// BenchmarkValidateCyclic measures a graph whose 3,000 vertices form one
// large ring, the worst case for cycle reporting short of a dense tangle.
func BenchmarkValidateCyclic(b *testing.B) {
	g := layered(benchVertices, benchDegree, 7)
	first, last := String(fmt.Sprintf("v%05d", 0)), String(fmt.Sprintf("v%05d", benchVertices-1))
	g.Connect(first, last)
	b.ResetTimer()
	for b.Loop() {
		if g.Validate() == nil {
			b.Fatal("cycle not found")
		}
	}
}
