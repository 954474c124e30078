package main

import (
	"context"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hybridcore/hybrid/state"
)

func init() {
	scriptCmds["locked"] = cmdLocked
}

// cmdLocked takes the lock of the state file at the given path and holds
// it until the script ends, as a running apply would: locked PATH.
func cmdLocked(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: locked STATEFILE")
	}
	b := state.NewLocal(ts.MkAbs(args[0]))
	id, err := b.Lock(context.Background(), state.LockInfo{Operation: "apply", Who: "someone@ci"})
	ts.Check(err)
	ts.Defer(func() { b.Unlock(id) })
}
