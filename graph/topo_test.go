package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTopologicalOrder(t *testing.T) {
	tests := []struct {
		name     string
		vertices []string
		edges    []string
		want     []string
		wantErr  string
	}{
		{
			name: "empty",
			want: []string{},
		},
		{
			name:     "independent vertices by name",
			vertices: []string{"c", "a", "b"},
			want:     []string{"a", "b", "c"},
		},
		{
			name:  "chain",
			edges: []string{"a -> b", "b -> c"},
			want:  []string{"c", "b", "a"},
		},
		{
			name:  "diamond",
			edges: []string{"top -> left", "top -> right", "left -> bottom", "right -> bottom"},
			want:  []string{"bottom", "left", "right", "top"},
		},
		{
			name: "ties broken by name as vertices become ready",
			edges: []string{
				"build.prod.app -> render.prod.app", "build.prod.app -> source.ex",
				"render.prod.app -> source.ex", "build.dev.app -> source.ex",
				"a.first -> z.last",
			},
			want: []string{"source.ex", "build.dev.app", "render.prod.app", "build.prod.app", "z.last", "a.first"},
		},
		{
			name:    "cycle",
			edges:   []string{"a -> b", "b -> a"},
			wantErr: "cycle: a -> b -> a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order, err := newGraph(t, tt.vertices, tt.edges...).TopologicalOrder()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(order)); diff != "" {
				t.Errorf("wrong order (-want +got):\n%s", diff)
			}
		})
	}
}
