// Package pg is the PostgreSQL state backend: one row per record (source,
// render, build, tree) plus a header row, each node's result committed in
// one transaction, and the state lock held by a database session (an
// advisory lock) with the same lock info as the local backend, so every CI
// runner of a team shares one state.
//
// hybrid creates and migrates its schema itself, versioned. The connection
// string may hold a password: it never appears in an error this package
// returns.
package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hybridcore/hybrid/state"
)

// SchemaVersion is the layout of hybrid's tables this package writes; a
// database at a newer version is refused, an older one migrated.
const SchemaVersion = 2

// Backend is a state stored in a PostgreSQL schema.
type Backend struct {
	schema string
	pool   *pgxpool.Pool
	key    int64 // the advisory lock key, from the schema name

	mu     sync.Mutex
	held   *pgx.Conn // the session holding the advisory lock
	heldID string
	info   *state.LockInfo
	stale  *state.LockInfo
	ended  []state.EndedChild
	// broken is set when the last Read could not decode the stored
	// state: Commit and Write refuse until a Read succeeds.
	broken error
}

var (
	_ state.Backend      = (*Backend)(nil)
	_ state.ChildTracker = (*Backend)(nil)
)

var schemaPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Open connects to the database and creates or migrates hybrid's schema.
func Open(ctx context.Context, connStr, schema string) (*Backend, error) {
	if !schemaPattern.MatchString(schema) {
		return nil, fmt.Errorf("invalid schema name %q", schema)
	}
	cfg, err := pgxpool.ParseConfig(connStr)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL connection string (%s): %v", redact(connStr), scrub(err, connStr))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %v", redact(connStr), scrub(err, connStr))
	}
	h := fnv.New64a()
	h.Write([]byte("hybrid-state\x00" + schema))
	b := &Backend{schema: schema, pool: pool, key: int64(h.Sum64() & (1<<63 - 1))}
	if err := b.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("prepare the state schema %s at %s: %v", schema, redact(connStr), scrub(err, connStr))
	}
	return b, nil
}

// Close releases the lock session, if any, and the connections.
func (b *Backend) Close() {
	b.mu.Lock()
	if b.held != nil {
		b.held.Close(context.Background())
		b.held = nil
	}
	b.mu.Unlock()
	b.pool.Close()
}

// t names one of hybrid's tables in its schema.
func (b *Backend) t(name string) string { return pgx.Identifier{b.schema, name}.Sanitize() }

// migrations bring the schema from one version to the next.
var migrations = []string{
	// 1: header, records and lock info.
	`CREATE TABLE IF NOT EXISTS %[1]s (
		id      int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
		lineage text NOT NULL,
		serial  bigint NOT NULL,
		format  int NOT NULL,
		header  jsonb NOT NULL
	);
	CREATE TABLE IF NOT EXISTS %[2]s (
		key  text PRIMARY KEY,
		kind text NOT NULL,
		data jsonb NOT NULL
	);
	CREATE TABLE IF NOT EXISTS %[3]s (
		id      int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
		lock_id text NOT NULL,
		pid     int NOT NULL,
		info    jsonb NOT NULL
	);`,
	// 2: the workspace's digest key, shared by every machine that shares
	// the state.
	`CREATE TABLE IF NOT EXISTS %[4]s (
		name  text PRIMARY KEY,
		value text NOT NULL
	);`,
}

// migrate creates the schema and applies the migrations it lacks, under a
// transaction-scoped advisory lock so concurrent hybrids do it once.
func (b *Backend) migrate(ctx context.Context) error {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", b.key^0x5eed); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{b.schema}.Sanitize()); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+b.t("schema_version")+" (version int NOT NULL)"); err != nil {
		return err
	}
	var version int
	err = tx.QueryRow(ctx, "SELECT version FROM "+b.t("schema_version")).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, "INSERT INTO "+b.t("schema_version")+" (version) VALUES (0)"); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("the schema is at version %d, newer than this hybrid knows (%d); upgrade hybrid", version, SchemaVersion)
	}
	for v := version; v < SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, fmt.Sprintf(migrations[v], b.t("header"), b.t("records"), b.t("lock"), b.t("secret"))); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE "+b.t("schema_version")+" SET version = $1", SchemaVersion); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// header is what the header row's jsonb holds.
