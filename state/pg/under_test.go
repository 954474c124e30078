package pg

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hybridcore/hybrid/internal/pgtest"
	"github.com/hybridcore/hybrid/state"
)

// TestUnder checks writes under another client's lock: accepted while that
// lock is held by a live session, refused with a *LockGoneError once it is
// released or its session ends, or when a fence says no; and two shared
// Managers committing in turn keep each other's records.
func TestUnder(t *testing.T) {
	ctx := context.Background()
	_, connStr := pgtest.Start(t)
	holder := open(t, connStr)
	id, err := holder.Lock(ctx, state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	coord, err := state.NewManager(ctx, holder)
	if err != nil {
		t.Fatal(err)
	}
	coord.SetShared(true)
	if err := coord.PutSource("a", &state.Source{URL: "https://example.invalid/a.git", Commit: "1111"}); err != nil {
		t.Fatal(err)
	}

	worker := open(t, connStr)
	if err := worker.CheckLock(ctx, id); err != nil {
		t.Fatalf("CheckLock of the held lock: %v", err)
	}
	w, err := state.NewManager(ctx, worker.Under(id, nil))
	if err != nil {
		t.Fatal(err)
	}
	w.SetShared(true)
	// The coordinator commits after the worker read: the worker's
	// commit meets a moved serial, reads again and keeps both.
	if err := coord.PutSource("b", &state.Source{URL: "https://example.invalid/b.git", Commit: "2222"}); err != nil {
		t.Fatal(err)
	}
	build := &state.Build{Status: state.StatusSucceeded, Fingerprint: "sha256:ff", Inputs: map[string]string{"template": "sha256:t1"}}
	if err := w.PutBuild("build.prod.linux-a", build, map[string]map[string]string{"sha256:t1": {"a.pkr.hcl": "sha256:aa"}}); err != nil {
		t.Fatalf("commit under the held lock: %v", err)
	}
	// The coordinator, now behind, commits again: its manager reads
	// the worker's build and must not prune the tree it reads.
	if err := coord.PutSource("c", &state.Source{URL: "https://example.invalid/c.git", Commit: "3333"}); err != nil {
		t.Fatal(err)
	}
	st, err := holder.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Sources) != 3 || st.Builds["build.prod.linux-a"] == nil || st.Trees["sha256:t1"] == nil {
		t.Fatalf("records lost: sources %v, builds %v, trees %v", st.Sources, st.Builds, st.Trees)
	}

	var gone *LockGoneError
	other, err := state.NewManager(ctx, worker.Under("not-the-lock", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.PutSource("x", &state.Source{URL: "https://example.invalid/x.git"}); !errors.As(err, &gone) {
		t.Errorf("commit under another lock ID: %v, want a LockGoneError", err)
	}
	fenced, err := state.NewManager(ctx, worker.Under(id, func(context.Context, pgx.Tx) error { return errors.New("not my job") }))
	if err != nil {
		t.Fatal(err)
	}
	if err := fenced.PutSource("x", &state.Source{URL: "https://example.invalid/x.git"}); err == nil || err.Error() != "not my job" {
		t.Errorf("commit refused by the fence: %v", err)
	}

	// The holder's session dies (as when its process is killed): the
	// lock is gone although its row is still there.
	var pid int32
	if err := holder.pool.QueryRow(ctx, "SELECT pid FROM "+holder.t("lock")).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := worker.pool.Exec(ctx, "SELECT pg_terminate_backend($1, 10000)", pid); err != nil {
		t.Fatal(err)
	}
	if err := worker.CheckLock(ctx, id); !errors.As(err, &gone) {
		t.Errorf("CheckLock after the holder's session ended: %v, want a LockGoneError", err)
	}
	if err := w.PutSource("y", &state.Source{URL: "https://example.invalid/y.git"}); !errors.As(err, &gone) {
		t.Errorf("commit after the holder's session ended: %v, want a LockGoneError", err)
	}
}
