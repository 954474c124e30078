package state

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Backend stores one state. Every implementation must pass the conformance
// suite in package statetest.
type Backend interface {
	// Read returns the stored state, or New() when there is none yet (its
	// lineage becomes fixed on the first Write). A state that cannot be
	// read is an error, and the backend then refuses to Write until a later
	// Read succeeds, so a file hybrid could not understand is never replaced.
	Read() (*State, error)
	// Write stores s atomically, sets s.Serial to the stored serial plus
	// one and keeps the previous state as a backup. It refuses a state whose
	// lineage differs from the stored one, and a state whose serial is not
	// the stored serial (it was read before another write landed).
	Write(s *State) error
	// Lock takes the state lock and returns its ID. When the lock is held
	// it fails at once with a *LockError, unless ctx has a deadline: then
	// it retries with backoff until the deadline.
	Lock(ctx context.Context, info LockInfo) (string, error)
	// Unlock releases the lock with the given ID, which must be the one
	// this backend holds.
	Unlock(id string) error
}

// BackupReader is a backend that keeps the state as it was before the last
// write, for recovery by hand.
type BackupReader interface {
	// ReadBackup returns the previous state.
	ReadBackup() (*State, error)
}

var _ BackupReader = (*Local)(nil)

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
