// Package pgtest starts a real PostgreSQL server for tests: an unprivileged
// cluster in a temporary directory, listening on a loopback port, made with
// the initdb and pg_ctl of the machine's PostgreSQL (Debian's postgresql
// package), and stopped when the tests end. Each test gets a database of
// its own.
//
// Tests that need it call Start; a package's TestMain calls Stop after the
// tests. Without PostgreSQL installed, Start skips the test, or fails it
// when CI=true (.ci/run installs the package first).
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL cluster.
type Server struct {
	// Port is the loopback TCP port it listens on.
	Port int
	// Dir holds the cluster's data directory, socket and log.
	Dir string

	bin    string   // directory of initdb, pg_ctl, postgres
	runAs  []string // command prefix that drops root privileges, if any
	dbs    atomic.Int64
	stopMu sync.Mutex
	done   bool
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Start returns the package's shared server, starting it on first use, and
// a connection string for a new, empty database of this test's own.
func Start(t testing.TB) (*Server, string) {
	t.Helper()
	srv, err := Shared()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required for this test: %v", err)
		}
		t.Skipf("PostgreSQL is not available: %v", err)
	}
	return srv, srv.NewDatabase(t)
}

// Shared returns the package's shared server, starting it on first use,
// for callers without a testing.TB (testscript commands).
func Shared() (*Server, error) {
	sharedOnce.Do(func() { shared, sharedErr = start() })
	return shared, sharedErr
}

// Stop stops the shared server, if one was started. Call it from TestMain
// after m.Run.
func Stop() {
	if shared != nil {
		shared.Stop()
	}
}

// URL is the connection string of database name.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://hybrid@127.0.0.1:%d/%s?sslmode=disable", s.Port, name)
}

// NewDatabase creates an empty database and returns its connection string.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	url, err := s.CreateDatabase()
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// CreateDatabase creates an empty database and returns its connection
// string.
func (s *Server) CreateDatabase() (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect to the test PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.URL(name), nil
}

// Stop stops the server at once and removes its directory.
func (s *Server) Stop() {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.done {
		return
	}
	s.done = true
	s.pgctl("stop", "-m", "immediate", "-w")
	os.RemoveAll(s.Dir)
}

// start makes and starts a cluster.
func start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hybrid-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root: run them as the
		// postgres user the package created (or nobody).
		name := "postgres"
		u, err := user.Lookup(name)
		if err != nil {
			name = "nobody"
			if u, err = user.Lookup(name); err != nil {
				return nil, fmt.Errorf("running as root and no unprivileged user to run PostgreSQL as: %w", err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		s.runAs = []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--"}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "hybrid", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for try := 0; try < 5; try++ {
		s.Port, err = freePort()
		if err != nil {
			break
		}
		opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", s.Port, dir)
		out, err := s.pgctl("start", "-w", "-t", "60", "-o", opts, "-l", filepath.Join(dir, "postgres.log"))
		if err == nil {
			return s, nil
		}
		log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
		if !bytes.Contains(log, []byte("could not bind")) && !bytes.Contains(log, []byte("Address already in use")) {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
		}
	}
	os.RemoveAll(dir)
	return nil, fmt.Errorf("no free port for PostgreSQL: %v", err)
}

func (s *Server) pgctl(args ...string) ([]byte, error) {
	return s.run("pg_ctl", append([]string{"-D", filepath.Join(s.Dir, "data")}, args...)...)
}

// run runs one of the server's programs, as the unprivileged user when
// hybrid's tests run as root.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, s.runAs...), filepath.Join(s.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

// findBin finds the directory of initdb and pg_ctl: Debian installs them in
// /usr/lib/postgresql/<version>/bin (the newest wins), else PATH.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found (install Debian's postgresql package: apt-get install -y postgresql)")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	_, p, _ := strings.Cut(l.Addr().String(), ":")
	return strconv.Atoi(p)
}