type header struct {
	Packer  *state.Packer           `json:"packer,omitempty"`
	Plugins map[string]state.Plugin `json:"plugins,omitempty"`
	LastRun *state.Run              `json:"last_run,omitempty"`
}

// Record kinds and key prefixes.
const (
	kindSource = "source"
	kindRender = "render"
	kindBuild  = "build"
	kindTree   = "tree"
)

// Read returns the whole state; New() when nothing was stored yet.
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	tx, err := b.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("read the state: %w", err)
	}
	defer tx.Rollback(ctx)
	s := state.New()
	var hdr []byte
	var format int
	err = tx.QueryRow(ctx, "SELECT lineage, serial, format, header FROM "+b.t("header")).Scan(&s.Lineage, &s.Serial, &format, &hdr)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read the state: %w", err)
	}
	if format > state.FormatVersion {
		return nil, b.setBroken(fmt.Errorf("the state was written by a newer hybrid (format %d; this one reads %d): upgrade hybrid", format, state.FormatVersion))
	}
	var h header
	if err := json.Unmarshal(hdr, &h); err != nil {
		return nil, b.setBroken(fmt.Errorf("read the state header: %w", err))
	}
	s.Packer, s.LastRun = h.Packer, h.LastRun
	if h.Plugins != nil {
		s.Plugins = h.Plugins
	}
	rows, err := tx.Query(ctx, "SELECT key, kind, data FROM "+b.t("records"))
	if err != nil {
		return nil, fmt.Errorf("read the state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, kind string
		var data []byte
		if err := rows.Scan(&key, &kind, &data); err != nil {
			return nil, fmt.Errorf("read the state: %w", err)
		}
		if err := put(s, key, kind, data); err != nil {
			return nil, b.setBroken(fmt.Errorf("read state record %s: %w", key, err))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the state: %w", err)
	}
	b.setBroken(nil)
	return s, nil
}

// setBroken records the outcome of decoding the stored state, and returns
// err.
func (b *Backend) setBroken(err error) error {
	b.mu.Lock()
	b.broken = err
	b.mu.Unlock()
	return err
}

// writable refuses to write over a state the last Read could not decode.
func (b *Backend) writable() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.broken != nil {
		return fmt.Errorf("refusing to write over a state hybrid cannot read (%v)", b.broken)
	}
	return nil
}

// guard makes sure, inside tx, that no other client holds the state lock
// while this one writes without holding it: it takes the lock's
// transaction-scoped form, which waits for nobody and is released at commit.
// A client that holds the lock checks that the lock row is still its own
// (share-locking it until the commit, so a takeover or force-unlock waits):
// after a force-unlock, or a takeover once its session died, it writes
// nothing.
func (b *Backend) guard(ctx context.Context, tx pgx.Tx) error {
	b.mu.Lock()
	heldID := b.heldID
	holding := b.held != nil
	b.mu.Unlock()
	if holding {
		var id string
		err := tx.QueryRow(ctx, "SELECT lock_id FROM "+b.t("lock")+" FOR SHARE").Scan(&id)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("write the state: %w", err)
		}
		if id != heldID {
			holder, _ := b.readLockRow(ctx)
			return fmt.Errorf("write the state: the state lock %s this hybrid took is gone (force-unlocked, or taken over after its connection was lost): %w", heldID, &state.LockError{Info: holder})
		}
		return nil
	}
	var ok bool
	if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", b.key).Scan(&ok); err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	if !ok {
		holder, _ := b.readLockRow(ctx)
		return fmt.Errorf("write the state: %w", &state.LockError{Info: holder})
	}
	return nil
}

// put decodes one record into s.
func put(s *state.State, key, kind string, data []byte) error {
	switch kind {
	case kindSource:
		var v state.Source
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		s.Sources[strings.TrimPrefix(key, "source.")] = &v
	case kindRender:
		var v state.Render
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		s.Renders[key] = &v
	case kindBuild:
		var v state.Build
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		s.Builds[key] = &v
	case kindTree:
		var v map[string]string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		if s.Trees == nil {
			s.Trees = map[string]map[string]string{}
		}
		s.Trees[strings.TrimPrefix(key, "tree:")] = v
	default:
		return fmt.Errorf("unknown record kind %q", kind)
	}
	return nil
}

