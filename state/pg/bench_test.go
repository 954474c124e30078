package pg

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"github.com/hybridcore/hybrid/internal/pgtest"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/statetest"
)

// BenchmarkRecordBuild measures what apply pays to record one build's
// result on the pg backend (Manager.PutBuild under the lock: one
// transaction that checks lineage and serial and upserts the build and its
// template tree, deleting the tree it replaces), with 100 to 10,000 builds
// already in the state, against a real PostgreSQL on loopback. It must not
// grow with the state.
func BenchmarkRecordBuild(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("builds=%d", n), func(b *testing.B) {
			ctx := context.Background()
			_, conn := pgtest.Start(b)
			be := open(b, conn)
			s := state.New()
			s.Trees = map[string]map[string]string{}
			for i := range n {
				addr, rec, trees := statetest.BenchBuild(i, 0)
				s.Builds[addr] = rec
				maps.Copy(s.Trees, trees)
			}
			if err := be.Write(ctx, s, false); err != nil {
				b.Fatal(err)
			}
			id, err := be.Lock(ctx, state.LockInfo{Operation: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer be.Unlock(id)
			m, err := state.NewManager(ctx, be)
			if err != nil {
				b.Fatal(err)
			}
			round, i := 1, 0
			for b.Loop() {
				addr, rec, trees := statetest.BenchBuild(i, round)
				if err := m.PutBuild(addr, rec, trees); err != nil {
					b.Fatal(err)
				}
				if i++; i == n {
					i, round = 0, round+1
				}
			}
		})
	}
}
