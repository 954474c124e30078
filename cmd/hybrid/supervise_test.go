package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builtHybrid is the hybrid binary the supervision tests run as a separate
// process (so it can be killed with SIGKILL), built once per test binary.
var builtHybrid struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// hybridBinary builds hybrid with go build, once, into a temporary
// directory that TestMain removes.
func hybridBinary(t testing.TB) string {
	t.Helper()
	b := &builtHybrid
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "hybrid-bin-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "hybrid")
		cmd := exec.Command("go", "build", "-o", b.path, ".")
		b.out, b.err = cmd.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build hybrid: %v\n%s", b.err, b.out)
	}
	return b.path
}

// removeBuiltHybrid removes what hybridBinary built.
func removeBuiltHybrid() {
	if builtHybrid.dir != "" {
		os.RemoveAll(builtHybrid.dir)
	}
}