// Commit applies c on top of the stored state of that lineage and serial, in
// one transaction, and returns the new serial.
func (b *Backend) Commit(ctx context.Context, lineage string, serial uint64, c *state.Change) (uint64, error) {
	if err := c.Check(); err != nil {
		return 0, err
	}
	if err := b.writable(); err != nil {
		return 0, err
	}
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("write the state: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := b.guard(ctx, tx); err != nil {
		return 0, err
	}
	var storedLineage string
	var storedSerial uint64
	var hdr []byte
	err = tx.QueryRow(ctx, "SELECT lineage, serial, header FROM "+b.t("header")+" FOR UPDATE").Scan(&storedLineage, &storedSerial, &hdr)
	var h header
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if serial != 0 {
			return 0, fmt.Errorf("the state was read at serial %d, but there is no state now: someone removed it", serial)
		}
		if _, err := uuid.Parse(lineage); err != nil {
			return 0, fmt.Errorf("invalid lineage %q", lineage)
		}
		storedLineage = lineage
		if _, err := tx.Exec(ctx, "INSERT INTO "+b.t("header")+" (lineage, serial, format, header) VALUES ($1, 0, $2, '{}')", lineage, state.FormatVersion); err != nil {
			return 0, fmt.Errorf("write the state: %w", err)
		}
	case err != nil:
		return 0, fmt.Errorf("write the state: %w", err)
	default:
		if err := json.Unmarshal(hdr, &h); err != nil {
			return 0, fmt.Errorf("read the state header: %w", err)
		}
	}
	if storedLineage != lineage {
		return 0, fmt.Errorf("the state has lineage %s, not %s: refusing to mix two states", storedLineage, lineage)
	}
	if storedSerial != serial {
		return 0, fmt.Errorf("the state is at serial %d, not %d as read: another command wrote it since", storedSerial, serial)
	}
	if err := b.apply(ctx, tx, c); err != nil {
		return 0, err
	}
	if c.LastRun != nil {
		h.LastRun = c.LastRun
	}
	if c.Packer != nil {
		h.Packer = c.Packer
	}
	if c.Plugins != nil {
		h.Plugins = c.Plugins
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "UPDATE "+b.t("header")+" SET serial = serial + 1, format = $1, header = $2", state.FormatVersion, hb); err != nil {
		return 0, fmt.Errorf("write the state: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("write the state: %w", err)
	}
	return serial + 1, nil
}

// apply writes a change's records in tx.
func (b *Backend) apply(ctx context.Context, tx pgx.Tx, c *state.Change) error {
	batch := &pgx.Batch{}
	if len(c.Delete) > 0 {
		batch.Queue("DELETE FROM "+b.t("records")+" WHERE key = ANY($1)", c.Delete)
	}
	upsert := "INSERT INTO " + b.t("records") + " (key, kind, data) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, data = EXCLUDED.data"
	add := func(key, kind string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode state record %s: %w", key, err)
		}
		batch.Queue(upsert, key, kind, data)
		return nil
	}
	for name, v := range c.Sources {
		if err := add(state.SourceAddr(name), kindSource, v); err != nil {
			return err
		}
	}
	for addr, v := range c.Renders {
		if err := add(addr, kindRender, v); err != nil {
			return err
		}
	}
	for addr, v := range c.Builds {
		if err := add(addr, kindBuild, v); err != nil {
			return err
		}
	}
	for d, v := range c.Trees {
		if err := add("tree:"+d, kindTree, v); err != nil {
			return err
		}
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	return nil
}

