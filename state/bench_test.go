package state_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/statetest"
)

// BenchmarkLocalWrite measures one state write: read and check the stored
// state, write the backup and the new state, each with fsync and a directory
// fsync.
func BenchmarkLocalWrite(b *testing.B) {
	l := state.NewLocal(b.TempDir() + "/packer-hybrid.json")
	s := goldenState()
	s.Serial = 0
	if err := l.Write(context.Background(), s, false); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := l.Write(context.Background(), s, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordBuild measures what apply pays to record one build's
// result (Manager.PutBuild on the local backend, which holds the lock: one
// journal append with its fsync, and the compactions it triggers, spread
// over the commits), with 100 to 10,000 builds already in the state. It
// must not grow with the state. The state lives under $HYBRID_BENCH_DIR
// when set, so that fsync reaches a real disk if the temp dir is tmpfs.
func BenchmarkRecordBuild(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("builds=%d", n), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			if d := os.Getenv("HYBRID_BENCH_DIR"); d != "" {
				var err error
				if dir, err = os.MkdirTemp(d, "bench-"); err != nil {
					b.Fatal(err)
				}
				defer os.RemoveAll(dir)
			}
			l := state.NewLocal(filepath.Join(dir, "packer-hybrid.json"))
			s := state.New()
			for i := range n {
				addr, rec, trees := statetest.BenchBuild(i, 0)
				s.Builds[addr] = rec
				if s.Trees == nil {
					s.Trees = map[string]map[string]string{}
				}
				maps.Copy(s.Trees, trees)
			}
			if err := l.Write(ctx, s, false); err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(l.Path())
			if err != nil {
				b.Fatal(err)
			}
			id, err := l.Lock(ctx, state.LockInfo{Operation: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Unlock(id)
			m, err := state.NewManager(ctx, l)
			if err != nil {
				b.Fatal(err)
			}
			round := 1
			i := 0
			for b.Loop() {
				// Rebuild the builds in turn, each with a changed
				// template: its old tree goes, a new one comes.
				addr, rec, trees := statetest.BenchBuild(i, round)
				if err := m.PutBuild(addr, rec, trees); err != nil {
					b.Fatal(err)
				}
				if i++; i == n {
					i, round = 0, round+1
				}
			}
			b.ReportMetric(float64(fi.Size())/1e6, "snapshot-MB")
		})
	}
}

// BenchmarkLocalLockUnlock measures taking and releasing a free lock.
func BenchmarkLocalLockUnlock(b *testing.B) {
	l := state.NewLocal(b.TempDir() + "/packer-hybrid.json")
	for b.Loop() {
		id, err := l.Lock(context.Background(), state.LockInfo{Operation: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Unlock(id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode and BenchmarkDecode measure the codec on a state with 500
// renders and 500 builds.
func BenchmarkEncode(b *testing.B) {
	s := bigState()
	for b.Loop() {
		if _, err := state.Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data, err := state.Encode(bigState())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := state.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func bigState() *state.State {
	s := goldenState()
	r, bd := s.Renders["render.prod.ubuntu"], s.Builds["build.prod.ubuntu"]
	for i := range 500 {
		env, image := fmt.Sprintf("env%d", i%10), fmt.Sprintf("image%d", i)
		rc, bc := *r, *bd
		rc.Env, rc.Image, bc.Env, bc.Image = env, image, env, image
		s.Renders[state.RenderAddr(env, image)] = &rc
		s.Builds[state.BuildAddr(env, image)] = &bc
	}
	return s
}
