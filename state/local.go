package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"
	"github.com/google/uuid"

	"github.com/hybridcore/hybrid/internal/atomicfile"
)

// DefaultPath is where the local backend keeps the state, relative to the
// workspace root.
const DefaultPath = "state/packer-hybrid.json"

// File suffixes of the files the local backend keeps next to the state.
const (
	BackupSuffix   = ".backup"
	LockSuffix     = ".lock"
	LockInfoSuffix = ".lock.info"
	JournalSuffix  = ".journal"
)

const filePerm = 0o644

// minJournalLimit is the journal size below which it is never compacted:
// a small state would otherwise be rewritten every few commits.
const minJournalLimit = 1 << 20

// Local is the default backend: a snapshot of the whole state in
// state/packer-hybrid.json (the JSON that Encode writes, what people and
// `state pull` read), plus an append-only journal beside it
// (<path>.journal, see journal.go) that holds the commits made since.
//
// A Commit appends one line to the journal and fsyncs it: its cost does
// not depend on the state's size. Read is the snapshot plus every whole
// journal entry that follows it, in order, up to the first torn one: a
// crash at any byte leaves exactly the commits that returned (and maybe
// the one in flight). The journal is folded into a new snapshot
// (compaction) when it grows past the snapshot's size (and at least 1 MiB),
// and when a client that committed releases the lock, so that between
// commands the snapshot holds everything. Compaction keeps the snapshot it
// replaces as <path>.backup, writes the new one with internal/atomicfile
// (temporary file, fsync, rename, fsync of the directory), then removes the
// journal; a crash between the two leaves entries that the snapshot
// already holds, which Read skips by their serial. Write (state push)
// replaces the snapshot the same way.
//
// Commit, Write and compaction run while this client holds the state lock,
// or else take the OS lock for their duration, so that two writers never
// append at once; while another client holds the lock they are refused with
// a *LockError. Readers take no lock: Read reads the journal before the
// snapshot, so a compaction in between is never seen half done.
//
// A Local is safe for use by several goroutines, and represents one client:
// while it holds the lock, a second Lock on it fails like one from another
// process would. To commit from many goroutines without losing any change,
// use a Manager.
type Local struct {
	path string
	// limit overrides the journal size that triggers compaction (tests).
	limit int64

	mu      sync.Mutex
	readErr error        // why the stored state could not be read; blocks writes
	fl      *flock.Flock // the OS lock while held
	held    *LockInfo    // the lock info while held
	stale   *LockInfo    // what the last Lock took over, if anything
	ended   []EndedChild // what it did about the processes its holder left
	// known is the store as this client last read or wrote it.
	known known
	// dirty is set when this client appended to the journal since it
	// last compacted: releasing the lock compacts.
	dirty bool
	// readKey identifies the bytes the last ReadSummary decided from
	// (see Key); "" when it read no snapshot.
	readKey string
}

// known is the store as a client last read or wrote it: while its files are
// still those, a Commit need not read them again to check the lineage and
// serial, so its cost does not grow with the state.
type known struct {
	ok bool
	// snap is the snapshot's file info; nil when there is none.
	snap os.FileInfo
	// journal is the journal's file info, nil when there is none, and
	// journalSize the bytes of it read or written.
	journal     os.FileInfo
	journalSize int64
	// keep is how much of the journal is worth keeping: up to the end of
	// the last entry applied. What follows is a torn entry, or entries
	// that do not follow the snapshot (dropped counts those), and goes
	// before the next append.
	keep    int64
	dropped int
	// entries counts the entries applied on top of the snapshot.
	entries int
	lineage string
	serial  uint64
}

// NewLocal returns a backend for the state file at path (DefaultPath when
// path is empty). Nothing is read or created until it is used.
func NewLocal(path string) *Local {
	if path == "" {
		path = DefaultPath
	}
	return &Local{path: path}
}

// Path is the state file (the snapshot).
func (l *Local) Path() string { return l.path }

// BackupPath is where the snapshot before the last compaction or Write is
// kept.
func (l *Local) BackupPath() string { return l.path + BackupSuffix }

// LockPath is the file that carries the OS lock.
func (l *Local) LockPath() string { return l.path + LockSuffix }

// LockInfoPath is the JSON file that says who holds the lock.
func (l *Local) LockInfoPath() string { return l.path + LockInfoSuffix }