// Write replaces the whole state: state push and init -migrate-state. It
// refuses another lineage, or a serial older than the stored one, unless
// force; the stored serial becomes the larger of the two plus one.
func (b *Backend) Write(ctx context.Context, s *state.State, force bool) error {
	if _, err := b.Read(ctx); err != nil {
		return fmt.Errorf("refusing to replace the stored state: %w", err)
	}
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := b.guard(ctx, tx); err != nil {
		return err
	}
	var storedLineage string
	var storedSerial uint64
	err = tx.QueryRow(ctx, "SELECT lineage, serial FROM "+b.t("header")+" FOR UPDATE").Scan(&storedLineage, &storedSerial)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("write the state: %w", err)
	}
	if exists && !force {
		if storedLineage != s.Lineage || s.Serial < storedSerial {
			return &state.WriteConflictError{Where: "the stored state (schema " + b.schema + ")", StoredLineage: storedLineage, Lineage: s.Lineage, StoredSerial: storedSerial, Serial: s.Serial}
		}
	}
	serial := max(s.Serial, storedSerial) + 1
	if _, err := tx.Exec(ctx, "DELETE FROM "+b.t("records")); err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+b.t("header")); err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	hb, err := json.Marshal(header{Packer: s.Packer, Plugins: s.Plugins, LastRun: s.LastRun})
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+b.t("header")+" (lineage, serial, format, header) VALUES ($1, $2, $3, $4)", s.Lineage, serial, state.FormatVersion, hb); err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	c := &state.Change{Sources: s.Sources, Renders: s.Renders, Builds: s.Builds, Trees: s.Trees}
	if err := b.apply(ctx, tx, c); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("write the state: %w", err)
	}
	s.Serial = serial
	return nil
}

// Lock takes the state lock: an advisory lock held by a session of its own
// for as long as the lock is held (the database releases it when hybrid's
// connection dies), and a lock row with the lock info for others to read.
// A lock row whose session is gone is stale and taken over.
func (b *Backend) Lock(ctx context.Context, info state.LockInfo) (string, error) {
	start := time.Now()
	_, wait := ctx.Deadline()
	delay := 50 * time.Millisecond
	for {
		id, holder, err := b.tryLock(ctx, info)
		if err != nil && ctx.Err() == nil || id != "" {
			return id, err
		}
		if !wait {
			return "", &state.LockError{Info: holder}
		}
		select {
		case <-ctx.Done():
			// One last look, so a lock released right at the deadline
			// is not missed; then the error says who holds it.
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			id, holder2, err := b.tryLock(last, info)
			cancel()
			if err != nil || id != "" {
				return id, err
			}
			if holder2 != nil {
				holder = holder2
			}
			return "", &state.LockError{Info: holder, Waited: time.Since(start)}
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// tryLock makes one attempt. It returns the new lock's ID, or the holder's
// info (nil if unknown) when the lock is taken.
func (b *Backend) tryLock(ctx context.Context, info state.LockInfo) (string, *state.LockInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held != nil {
		// Whether the session lives is not the caller's deadline's
		// business: a Ping cut short by it proves nothing.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := b.held.Ping(pctx)
		cancel()
		if err == nil {
			return "", new(*b.info), nil
		}
		// The session holding it is gone (force-unlocked, or the
		// connection died): so is the lock.
		b.release()
	}
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("lock the state: %w", err)
	}
	// The lock's session outlives the pool's use of it: take the
	// connection out of the pool.
	session := conn.Hijack()
	var ok bool
	if err := session.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", b.key).Scan(&ok); err != nil {
		session.Close(context.Background())
		return "", nil, fmt.Errorf("lock the state: %w", err)
	}
	if !ok {
		session.Close(context.Background())
		holder, _ := b.readLockRow(ctx)
		return "", holder, nil
	}
	// We hold the advisory lock, so a lock row left in the table belongs
	// to a session that is gone: its holder died. What it started on this
	// machine must be gone before anything is done under the lock (on
	// another machine, its children died with it: hybrid starts them with
	// a parent-death signal).
	b.stale, b.ended = nil, nil
	prev, err := b.readLockRow(ctx)
	if err != nil {
		session.Close(context.Background())
		return "", nil, fmt.Errorf("lock the state: %w", err)
	}
	if prev != nil {
		b.stale = prev
		slog.Warn("state lock taken over from a holder that is gone",
			"lock_id", prev.ID, "who", prev.Who, "operation", prev.Operation, "pid", prev.PID, "since", prev.Created)
		if state.SameHost(prev) {
			ended, err := state.EndOrphans(ctx, prev)
			b.ended = ended
			for _, e := range ended {
				slog.Warn("ended a process left running by the dead holder of the state lock", "lock_id", prev.ID, "what", e.String())
			}
			if err != nil {
				session.Close(context.Background())
				return "", nil, err
			}
		}
	}
	info.ID = uuid.NewString()
	info.Created = time.Now().UTC()
	info.PID = os.Getpid()
	info.Children = nil
	if info.Who == "" {
		info.Who = state.Who()
	}
	var pid int32
	if err := session.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		session.Close(context.Background())
		return "", nil, fmt.Errorf("lock the state: %w", err)
	}
	data, err := json.Marshal(info)
	if err != nil {
		session.Close(context.Background())
		return "", nil, err
	}
	if _, err := session.Exec(ctx, "INSERT INTO "+b.t("lock")+" (id, lock_id, pid, info) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET lock_id = EXCLUDED.lock_id, pid = EXCLUDED.pid, info = EXCLUDED.info", info.ID, pid, data); err != nil {
		session.Close(context.Background())
		return "", nil, fmt.Errorf("lock the state: %w", err)
	}
	b.held, b.heldID, b.info = session, info.ID, &info
	return info.ID, nil, nil
}

