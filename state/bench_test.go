package state_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hybridcore/hybrid/state"
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
				addr, rec, trees := benchBuild(i, 0)
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
				addr, rec, trees := benchBuild(i, round)
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

// benchBuild is a build as apply records it: a dozen inputs, one of them
// its own template tree of ten files, and an artifact.
func benchBuild(i, round int) (string, *state.Build, map[string]map[string]string) {
	env, image := fmt.Sprintf("env%d", i%4), fmt.Sprintf("image-%05d", i)
	digest := func(what string) string {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d/%d", what, i, round)))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	tree := digest("template")
	files := map[string]string{}
	for f := range 10 {
		files[fmt.Sprintf("templates/%s/file%d.pkr.hcl", image, f)] = digest(fmt.Sprintf("file%d", f))
	}
	inputs := map[string]string{"template": tree, "render": digest("render"), "packer": "1.9.4"}
	for k := range 9 {
		inputs[fmt.Sprintf("file:scripts/step%d.sh", k)] = digest(fmt.Sprintf("script%d", k))
	}
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	rec := &state.Build{
		Env: env, Image: image, Fingerprint: digest("fingerprint"), Inputs: inputs, Status: state.StatusSucceeded,
		Artifacts: []state.Artifact{{BuilderID: "packer.file", ID: image, String: "Stored file: output/" + image + ".txt",
			Files: []string{"output/" + env + "/" + image + ".txt"}}},
		ManifestDigest: digest("manifest"), PackerRunUUID: "9b1f7a52-8c0e-4f5e-a6a3-0d4c2b1e7f90",
		Started: at, Finished: at.Add(time.Minute), Duration: time.Minute,
		LogPath: "logs/" + env + "/" + image + "/20240506T070809.000Z.log",
	}
	return state.BuildAddr(env, image), rec, map[string]map[string]string{tree: files}
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