// JournalPath is the journal of the commits made since the snapshot.
func (l *Local) JournalPath() string { return l.path + JournalSuffix }

// Read implements Backend.
func (l *Local) Read(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, _, err := l.load()
	l.readErr = err
	if err != nil {
		return nil, err
	}
	return s, nil
}

// load reads the stored state and remembers what it read in l.known. It
// returns the snapshot's bytes too (nil when there is none). The journal is
// read before the snapshot: a compaction replaces the snapshot before it
// removes the journal, so whichever snapshot is read holds at least what
// the journal read before it was folded into. l.mu must be held.
func (l *Local) load() (*State, []byte, error) {
	jdata, jfi, err := readJournal(l.JournalPath())
	if err != nil {
		return nil, nil, fmt.Errorf("read state journal: %w", err)
	}
	k := known{ok: true, journal: jfi, journalSize: int64(len(jdata))}
	sdata, sfi, err := readFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		// Whatever a journal holds without its snapshot belongs to a
		// state that was moved aside; the first commit removes it.
		l.known = k
		return New(), nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read state: %w", err)
	}
	s, dk, err := decodeStored(l.path, l.JournalPath(), sdata, jdata)
	if err != nil {
		return nil, nil, err
	}
	k.snap = sfi
	k.keep, k.dropped, k.entries = dk.keep, dk.dropped, dk.entries
	k.lineage, k.serial = s.Lineage, s.Serial
	l.known = k
	return s, sdata, nil
}

// decodeStored decodes a state from its snapshot's and its journal's bytes
// (path and journalPath name them in errors): the snapshot, then every
// whole journal entry that follows it. The known it returns says how much
// of the journal was applied (keep, dropped, entries), and the lineage and
// serial reached.
func decodeStored(path, journalPath string, sdata, jdata []byte) (*State, known, error) {
	var k known
	s, err := Decode(sdata)
	if err != nil {
		return nil, k, fmt.Errorf("%s: %w", path, err)
	}
	lines, _ := splitJournal(jdata)
	var start int64
	for i, ln := range lines {
		e, err := decodeEntry(ln.payload)
		if err != nil {
			return nil, k, fmt.Errorf("%s: the entry at byte %d is not valid: %w; move the journal aside to read the state without the commits from this one on", journalPath, start, err)
		}
		start = ln.end
		if e.Serial <= s.Serial {
			continue // already in the snapshot: a compaction was cut short
		}
		if e.Lineage != s.Lineage || e.Serial != s.Serial+1 {
			k.dropped = len(lines) - i
			break
		}
		s.Apply(e.Change)
		s.Serial = e.Serial
		k.entries++
		k.keep = ln.end
	}
	k.ok = true
	k.lineage, k.serial = s.Lineage, s.Serial
	return s, k, nil
}

// readFile reads a file with the info of what was read.
func readFile(path string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readOpen(f)
}

// readJournal reads the journal; nothing, and no error, when there is
// none.
func readJournal(path string) ([]byte, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readOpen(f)
}