// AddChild records c in the lock info of the lock this client holds (see
// state.ChildTracker).
func (b *Backend) AddChild(c state.Child) error {
	if err := state.CompleteChild(&c); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		return fmt.Errorf("record %s (pid %d): this process does not hold the state lock", c.What, c.PID)
	}
	info := *b.info
	info.Children = append(slices.Clip(info.Children), c)
	if err := b.writeInfo(&info); err != nil {
		return fmt.Errorf("record %s (pid %d) in the state lock info: %w", c.What, c.PID, err)
	}
	return nil
}

// RemoveChild forgets a child that has ended (see state.ChildTracker).
func (b *Backend) RemoveChild(pid int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		return nil
	}
	info := *b.info
	info.Children = state.WithoutChild(info.Children, pid)
	if len(info.Children) == len(b.info.Children) {
		return nil
	}
	if err := b.writeInfo(&info); err != nil {
		return fmt.Errorf("remove process %d from the state lock info: %w", pid, err)
	}
	return nil
}

// writeInfo replaces the held lock's info row. b.mu must be held.
func (b *Backend) writeInfo(info *state.LockInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tag, err := b.held.Exec(context.Background(), "UPDATE "+b.t("lock")+" SET info = $1 WHERE lock_id = $2", data, b.heldID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("the state lock %s was removed (hybrid force-unlock?)", b.heldID)
	}
	b.info = info
	return nil
}

// ChildEnv is the environment entry that marks every process started under
// the lock this client holds, "" when it holds none.
func (b *Backend) ChildEnv() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		return ""
	}
	return state.ChildEnv + "=" + b.heldID
}

// EndedChildren says what the last Lock did about the processes a dead
// holder on this machine left running.
func (b *Backend) EndedChildren() []state.EndedChild {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.ended)
}

// StaleLock returns the info of the lock the last Lock took over from a
// holder whose session was gone, or nil.
func (b *Backend) StaleLock() *state.LockInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stale
}

// Unlock releases the lock this backend holds.
func (b *Backend) Unlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil || b.heldID != id {
		return fmt.Errorf("the state lock %s is not held here", id)
	}
	ctx := context.Background()
	_, err := b.held.Exec(ctx, "DELETE FROM "+b.t("lock")+" WHERE lock_id = $1", id)
	b.release()
	return err
}

// release closes the lock's session, which releases the advisory lock if
// the server still has it. b.mu must be held.
func (b *Backend) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.held.Exec(ctx, "SELECT pg_advisory_unlock_all()")
	b.held.Close(ctx)
	b.held, b.heldID, b.info = nil, "", nil
}

// LockInfo returns the holder's info, or nil when the state is not locked
// (a lock row left by a session that is gone does not count).
func (b *Backend) LockInfo(ctx context.Context) (*state.LockInfo, error) {
	info, err := b.readLockRow(ctx)
	if err != nil || info == nil {
		return nil, err
	}
	var held bool
	err = b.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1 AND objsubid = 1)", b.key).Scan(&held)
	if err != nil {
		return nil, err
	}
	if !held {
		return nil, nil
	}
	return info, nil
}

