package sources

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// lockRetry is how often a Sync or Fetch waiting for a source's lock tries
// again.
const lockRetry = 50 * time.Millisecond

// orphanWait bounds how long taking a lock waits for a killed git group to
// be gone (its members may stay zombies until something reaps them).
const orphanWait = 2 * time.Second

// recordSize is the size of the record kept in a lock file. The record is
// always written whole at offset 0 in one write, so a hybrid killed while
// writing it leaves either the old record or the new one.
const recordSize = 96

// sourceLock is the exclusive lock that Sync and Store.Fetch hold on one
// source while they write its checkout, its temporary clones or its object
// store: an OS file lock on <root>/.<name>.lock. The kernel releases
// it when its holder dies, so whoever takes it knows that no other hybrid
// is working on the source, and that the temporary clones, the in-progress
// marker of the checkout and the lock files git left in the checkout's or
// the store's git directory were left by a hybrid that is gone.
//
// The lock file also records the process group of the git command the
// holder is running. A git that outlived a killed holder (its ssh, its
// index-pack or the gc it started, which the parent-death signal does not
// reach, or git itself off Linux) would keep writing while the next holder
// repairs: taking the lock ends that group first. On Linux the record holds
// the start time of the group's leader, so a PID reused since is never
// signalled: a group whose leader has the recorded start time, or whose
// leader is gone while members remain (a group ID cannot be reused while
// the group lives), is the recorded one, and is killed. Elsewhere the next
// holder only waits for the group to end, up to waitDelay.
type sourceLock struct {
	fl   *flock.Flock
	path string
	// rec writes the record; nil if the lock file cannot be written
	// through a second handle (Windows locks the bytes themselves).
	rec *os.File
	mu  sync.Mutex
	// notes say what taking the lock repaired.
	notes []string
}

// lockRecord is what a lock file records.
type lockRecord struct {
	pid   int    // the hybrid holding the lock
	pgid  int    // the process group of the git it runs, 0 when none
	start uint64 // when that git started (processStart), 0 if unknown
}

// lockPath is the lock file of the source name under the sources
// directory root: <root>/.<name>.lock. It starts with '.', which no source
// name does, and ends in ".lock", which no temporary clone's name does.
func lockPath(root, name string) string {
	return filepath.Join(root, "."+name+".lock")
}

// lockSource takes the lock of the source name under the sources directory
// root, waiting while another hybrid holds it, until ctx ends. It then ends
// any git group the previous holder left running.
//
// The lock file is removed on unlock, so a workspace keeps none. A lock
// taken on a file that was removed meanwhile (its holder unlocked it
// between our open and our lock) is taken again on the file now there.
func lockSource(ctx context.Context, root, name string) (*sourceLock, error) {
	path := lockPath(root, name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create the sources directory: %w", err)
	}
	var fl *flock.Flock
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("wait for the lock of source %s (another hybrid is syncing it): %w", name, err)
		}
		// The name is hybrid's: anything there that is not a regular
		// file (a link planted to make hybrid write elsewhere) goes.
		if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("remove %s, which is not the lock file hybrid makes there: %w", path, err)
			}
		}
		fl = flock.New(path, flock.SetPermissions(0o644), flock.SetFlag(os.O_CREATE|os.O_RDONLY|noFollow))
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock source %s with %s: %w", name, path, err)
		}
		if ok {
			held, err1 := fl.Stat()
			now, err2 := os.Lstat(path)
			if err1 == nil && err2 == nil && os.SameFile(held, now) {
				break
			}
			fl.Unlock()
			fl.Close()
			continue
		}
		t := time.NewTimer(lockRetry)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	l := &sourceLock{fl: fl, path: path}
	if f, err := os.OpenFile(path, os.O_RDWR|noFollow, 0); err == nil {
		held, err1 := fl.Stat()
		now, err2 := f.Stat()
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			l.rec = f
		} else {
			f.Close()
		}
	}
	if prev := l.read(); prev.pgid > 0 {
		if note := endOrphanGroup(ctx, prev.pgid, prev.start); note != "" {
			l.notes = append(l.notes, note)
		}
	}
	l.write(lockRecord{pid: os.Getpid()})
	return l, nil
}