func readOpen(f *os.File) ([]byte, os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	// Read into a buffer of the file's size (and some more, to see the
	// end), not one grown from 512 bytes: a large state is read at once.
	data := make([]byte, 0, fi.Size()+512)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, fi, nil
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

// unchanged reports whether the store's files are still those l.known
// describes, so that its lineage and serial are still known. l.mu must be
// held.
func (l *Local) unchanged() bool {
	k := &l.known
	if !k.ok {
		return false
	}
	sfi, err := os.Stat(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if k.snap != nil {
			return false
		}
	case err != nil:
		return false
	default:
		if k.snap == nil || !os.SameFile(sfi, k.snap) || sfi.Size() != k.snap.Size() || !sfi.ModTime().Equal(k.snap.ModTime()) {
			return false
		}
	}
	jfi, err := os.Lstat(l.JournalPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return k.journal == nil
	case err != nil:
		return false
	}
	return k.journal != nil && os.SameFile(jfi, k.journal) && jfi.Size() == k.journalSize
}

// refuseUnreadable is the error of a write refused because the stored
// state could not be read.
func refuseUnreadable(err error) error {
	return fmt.Errorf("refusing to overwrite a state that could not be read: %w", err)
}

// Commit implements Backend: one journal line, fsync'd (the first commit
// of a store writes the snapshot instead).
func (l *Local) Commit(ctx context.Context, lineage string, serial uint64, c *Change) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("commit state: %w", err)
	}
	if err := c.Check(); err != nil {
		return 0, fmt.Errorf("commit state: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.readErr != nil {
		return 0, refuseUnreadable(l.readErr)
	}
	release, lockErr := l.writeLock()
	defer release()
	if !l.unchanged() {
		if _, _, err := l.load(); err != nil {
			l.readErr = err
			return 0, refuseUnreadable(err)
		}
	}
	k := &l.known
	exists := k.snap != nil
	if exists && k.lineage != lineage {
		return 0, fmt.Errorf("refusing to commit to %s: it holds the state with lineage %s, and this change was made for lineage %s; they are different states", l.path, k.lineage, lineage)
	}
	if k.serial != serial {
		return 0, &SerialError{Stored: k.serial, Read: serial,
			Msg: fmt.Sprintf("refusing to commit to %s: the stored state is at serial %d, and this change was made against serial %d (someone else wrote the state since it was read); read it again and retry under the state lock", l.path, k.serial, serial)}
	}
	if lockErr != nil {
		return 0, fmt.Errorf("refusing to commit to %s: %w", l.path, lockErr)
	}
	if !exists {
		if _, err := uuid.Parse(lineage); err != nil {
			return 0, fmt.Errorf("commit state: lineage %q is not a UUID", lineage)
		}
		s := &State{FormatVersion: FormatVersion, Lineage: lineage}
		s.normalize()
		s.Apply(c)
		s.Serial = 1
		if err := l.replaceSnapshot(s, nil); err != nil {
			return 0, err
		}
		return 1, nil
	}
	line, err := encodeEntry(&journalEntry{FormatVersion: FormatVersion, Lineage: lineage, Serial: serial + 1, Change: c})
	if err != nil {
		return 0, err
	}
	if err := l.appendJournal(line); err != nil {
		return 0, err
	}
	k.entries++
	k.serial = serial + 1
	l.dirty = true
	if k.journalSize > l.journalLimit() {
		// The commit is durable already: a compaction that fails only
		// leaves a longer journal.
		if err := l.compact(); err != nil {
			slog.Warn("state: cannot fold the journal into the snapshot; the journal keeps every commit", "state", l.path, "error", err)
		}
	}
	return serial + 1, nil
}

// journalLimit is the journal size past which a commit compacts.
func (l *Local) journalLimit() int64 {
	if l.limit > 0 {
		return l.limit
	}
	if l.known.snap != nil {
		return max(minJournalLimit, l.known.snap.Size())
	}
	return minJournalLimit
}

