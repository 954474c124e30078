package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Stamp digests the stat of every entry of a workspace: what a plan could
// read there, without reading it. Two stamps are equal only when no file,
// directory or link was added, removed, renamed, written, truncated,
// touched or retyped in between (the stat cache's comparison: type and
// mode, size, mtime, ctime and inode), with the exceptions StampWorkspace
// lists.
type Stamp struct {
	Digest [sha256.Size]byte
	// Entries counts what was stat'ed.
	Entries int
	// Unsettled names an entry whose stat cannot vouch for its content:
	// one modified within racyWindow of the walk (a later write in the
	// same clock tick would leave its stat as it is, git's "racy clean"),
	// or a .git file whose repository lives elsewhere. A stamp that is not
	// settled may be compared but must not be kept for later.
	Unsettled string
}

// gitKept are the entries of a .git directory a stamp includes: what moves
// when a checkout's HEAD, branch or index does, and the repository's own
// settings and excludes, which change what git status reports. The object
// store is left out: its objects are named by their content, and a plan
// reads them only through the locked commits.
var gitKept = []string{"HEAD", "config", "index", "info", "packed-refs", "refs"}

// Owned is a workspace directory where hybrid keeps files of its own (the
// state directory): its entries whose names start with one of Prefixes are
// not stamped, nor is the directory's own stat, which their writes move.
// Anything else in it is.
type Owned struct {
	Dir      string
	Prefixes []string
}

// StampWorkspace stamps the workspace dir, every entry under it without
// following links (a link is stamped as itself; what it leads to inside
// the workspace is stamped where it is), but hybrid's own files in the
// owned directories, and of each .git directory only gitKept.
func StampWorkspace(dir string, owned ...Owned) (Stamp, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Stamp{}, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	s := &stamper{
		owned: map[string][]string{},
		limit: time.Now().Add(-racyWindow).UnixNano(),
		slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
	}
	for _, o := range owned {
		s.owned[path.Clean(o.Dir)] = o.Prefixes
	}
	d, err := s.dir(fd, dir, "", nil, nil)
	if err != nil {
		return Stamp{}, err
	}
	st := Stamp{Digest: d, Entries: int(s.entries), Unsettled: s.unsettled}
	return st, nil
}

type stamper struct {
	owned map[string][]string // workspace-relative directory: prefixes
	limit int64               // ns: an entry changed after it is unsettled
	// slots bounds the directories read at once beside the caller's.
	slots chan struct{}

	mu        sync.Mutex
	entries   int64
	unsettled string
}

func (s *stamper) unsettle(rel, why string) {
	s.mu.Lock()
	if s.unsettled == "" || rel < s.unsettled {
		s.unsettled = rel + ": " + why
	}
	s.mu.Unlock()
}

// dir digests the directory open as fd (which it closes): each entry's
// name and stat, in name order, and for a subdirectory its digest. keep,
// when set, names the only entries to stamp; entries whose names start
// with one of drop are not stamped.
func (s *stamper) dir(fd int, abs, rel string, keep, drop []string) ([sha256.Size]byte, error) {
	f := os.NewFile(uintptr(fd), abs)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("read directory %s: %w", abs, err)
	}
	slices.Sort(names)
	names = slices.DeleteFunc(names, func(n string) bool {
		return (keep != nil && !slices.Contains(keep, n)) ||
			slices.ContainsFunc(drop, func(prefix string) bool { return strings.HasPrefix(n, prefix) })
	})
	stats := make([]unix.Stat_t, len(names))
	subs := make([]*[sha256.Size]byte, len(names))
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	for i, name := range names {
		if err := s.entry(fd, abs, rel, name, &stats[i]); err != nil {
			fail(err)
			break
		}
		st := &stats[i]
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue
		}
		var childKeep []string
		if name == ".git" {
			childKeep = gitKept
		}
		childDrop := s.owned[path.Join(rel, name)]
		cfd, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			fail(&fs.PathError{Op: "open", Path: path.Join(abs, name), Err: err})
			break
		}
		d := new([sha256.Size]byte)
		subs[i] = d
		walk := func() {
			var err error
			if *d, err = s.dir(cfd, path.Join(abs, name), path.Join(rel, name), childKeep, childDrop); err != nil {
				fail(err)
			}
		}
		select {
		case s.slots <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-s.slots }()
				walk()
			}()
		default:
			walk()
		}
	}
	wg.Wait()
	if firstErr != nil {
		return [sha256.Size]byte{}, firstErr
	}
	h := sha256.New()
	for i, name := range names {
		writeStat(h, name, &stats[i])
		if subs[i] != nil {
			h.Write(subs[i][:])
		}
	}
	s.mu.Lock()
	s.entries += int64(len(names))
	s.mu.Unlock()
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d, nil
}

// entry stats name in the directory fd into st, as the stamp records it:
// an owned or .git directory by its type alone, an entry removed while the
// walk read its directory as gone.
func (s *stamper) entry(fd int, abs, rel, name string, st *unix.Stat_t) error {
	if err := unix.Fstatat(fd, name, st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if err == unix.ENOENT {
			*st = unix.Stat_t{}
			return nil
		}
		return &fs.PathError{Op: "stat", Path: path.Join(abs, name), Err: err}
	}
	childRel := path.Join(rel, name)
	_, owned := s.owned[childRel]
	if st.Mode&unix.S_IFMT == unix.S_IFDIR && (owned || name == ".git") {
		// Stamped by what they hold, not their own stat: hybrid writes
		// its files in an owned directory, git its temporary files in
		// .git.
		*st = unix.Stat_t{Mode: unix.S_IFDIR}
		return nil
	}
	if changedSince(st, s.limit) {
		s.unsettle(childRel, "changed less than "+racyWindow.String()+" ago")
	}
	if name == ".git" && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		s.unsettle(childRel, "a .git file: its repository lives elsewhere")
	}
	return nil
}

// StampFiles stamps files outside the workspace that a plan's result
// depends on (git's own settings): each path with its stat, following
// links, or as absent.
func StampFiles(paths ...string) Stamp {
	h := sha256.New()
	limit := time.Now().Add(-racyWindow).UnixNano()
	var st Stamp
	for _, p := range paths {
		var s unix.Stat_t
		if err := unix.Stat(p, &s); err != nil {
			h.Write([]byte(p + "\x00absent " + err.Error()))
			continue
		}
		st.Entries++
		if changedSince(&s, limit) && st.Unsettled == "" {
			st.Unsettled = p + ": changed less than " + racyWindow.String() + " ago"
		}
		writeStat(h, p, &s)
	}
	h.Sum(st.Digest[:0])
	return st
}

// writeStat writes an entry's name and what the stamp compares of its stat.
func writeStat(h hash.Hash, name string, st *unix.Stat_t) {
	var buf [8 * 6]byte
	binary.LittleEndian.PutUint64(buf[0:], uint64(st.Mode))
	binary.LittleEndian.PutUint64(buf[8:], uint64(st.Size))
	binary.LittleEndian.PutUint64(buf[16:], uint64(st.Mtim.Nano()))
	binary.LittleEndian.PutUint64(buf[24:], uint64(st.Ctim.Nano()))
	binary.LittleEndian.PutUint64(buf[32:], st.Ino)
	binary.LittleEndian.PutUint64(buf[40:], uint64(st.Dev))
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(buf[:])
}

// changedSince reports whether an entry's content or inode changed at or
// after limit (ns).
func changedSince(st *unix.Stat_t, limit int64) bool {
	return st.Mtim.Nano() >= limit || st.Ctim.Nano() >= limit
}
