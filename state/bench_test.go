package state_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hybridcore/hybrid/state"
)

// BenchmarkLocalWrite measures one state write: read and check the stored
// state, write the backup and the new state, each with fsync and a directory
// fsync.
func BenchmarkLocalWrite(b *testing.B) {
	l := state.NewLocal(b.TempDir() + "/packer-hybrid.json")
	s := goldenState()
	s.Serial = 0
	if err := l.Write(s); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := l.Write(s); err != nil {
			b.Fatal(err)
		}
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
