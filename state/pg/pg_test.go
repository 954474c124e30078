package pg

import (
	"context"
	"os"
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