// appendJournal appends one line to the journal and fsyncs it, first
// cutting off what l.known says is not worth keeping (a torn entry a crash
// left). l.mu and the OS lock must be held, and l.known be current.
func (l *Local) appendJournal(line []byte) error {
	k := &l.known
	path := l.JournalPath()
	created := k.journal == nil
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|oNoFollow, filePerm)
	if err != nil {
		return fmt.Errorf("commit state: %w", err)
	}
	defer f.Close()
	fail := func(err error) error {
		// What is on disk is no longer what k says.
		k.ok = false
		return fmt.Errorf("commit state: %s: %w", path, err)
	}
	if k.journalSize != k.keep {
		if k.dropped > 0 {
			slog.Warn("state: dropping journal entries that do not follow the snapshot", "journal", path, "entries", k.dropped)
		}
		if err := f.Truncate(k.keep); err != nil {
			return fail(err)
		}
	}
	if _, err := f.Write(line); err != nil {
		f.Truncate(k.keep)
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if created {
		if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
			return fail(err)
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	k.journal, k.journalSize, k.keep, k.dropped = fi, fi.Size(), fi.Size(), 0
	return nil
}

// compact folds the journal into a new snapshot. l.mu and the OS lock must
// be held.
func (l *Local) compact() error {
	s, snap, err := l.load()
	if err != nil {
		l.readErr = err
		return err
	}
	if l.known.entries == 0 {
		// Nothing to fold: at most a torn entry, or entries the
		// snapshot holds already.
		if l.known.journal != nil {
			if err := os.Remove(l.JournalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			l.known.journal, l.known.journalSize, l.known.keep, l.known.dropped = nil, 0, 0, 0
		}
		l.dirty = false
		return nil
	}
	return l.replaceSnapshot(s, snap)
}

// replaceSnapshot writes s as the new snapshot, keeping backup (when not
// nil) as the backup, then removes the journal: every entry in it is in s,
// or belongs to the state s replaces. l.mu and the OS lock must be held.
func (l *Local) replaceSnapshot(s *State, backup []byte) error {
	data, err := Encode(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	l.removeTemps()
	if backup != nil {
		if err := atomicfile.Write(l.BackupPath(), backup, filePerm); err != nil {
			return fmt.Errorf("write state backup: %w", err)
		}
	}
	if err := atomicfile.Write(l.path, data, filePerm); err != nil {
		l.known.ok = false
		return err
	}
	// From here the new state is the stored one. A journal that cannot
	// be removed holds only entries it already has, which Read skips.
	k := known{ok: true, lineage: s.Lineage, serial: s.Serial}
	if err := os.Remove(l.JournalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		slog.Warn("state: cannot remove the journal after writing the snapshot", "journal", l.JournalPath(), "error", err)
		k.ok = false
	}
	fi, err := os.Stat(l.path)
	if err != nil {
		k.ok = false
	}
	k.snap = fi
	l.known = k
	l.dirty = false
	return nil
}

// writeLock makes sure that no other client writes while this one does:
// either this client holds the state lock, or it takes the OS lock until
// release is called. When another client holds the lock, err is a
// *LockError. release is never nil. l.mu must be held.
func (l *Local) writeLock() (release func(), err error) {
	nothing := func() {}
	if l.held != nil {
		return nothing, nil
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return nothing, fmt.Errorf("lock state: %w", err)
	}
	probe := flock.New(l.LockPath())
	got, err := probe.TryLock()
	if err != nil {
		return nothing, fmt.Errorf("lock state: %s: %w", l.LockPath(), err)
	}
	if !got {
		holder, _ := readLockInfo(l.LockInfoPath())
		return nothing, &LockError{Info: holder}
	}
	return func() { probe.Unlock() }, nil
}

// Write implements Backend. It creates the state's directory when needed,
// keeps the state it replaces as the backup and removes the temporary
// files a crashed write left next to the state.
func (l *Local) Write(ctx context.Context, s *State, force bool) error {
	if s == nil {
		return errors.New("write state: no state")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.readErr != nil {
		return refuseUnreadable(l.readErr)
	}
	release, lockErr := l.writeLock()
	defer release()
	prev, snap, err := l.load()
	if err != nil {
		l.readErr = err
		return refuseUnreadable(err)
	}
	next := s.Serial + 1
	var backup []byte
	if l.known.snap != nil {
		if (prev.Lineage != s.Lineage || s.Serial < prev.Serial) && !force {
			return &WriteConflictError{Where: l.path, StoredLineage: prev.Lineage, Lineage: s.Lineage, StoredSerial: prev.Serial, Serial: s.Serial}
		}
		next = max(s.Serial, prev.Serial) + 1
		backup = snap
		if l.known.entries > 0 {
			if backup, err = Encode(prev); err != nil {
				return err
			}
		}
	}
	if lockErr != nil {
		return fmt.Errorf("refusing to write %s: %w", l.path, lockErr)
	}
	c := s.DeepCopy()
	c.Serial = next
	if err := l.replaceSnapshot(c, backup); err != nil {
		return err
	}
	s.Serial = next
	s.FormatVersion = FormatVersion
	return nil
}

// removeTemps removes atomicfile's temporary files for the state, its backup
// and its lock info, which a write interrupted by a crash left behind. The
// caller must hold the OS lock.
func (l *Local) removeTemps() {
	dir, base := filepath.Dir(l.path), filepath.Base(l.path)
	for _, name := range []string{base + "-", base + BackupSuffix + "-", base + LockInfoSuffix + "-"} {
		matches, _ := filepath.Glob(filepath.Join(dir, atomicfile.TempPrefix+globEscape(name)+"*"))
		for _, m := range matches {
			os.Remove(m)
		}
	}
}

// globEscape quotes the glob metacharacters in a literal file name.
func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

// ReadBackup returns the snapshot as it was before the last compaction or
// Write: after a command that wrote the state, the state before it.
func (l *Local) ReadBackup() (*State, error) {
	data, err := os.ReadFile(l.BackupPath())
	if err != nil {
		return nil, fmt.Errorf("read state backup: %w", err)
	}
	s, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", l.BackupPath(), err)
	}
	return s, nil
}
