package state

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"

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
)

const filePerm = 0o644

// Local is the default backend: a JSON file on the local disk, written with
// internal/atomicfile, with the previous version kept as <path>.backup.
//
// A Local is safe for use by several goroutines, and represents one client:
// while it holds the lock, a second Lock on it fails like one from another
// process would. To apply many changes from many goroutines without losing
// any, use a Manager.
type Local struct {
	path string

	mu      sync.Mutex
	readErr error        // why the stored state could not be read; blocks Write
	fl      *flock.Flock // the OS lock while held
	held    *LockInfo    // the lock info while held
	stale   *LockInfo    // what the last Lock took over, if anything
	ended   []EndedChild // what it did about the processes its holder left
	// known is the file as this backend last read or wrote it: while the
	// bytes on disk are still those, a Write need not decode them again to
	// check their lineage and serial.
	known knownFile
}

type knownFile struct {
	ok      bool
	digest  [sha256.Size]byte
	lineage string
	serial  uint64
}

func (l *Local) remember(data []byte, lineage string, serial uint64) {
	l.known = knownFile{ok: true, digest: sha256.Sum256(data), lineage: lineage, serial: serial}
}

var _ Backend = (*Local)(nil)

// NewLocal returns a backend for the state file at path (DefaultPath when
// path is empty). Nothing is read or created until it is used.
func NewLocal(path string) *Local {
	if path == "" {
		path = DefaultPath
	}
	return &Local{path: path}
}

// Path is the state file.
func (l *Local) Path() string { return l.path }

// BackupPath is where the previous state is kept.
func (l *Local) BackupPath() string { return l.path + BackupSuffix }

// LockPath is the file that carries the OS lock.
func (l *Local) LockPath() string { return l.path + LockSuffix }

// LockInfoPath is the JSON file that says who holds the lock.
func (l *Local) LockInfoPath() string { return l.path + LockInfoSuffix }

// Read implements Backend.
func (l *Local) Read() (*State, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		l.readErr = nil
		return New(), nil
	}
	if err != nil {
		l.readErr = fmt.Errorf("read state: %w", err)
		return nil, l.readErr
	}
	s, err := Decode(data)
	if err != nil {
		l.readErr = fmt.Errorf("%s: %w", l.path, err)
		return nil, l.readErr
	}
	l.readErr = nil
	l.remember(data, s.Lineage, s.Serial)
	return s, nil
}

// Write implements Backend. It creates the state's directory when needed and
// first removes temporary files a crashed write left next to the state, when
// no other process holds the lock.
func (l *Local) Write(s *State) error {
	if s == nil {
		return errors.New("write state: no state")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.readErr != nil {
		return fmt.Errorf("refusing to overwrite a state that could not be read: %w", l.readErr)
	}
	old, err := os.ReadFile(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	case err != nil:
		return fmt.Errorf("write state: %w", err)
	}
	serial := s.Serial
	if old != nil {
		prev := &State{Lineage: l.known.lineage, Serial: l.known.serial}
		if !l.known.ok || sha256.Sum256(old) != l.known.digest {
			var err error
			if prev, err = Decode(old); err != nil {
				l.readErr = fmt.Errorf("%s: %w", l.path, err)
				return fmt.Errorf("refusing to overwrite a state that could not be read: %w", l.readErr)
			}
		}
		if prev.Lineage != s.Lineage {
			return fmt.Errorf("refusing to write state with lineage %s over %s, which has lineage %s: they are different states; move the file aside to start a new one", s.Lineage, l.path, prev.Lineage)
		}
		if s.Serial != prev.Serial {
			return fmt.Errorf("refusing to write state: %s changed since it was read (read serial %d, now %d); read it again and retry under the state lock", l.path, s.Serial, prev.Serial)
		}
		serial = prev.Serial
	}
	c := s.DeepCopy()
	c.Serial = serial + 1
	data, err := Encode(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	l.cleanTemps()
	if old != nil {
		if err := atomicfile.Write(l.BackupPath(), old, filePerm); err != nil {
			return fmt.Errorf("write state backup: %w", err)
		}
	}
	if err := atomicfile.Write(l.path, data, filePerm); err != nil {
		return err
	}
	l.remember(data, c.Lineage, c.Serial)
	s.Serial = c.Serial
	s.FormatVersion = FormatVersion
	return nil
}

// cleanTemps removes temporary files that a write interrupted by a crash
// left next to the state. It only does so while no other process can be
// writing: when this backend holds the lock, or when the lock is free.
// l.mu must be held.
func (l *Local) cleanTemps() {
	if l.held == nil {
		probe := flock.New(l.LockPath())
		got, err := probe.TryLock()
		if err != nil || !got {
			return
		}
		defer probe.Unlock()
	}
	l.removeTemps()
}

// removeTemps removes atomicfile's temporary files for the state, its backup
// and its lock info. The caller must hold the OS lock.
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

// ReadBackup returns the state as it was before the last write.
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
