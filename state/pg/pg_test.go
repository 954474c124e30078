package pg

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/hybridcore/hybrid/internal/pgtest"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/statetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// open returns a client of the hybrid schema in the database at connStr,
// closed when the test ends.
func open(t testing.TB, connStr string) *Backend {
	t.Helper()
	b, err := Open(context.Background(), connStr, "hybrid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// TestConformance runs the backend conformance suite against a real
// PostgreSQL server; the second client is another connection pool, as
// another runner would have.
func TestConformance(t *testing.T) {
	conns := map[state.Backend]string{}
	statetest.TestBackend(t, func(t *testing.T) state.Backend {
		_, connStr := pgtest.Start(t)
		b := open(t, connStr)
		conns[b] = connStr
		return b
	}, func(t *testing.T, b state.Backend) state.Backend {
		return open(t, conns[b])
	})
}

// TestPasswordNeverShown checks that a connection string's password stays
// out of every error Open returns.
func TestPasswordNeverShown(t *testing.T) {
	for _, c := range []string{
		"postgres://hybrid:S3cretPassw0rd@127.0.0.1:1/nodb?sslmode=disable&connect_timeout=1",
		"host=127.0.0.1 port=1 user=hybrid password=S3cretPassw0rd dbname=nodb connect_timeout=1",
		"postgres://hybrid:S3cretPassw0rd@127.0.0.1:notaport/nodb",
	} {
		_, err := Open(context.Background(), c, "hybrid")
		if err == nil {
			t.Fatalf("Open(%q) succeeded", c)
		}
		if strings.Contains(err.Error(), "S3cretPassw0rd") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestSchemaNames(t *testing.T) {
	for _, bad := range []string{"", "Hybrid", "a-b", "x; DROP TABLE y", strings.Repeat("a", 64)} {
		if _, err := Open(context.Background(), "postgres://127.0.0.1:1/x", bad); err == nil || !strings.Contains(err.Error(), "invalid schema name") {
			t.Errorf("schema %q: %v, want invalid schema name", bad, err)
		}
	}
}

// TestForceUnlockedHolderWritesNothing: once another client force-unlocks
// the lock this one holds, its commits are refused and the state keeps
// what it had.
func TestForceUnlockedHolderWritesNothing(t *testing.T) {
	ctx := context.Background()
	_, conn := pgtest.Start(t)
	a, b := open(t, conn), open(t, conn)
	id, err := a.Lock(ctx, state.LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr, rec, trees := statetest.BenchBuild(0, 0)
	serial, err := a.Commit(ctx, st.Lineage, st.Serial, &state.Change{Builds: map[string]*state.Build{addr: rec}, Trees: trees})
	if err != nil {
		t.Fatalf("commit under the lock: %v", err)
	}
	if err := b.ForceUnlock(ctx, id); err != nil {
		t.Fatalf("force-unlock from another client: %v", err)
	}
	addr2, rec2, trees2 := statetest.BenchBuild(1, 0)
	_, err = a.Commit(ctx, st.Lineage, serial, &state.Change{Builds: map[string]*state.Build{addr2: rec2}, Trees: trees2})
	if err == nil {
		t.Fatal("a commit after the lock was force-unlocked succeeded")
	}
	got, err := b.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != serial || got.Builds[addr] == nil || got.Builds[addr2] != nil {
		t.Errorf("after the refused commit: serial %d (want %d), builds %v", got.Serial, serial, sortedKeys(got.Builds))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