// unlock removes the lock file and releases the lock.
func (l *sourceLock) unlock() {
	l.mu.Lock()
	if l.rec != nil {
		l.rec.Close()
		l.rec = nil
	}
	l.mu.Unlock()
	os.Remove(l.path)
	l.fl.Unlock()
	l.fl.Close()
}

// started records that git pid, the leader of its own process group, runs
// for the holder.
func (l *sourceLock) started(pid int) {
	start, _ := processStart(pid)
	l.write(lockRecord{pid: os.Getpid(), pgid: pid, start: start})
}

// ended records that the holder runs no git.
func (l *sourceLock) ended() {
	l.write(lockRecord{pid: os.Getpid()})
}

// read returns the record in the lock file; a missing or unreadable record
// is the zero record.
func (l *sourceLock) read() lockRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rec == nil {
		return lockRecord{}
	}
	buf := make([]byte, recordSize)
	n, _ := l.rec.ReadAt(buf, 0)
	return parseRecord(string(buf[:n]))
}

// write replaces the record, best effort: a record that cannot be written
// only means a git left running is not ended by the next holder.
func (l *sourceLock) write(r lockRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rec == nil {
		return
	}
	l.rec.WriteAt([]byte(formatRecord(r)), 0)
}

// formatRecord writes r as one line padded to recordSize.
func formatRecord(r lockRecord) string {
	s := ""
	if r.pid > 0 {
		s = fmt.Sprintf("hybrid=%d git=%d start=%d", r.pid, r.pgid, r.start)
	}
	return s + strings.Repeat(" ", recordSize-1-len(s)) + "\n"
}

// parseRecord reads a record; anything it does not understand gives the
// zero record.
func parseRecord(s string) lockRecord {
	var r lockRecord
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "hybrid":
			r.pid, _ = strconv.Atoi(v)
		case "git":
			r.pgid, _ = strconv.Atoi(v)
		case "start":
			r.start, _ = strconv.ParseUint(v, 10, 64)
		}
	}
	if r.pid <= 0 || r.pgid < 0 {
		return lockRecord{}
	}
	return r
}

// endOrphanGroup ends the git process group pgid (whose leader started at
// start) that a lock holder which is gone left running, as sourceLock
// describes, and says what it did ("" when there was nothing to do).
func endOrphanGroup(ctx context.Context, pgid int, start uint64) string {
	if !groupExists(pgid) {
		return ""
	}
	if !knowsStartTimes {
		if waitGroupGone(ctx, pgid, waitDelay) {
			return fmt.Sprintf("waited for git (process group %d) left running by a hybrid that was killed", pgid)
		}
		return fmt.Sprintf("git (process group %d) left running by a hybrid that was killed still runs; if it is git, end it", pgid)
	}
	if now, alive := processStart(pgid); alive && (start == 0 || now != start) {
		return "" // the PID is another process's now: the recorded group is gone
	}
	if err := killGroup(pgid); err != nil {
		return ""
	}
	waitGroupGone(ctx, pgid, orphanWait)
	return fmt.Sprintf("killed git (process group %d) left running by a hybrid that was killed", pgid)
}

// waitGroupGone waits until the process group pgid has no members, up to
// limit, and reports whether it is gone.
func waitGroupGone(ctx context.Context, pgid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for groupExists(pgid) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// supervisorKey carries the sourceLock whose record notes the git commands
// run with a context.
type supervisorKey struct{}

// withSupervisor returns ctx carrying l: every git run with it is recorded
// in l's lock file while it runs.
func withSupervisor(ctx context.Context, l *sourceLock) context.Context {
	return context.WithValue(ctx, supervisorKey{}, l)
}

// supervisorFrom returns the sourceLock carried by ctx, or nil.
func supervisorFrom(ctx context.Context) *sourceLock {
	l, _ := ctx.Value(supervisorKey{}).(*sourceLock)
	return l
}
