package pg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hybridcore/hybrid/state"
)

// LockGoneError is a write or a check under a state lock that is no longer
// held: its holder unlocked, was force-unlocked, or died (its session
// ended, and the database released its advisory lock with it).
type LockGoneError struct {
	// ID is the lock the caller works under; Now the current lock's ID,
	// "" when the state is not locked.
	ID, Now string
}

func (e *LockGoneError) Error() string {
	if e.Now == "" {
		return fmt.Sprintf("the state lock %s is gone (its holder ended or died); nothing is written under it", e.ID)
	}
	return fmt.Sprintf("the state lock %s is gone: the state is now locked by %s; nothing is written under the old lock", e.ID, e.Now)
}

// Fence is a check made inside the transaction of a commit under a lock,
// after the lock's own check: an error refuses the commit. A worker uses
// it to make sure its job is still its own (not rescued and given to
// another worker) in the same transaction as the record it writes.
type Fence func(ctx context.Context, tx pgx.Tx) error

// CheckLock returns nil when the state lock with the given ID is held,
// its holder's session alive; a *LockGoneError when it is not.
func (b *Backend) CheckLock(ctx context.Context, lockID string) error {
	return b.checkLock(ctx, b.pool, lockID, "")
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// checkLock checks, through q, that the lock row names lockID and that
// the session the row names holds the state's advisory lock. forUpdate
// ("FOR SHARE" inside a commit) keeps the row from being removed until
// the transaction ends, so an unlock waits for a commit under the lock.
func (b *Backend) checkLock(ctx context.Context, q querier, lockID, lockClause string) error {
	var id string
	var alive bool
	err := q.QueryRow(ctx, `SELECT l.lock_id, EXISTS (SELECT 1 FROM pg_locks p
		WHERE p.locktype = 'advisory' AND p.granted AND p.pid = l.pid
		AND ((p.classid::bigint << 32) | p.objid::bigint) = $1 AND p.objsubid = 1)
		FROM `+b.t("lock")+` l `+lockClause, b.key).Scan(&id, &alive)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return &LockGoneError{ID: lockID}
	case err != nil:
		return fmt.Errorf("check the state lock: %w", err)
	case id != lockID:
		if !alive {
			id = ""
		}
		return &LockGoneError{ID: lockID, Now: id}
	case !alive:
		return &LockGoneError{ID: lockID}
	}
	return nil
}

// Under returns a client of the same state that writes under the lock
// with the given ID, held by another process (the coordinator of a
// distributed apply): each Commit checks, in its transaction, that this
// lock is still held by a live session, then runs fence (nil for none),
// and refuses with a *LockGoneError (or fence's error) otherwise. It does
// not take the lock, nor release it; Lock, Unlock and Write refuse.
func (b *Backend) Under(lockID string, fence Fence) state.Backend {
	return &under{b: b, id: lockID, fence: fence}
}

type under struct {
	b     *Backend
	id    string
	fence Fence
}

var _ state.Backend = (*under)(nil)

func (u *under) Read(ctx context.Context) (*state.State, error) { return u.b.Read(ctx) }

func (u *under) Commit(ctx context.Context, lineage string, serial uint64, c *state.Change) (uint64, error) {
	return u.b.commit(ctx, lineage, serial, c, func(ctx context.Context, tx pgx.Tx) error {
		if err := u.b.checkLock(ctx, tx, u.id, "FOR SHARE OF l"); err != nil {
			return err
		}
		if u.fence != nil {
			return u.fence(ctx, tx)
		}
		return nil
	})
}

func (u *under) Write(context.Context, *state.State, bool) error {
	return errors.New("a client writing under another process's lock cannot replace the whole state")
}

func (u *under) Lock(context.Context, state.LockInfo) (string, error) {
	return "", errors.New("a client writing under another process's lock cannot take the lock")
}

func (u *under) Unlock(string) error {
	return errors.New("a client writing under another process's lock cannot release it")
}

func (u *under) LockInfo(ctx context.Context) (*state.LockInfo, error) { return u.b.LockInfo(ctx) }

func (u *under) ForceUnlock(context.Context, string) error {
	return errors.New("a client writing under another process's lock cannot force-unlock")
}

// Pool is the backend's connection pool, for other tables in the same
// database (the job queue of a distributed apply).
func (b *Backend) Pool() *pgxpool.Pool { return b.pool }

// Schema is the schema holding the state's tables.
func (b *Backend) Schema() string { return b.schema }

// HeldLockID is the ID of the state lock this client holds, "" for none.
func (b *Backend) HeldLockID() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.heldID
}

// NewPool connects a pool of at most maxConns connections to the database
// at connStr, for the job queue; its errors never show the password.
func NewPool(ctx context.Context, connStr string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(connStr)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL connection string (%s): %v", redact(connStr), scrub(err, connStr))
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %v", redact(connStr), scrub(err, connStr))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %v", redact(connStr), scrub(err, connStr))
	}
	return pool, nil
}