// readLockRow reads the lock row's info, nil when there is none.
func (b *Backend) readLockRow(ctx context.Context) (*state.LockInfo, error) {
	var data []byte
	err := b.pool.QueryRow(ctx, "SELECT info FROM "+b.t("lock")).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var info state.LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// ForceUnlock removes the lock with the given ID whoever holds it: the
// holder's session is ended (which releases its advisory lock) and the
// lock row removed.
func (b *Backend) ForceUnlock(ctx context.Context, id string) error {
	var pid int32
	var lockID string
	err := b.pool.QueryRow(ctx, "SELECT lock_id, pid FROM "+b.t("lock")).Scan(&lockID, &pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("the state is not locked")
	}
	if err != nil {
		return err
	}
	if lockID != id {
		return fmt.Errorf("the state lock is %s, not %s", lockID, id)
	}
	b.mu.Lock()
	if b.held != nil && b.heldID == id {
		// This client's own lock: release it properly.
		_, err := b.held.Exec(ctx, "DELETE FROM "+b.t("lock")+" WHERE lock_id = $1", id)
		b.release()
		b.mu.Unlock()
		return err
	}
	b.mu.Unlock()
	// pg_terminate_backend waits (up to its timeout) for the session to
	// end, which releases its advisory lock.
	if _, err := b.pool.Exec(ctx, "SELECT pg_terminate_backend($1, 10000)", pid); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			return err
		}
	}
	_, err = b.pool.Exec(ctx, "DELETE FROM "+b.t("lock")+" WHERE lock_id = $1", id)
	return err
}

var _ state.KeyKeeper = (*Backend)(nil)

// DigestKey returns the digest key kept with the state, storing newKey
// first when there is none; of two machines storing at once, both get the
// key that was stored first. With newKey "" it only reads ("" when there
// is none).
func (b *Backend) DigestKey(ctx context.Context, newKey string) (string, error) {
	if newKey == "" {
		var k string
		err := b.pool.QueryRow(ctx, "SELECT value FROM "+b.t("secret")+" WHERE name = 'digest_key'").Scan(&k)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("read the digest key: %w", err)
		}
		return k, nil
	}
	if _, err := b.pool.Exec(ctx, "INSERT INTO "+b.t("secret")+" (name, value) VALUES ('digest_key', $1) ON CONFLICT (name) DO NOTHING", newKey); err != nil {
		return "", fmt.Errorf("store the digest key: %w", err)
	}
	var k string
	if err := b.pool.QueryRow(ctx, "SELECT value FROM "+b.t("secret")+" WHERE name = 'digest_key'").Scan(&k); err != nil {
		return "", fmt.Errorf("read the digest key: %w", err)
	}
	return k, nil
}

// redact hides a connection string's password, for messages.
func redact(c string) string {
	if u, err := url.Parse(c); err == nil && u.Scheme != "" && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "(sensitive)")
		}
		u.RawQuery = ""
		return u.Redacted()
	}
	c = urlPassword.ReplaceAllString(c, "${1}(sensitive)@")
	return passwordKV.ReplaceAllString(c, "${1}(sensitive)")
}

var (
	passwordKV  = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)
	urlPassword = regexp.MustCompile(`(://[^:/@]*:)[^@/]*@`)
	// urlPasswordValue captures the password of a URL that url.Parse
	// may refuse (a bad port).
	urlPasswordValue = regexp.MustCompile(`://[^:/@]*:([^@/]*)@`)
)

// scrub removes the password of connStr from an error's text, in case a
// driver message quotes it.
func scrub(err error, connStr string) string {
	msg := err.Error()
	if u, perr := url.Parse(connStr); perr == nil && u.User != nil {
		if pw, has := u.User.Password(); has && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "(sensitive)")
		}
	}
	for _, m := range urlPasswordValue.FindAllStringSubmatch(connStr, -1) {
		if m[1] != "" {
			msg = strings.ReplaceAll(msg, m[1], "(sensitive)")
		}
	}
	for _, m := range passwordKV.FindAllStringSubmatch(connStr, -1) {
		pw := strings.Trim(m[2], "'")
		if pw != "" {
			msg = strings.ReplaceAll(msg, pw, "(sensitive)")
		}
	}
	return msg
}
