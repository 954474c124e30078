package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/uuid"

	"github.com/hybridcore/hybrid/internal/atomicfile"
)

// Lock retry backoff: the first wait, and the longest.
const (
	lockRetryMin = 50 * time.Millisecond
	lockRetryMax = time.Second
)

// Lock implements Backend. The lock is an OS file lock on LockPath, which
// the kernel releases when the holder dies, plus the lock info at
// LockInfoPath. Lock info found while the OS lock is free was left by a
// holder that died: it is taken over, logged as a warning and reported by
// StaleLock. Before that, every process the dead holder started that still
// runs is ended (see Child; EndedChildren says which); when one cannot be,
// the lock is not taken and the error is an *OrphanError.
func (l *Local) Lock(ctx context.Context, info LockInfo) (string, error) {
	start := time.Now()
	_, wait := ctx.Deadline()
	delay := lockRetryMin
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("lock state: %w", err)
	}
	for {
		id, holder, err := l.tryLock(ctx, info)
		if err != nil || id != "" {
			return id, err
		}
		if !wait {
			return "", &LockError{Info: holder}
		}
		// Jitter keeps waiting processes from retrying in step.
		sleep := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			// One last look, so a lock released right at the deadline
			// is not missed; then the error says who holds it.
			if id, holder2, err := l.tryLock(ctx, info); err != nil || id != "" {
				return id, err
			} else if holder2 != nil {
				holder = holder2
			}
			return "", &LockError{Info: holder, Waited: time.Since(start)}
		}
		delay = min(delay*2, lockRetryMax)
	}
}

// tryLock makes one attempt. It returns the new lock's ID, or the holder's
// info (nil if unknown) when the lock is taken.
func (l *Local) tryLock(ctx context.Context, info LockInfo) (string, *LockInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held != nil {
		h := *l.held
		return "", &h, nil
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return "", nil, fmt.Errorf("lock state: %w", err)
	}
	fl := flock.New(l.LockPath())
	got, err := fl.TryLock()
	if err != nil {
		return "", nil, fmt.Errorf("lock state: %s: %w", l.LockPath(), err)
	}
	if !got {
		holder, _ := readLockInfo(l.LockInfoPath())
		return "", holder, nil
	}

	// The OS lock is ours: any lock info on disk belongs to a holder that
	// died, and any temporary file next to the state is a crashed write's.
	l.stale = nil
	prev, err := readLockInfo(l.LockInfoPath())
	if prev != nil || (err != nil && !errors.Is(err, fs.ErrNotExist)) {
		if prev == nil {
			prev = &LockInfo{}
		}
		l.stale = prev
		slog.Warn("state lock taken over from a holder that is gone",
			"state", l.path, "lock_id", prev.ID, "who", prev.Who,
			"operation", prev.Operation, "pid", prev.PID, "since", prev.Created)
	}
	// What the dead holder started must be gone before anything is done
	// under the lock; its lock info stays until then, so a failure here
	// leaves the record for the next attempt.
	if err := l.takeOverChildren(ctx, prev); err != nil {
		fl.Unlock()
		return "", nil, err
	}
	l.removeTemps()

	info.ID = uuid.NewString()
	info.Created = time.Now().UTC()
	info.PID = os.Getpid()
	info.Children = nil
	if info.Who == "" {
		info.Who = Who()
	}
	if err := l.writeLockInfo(&info); err != nil {
		fl.Unlock()
		return "", nil, fmt.Errorf("lock state: %w", err)
	}
	l.fl = fl
	l.held = &info
	return info.ID, nil, nil
}

// writeLockInfo replaces the lock info file with info. l.mu must be held.
func (l *Local) writeLockInfo(info *LockInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(l.LockInfoPath(), append(data, '\n'), filePerm)
}

