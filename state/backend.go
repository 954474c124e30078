package state

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Backend stores one state: a header (format, lineage, serial, packer,
// plugins, last run) and records keyed by address (sources, renders,
// builds) or by digest (trees). A node's result is one small Commit,
// whatever the state's size. Every implementation must pass the conformance
// suite in package statetest.
//
// A Backend value is one client of the store: while it holds the lock, a
// second Lock on it fails like one from another client would. To commit
// from many goroutines without losing any change, use a Manager.
type Backend interface {
	// Read returns the whole state (New() with a fresh lineage when there
	// is none; the lineage is fixed by the first Commit or Write). A
	// state that cannot be read is an error, and the backend then refuses
	// to Commit or Write until a later Read succeeds, so that a state
	// hybrid could not understand is never replaced.
	Read(ctx context.Context) (*State, error)
	// Commit applies c atomically on top of the stored state whose
	// lineage is lineage and serial is serial (what the caller last read
	// or committed), and returns the new serial (serial+1). It refuses
	// another lineage or a stale serial (someone else wrote) with an
	// error naming both. On an empty store it accepts serial 0 and any
	// lineage (a UUID), which it fixes. c must pass Change.Check; Commit
	// may fill in c's records' env and image as Check does, and does
	// nothing else to c (a Manager prunes trees, not the backend).
	Commit(ctx context.Context, lineage string, serial uint64, c *Change) (uint64, error)
	// Write replaces the whole state (state push, init -migrate-state)
	// and sets s.Serial to the stored serial: one more than both the
	// serial it replaces and s.Serial. It refuses a state of another
	// lineage, or one older than the stored state (s.Serial below the
	// stored serial), unless force. It never replaces a stored state it
	// cannot read, even with force.
	Write(ctx context.Context, s *State, force bool) error
	// Lock takes the state lock and returns its ID. When the lock is held
	// it fails at once with a *LockError, unless ctx has a deadline: then
	// it retries with backoff until the deadline.
	Lock(ctx context.Context, info LockInfo) (string, error)
	// Unlock releases the lock with the given ID, which must be the one
	// this client holds.
	Unlock(id string) error
	// LockInfo returns the current holder's info, nil when unlocked.
	LockInfo(ctx context.Context) (*LockInfo, error)
	// ForceUnlock removes the lock with the given ID whoever holds it
	// (hybrid force-unlock). An ID that is not the current lock's is
	// refused.
	ForceUnlock(ctx context.Context, id string) error
}

// ChildTracker is implemented by backends whose lock info records the
// processes the holder started that could outlive it (see Child), and that
// end a dead holder's processes when they take its lock over. The local
// backend is one; apply and the commands use it when the backend is.
type ChildTracker interface {
	// AddChild records a started process in the lock info of the lock
	// this client holds; an error means it is not recorded.
	AddChild(c Child) error
	// RemoveChild forgets a process that has ended.
	RemoveChild(pid int) error
	// ChildEnv is the KEY=VALUE environment entry (ChildEnv) that marks
	// every process started under the lock, "" when no lock is held.
	ChildEnv() string
	// StaleLock is the lock info of a dead holder the last Lock took
	// over, nil when the lock was free and clean.
	StaleLock() *LockInfo
	// EndedChildren says what the last Lock or ForceUnlock did about the
	// processes a dead holder left running.
	EndedChildren() []EndedChild
}

// BackupReader is a backend that keeps an earlier state for recovery by
// hand.
type BackupReader interface {
	// ReadBackup returns the backup.
	ReadBackup() (*State, error)
}

var (
	_ Backend      = (*Local)(nil)
	_ BackupReader = (*Local)(nil)
	_ ChildTracker = (*Local)(nil)
)

// LockInfo describes who holds the state lock. It is stored as JSON next to
// the state so that a second command can say who is in its way.
type LockInfo struct {
	// ID identifies the lock for Unlock and force-unlock. Lock sets it.
	ID string `json:"id"`
	// Operation is the command holding the lock, e.g. "apply".
	Operation string `json:"operation"`
	// Who is "user@host"; Lock fills it in when empty.
	Who string `json:"who"`
	// Version is the hybrid version holding the lock.
	Version string `json:"version"`
	// Created is when the lock was taken. Lock sets it.
	Created time.Time `json:"created"`
	// PID is the holder's process ID. Lock sets it.
	PID int `json:"pid"`
	// Children are the processes the holder started that are running now
	// (see Child): a holder that takes the lock over from one that died
	// ends them first.
	Children []Child `json:"children,omitempty"`
}

// LockError reports that the state lock is held by someone else.
type LockError struct {
	// Info is the holder's lock info; nil when the holder has taken the OS
	// lock but not yet written its info.
	Info *LockInfo
	// Waited is how long Lock retried before giving up; zero when it
	// failed at once.
	Waited time.Duration
}

// Error says who holds the lock, since when, its ID, and what to do.
func (e *LockError) Error() string {
	var b strings.Builder
	b.WriteString("state is locked")
	if e.Waited > 0 {
		fmt.Fprintf(&b, " (gave up after waiting %s)", e.Waited.Round(time.Millisecond))
	}
	if e.Info == nil {
		b.WriteString(" by another process that has not written its lock info yet; use -lock-timeout to wait")
		return b.String()
	}
	i := e.Info
	fmt.Fprintf(&b, " by %s", orUnknown(i.Who))
	if i.Operation != "" {
		fmt.Fprintf(&b, " (hybrid %s", i.Operation)
		if i.PID != 0 {
			fmt.Fprintf(&b, ", pid %d", i.PID)
		}
		b.WriteString(")")
	}
	if !i.Created.IsZero() {
		fmt.Fprintf(&b, " since %s", i.Created.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, ", lock ID %s; use -lock-timeout to wait, or hybrid force-unlock %s if the holder is gone", orUnknown(i.ID), orUnknown(i.ID))
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// KeyKeeper is a backend that keeps the workspace's digest key (the key
// sensitive values are digested with) beside the state, so every machine
// that shares the state digests secrets alike without configuration.
type KeyKeeper interface {
	// DigestKey returns the stored key, storing newKey first when there
	// is none; with newKey "" it only reads, and returns "" when there is
	// none.
	DigestKey(ctx context.Context, newKey string) (string, error)
}

// WriteConflictError is Write's refusal to replace the stored state with
// a state of another lineage, or with one older than it.
type WriteConflictError struct {
	// Where names the store, for messages.
	Where                  string
	StoredLineage, Lineage string
	StoredSerial, Serial   uint64
}

func (e *WriteConflictError) Error() string {
	if e.StoredLineage != e.Lineage {
		return fmt.Sprintf("%s holds lineage %s, not %s: that is another workspace's state, and replacing it would lose its records", e.Where, e.StoredLineage, e.Lineage)
	}
	return fmt.Sprintf("%s is at serial %d, newer than %d: it was written since that state was read, and replacing it would lose those writes", e.Where, e.StoredSerial, e.Serial)
}
