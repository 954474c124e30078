package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// TestStart starts a real server and gives each caller its own database.
func TestStart(t *testing.T) {
	srv, url := Start(t)
	other := srv.NewDatabase(t)
	if url == other {
		t.Fatal("two databases with one connection string")
	}
	ctx := context.Background()
	for _, u := range []string{url, other} {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d tables in a new database", u, n)
		}
		conn.Close(ctx)
	}
}