// Unlock implements Backend.
func (l *Local) Unlock(id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		return fmt.Errorf("unlock state: this process does not hold the state lock (asked to release lock ID %s)", id)
	}
	if id != l.held.ID {
		return fmt.Errorf("unlock state: lock ID %s does not match the lock this process holds (%s)", id, l.held.ID)
	}
	return l.release()
}

// release folds the journal this client wrote into the snapshot, so that
// between commands the snapshot holds the whole state, then removes the
// lock info and drops the OS lock, so that the next holder never sees this
// holder's info. A compaction that fails is logged: the journal still holds
// every commit. l.mu must be held.
func (l *Local) release() error {
	if l.dirty {
		if err := l.compact(); err != nil {
			slog.Warn("state: cannot fold the journal into the snapshot; the journal keeps every commit", "state", l.path, "error", err)
		}
	}
	err := os.Remove(l.LockInfoPath())
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if uerr := l.fl.Unlock(); uerr != nil && err == nil {
		err = uerr
	}
	l.fl, l.held = nil, nil
	if err != nil {
		return fmt.Errorf("unlock state: %w", err)
	}
	return nil
}

// ForceUnlock removes the lock with the given ID, for `hybrid force-unlock`
// when its holder is gone or stuck. The ID must match the current lock info.
// The OS lock of a process that is still running cannot be taken from it:
// then the lock info is removed and the error says which process to stop.
// When the holder is gone, the processes it started that still run are
// ended first, as Lock does (EndedChildren says which); those that cannot
// be are named in the error, and the lock is removed all the same.
func (l *Local) ForceUnlock(ctx context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = nil
	if l.held != nil && l.held.ID == id {
		return l.release()
	}
	info, err := readLockInfo(l.LockInfoPath())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("force-unlock: the state is not locked (no %s); nothing to do", l.LockInfoPath())
	}
	if err != nil {
		return fmt.Errorf("force-unlock: %w", err)
	}
	if info.ID != id {
		return fmt.Errorf("force-unlock: lock ID %s does not match the current lock %s (held by %s since %s); check the ID", id, info.ID, orUnknown(info.Who), info.Created.Format(time.RFC3339))
	}
	probe := flock.New(l.LockPath())
	got, err := probe.TryLock()
	if err != nil {
		return fmt.Errorf("force-unlock: %s: %w", l.LockPath(), err)
	}
	if !got {
		if err := os.Remove(l.LockInfoPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("force-unlock: %w", err)
		}
		return fmt.Errorf("force-unlock: removed lock %s, but process %d (%s) still holds the OS lock on %s; stop that process to release it", id, info.PID, orUnknown(info.Who), l.LockPath())
	}
	defer probe.Unlock()
	// The holder is gone: so must be what it started, or the next command
	// would not know of it.
	orphanErr := l.takeOverChildren(ctx, info)
	if err := os.Remove(l.LockInfoPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("force-unlock: %w", err)
	}
	var oe *OrphanError
	if errors.As(orphanErr, &oe) {
		return fmt.Errorf("force-unlock: removed lock %s, but processes its holder started still run and could not be ended: %s (%s); stop them before the next apply", id, procList(oe.Procs), oe.Reason)
	}
	return nil
}

// LockInfo implements Backend: this client's lock, or the lock info file
// of another holder. The info a holder that died left behind is returned
// too, until the next Lock takes it over or force-unlock removes it.
func (l *Local) LockInfo(ctx context.Context) (*LockInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read state lock info: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held != nil {
		h := *l.held
		return &h, nil
	}
	info, err := readLockInfo(l.LockInfoPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state lock info: %w", err)
	}
	return info, nil
}

// StaleLock returns the lock info of a dead holder that the last successful
// Lock took over, or nil when the lock was free and clean.
func (l *Local) StaleLock() *LockInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stale == nil {
		return nil
	}
	s := *l.stale
	return &s
}

// readLockInfo reads a lock info file. A file that exists but does not parse
// yields an error and no info.
func readLockInfo(path string) (*LockInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &info, nil
}
