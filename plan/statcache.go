package plan

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/internal/wsroot"
)

// StatCacheFilename is the stat cache, kept beside the state file.
const StatCacheFilename = "packer-hybrid.statcache"

// statCacheHeader starts the cache file; a file without it is ignored.
const statCacheHeader = "hybrid-statcache 1"

// racyWindow is how close to a scan's start a file's mtime may be before
// the cache stops trusting it: a file written in the same clock tick as the
// scan could change again without its stat changing (git's "racy clean").
var racyWindow = 2 * time.Second

// fileStat is what the cache compares to decide a file is unchanged.
type fileStat struct {
	Size  int64
	Mtime int64 // ns
	Ctime int64 // ns
	Ino   uint64
}

func statOf(fi os.FileInfo) fileStat {
	st := fileStat{Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.Ino = sys.Ino
		st.Ctime = sys.Ctim.Sec*1e9 + sys.Ctim.Nsec
	}
	return st
}

// statOfUnix is statOf for a stat taken with the unix package.
func statOfUnix(st *unix.Stat_t) fileStat {
	return fileStat{
		Size:  st.Size,
		Mtime: st.Mtim.Sec*1e9 + st.Mtim.Nsec,
		Ctime: st.Ctim.Sec*1e9 + st.Ctim.Nsec,
		Ino:   st.Ino,
	}
}

type cacheEntry struct {
	stat   fileStat
	digest string
}

// StatCache remembers the digest of each file with the stat it had, so a
// plan re-hashes only files whose size, mtime, ctime or inode changed. It
// can only make a plan faster, never wrong: an entry is used only when the
// whole stat matches and the file was not modified within racyWindow of the
// scan that recorded it.
type StatCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry // workspace-relative path
	// scanStart is when the current scan began; entries recorded now are
	// saved only if their mtime is safely before it.
	scanStart time.Time
	dirty     bool
	// loaded digests the file the cache was read from, so Save does not
	// rewrite it with the same bytes.
	loaded [32]byte
}

// NewStatCache returns an empty cache for a scan starting now.
func NewStatCache() *StatCache {
	return &StatCache{entries: map[string]cacheEntry{}, scanStart: time.Now()}
}

// LoadStatCache reads the cache at path. A missing or unreadable cache is an
// empty one: the cache is an optimisation, never a source of truth.
func LoadStatCache(path string) *StatCache {
	data, err := wsroot.ReadOwn(path)
	if err != nil {
		return NewStatCache()
	}
	c := parseStatCache(data)
	c.loaded = sha256.Sum256(data)
	return c
}

// parseStatCache reads a cache file's bytes; anything malformed gives an
// empty cache.
func parseStatCache(data []byte) *StatCache {
	c := NewStatCache()
	// One string for the whole file: entries' paths and digests are
	// substrings of it, so loading allocates little beyond the map.
	text := string(data)
	header, rest, ok := strings.Cut(text, "\n")
	if !ok || header != statCacheHeader {
		return c
	}
	c.entries = make(map[string]cacheEntry, strings.Count(rest, "\n"))
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		path, e, ok := parseEntry(line)
		if !ok {
			return NewStatCache()
		}
		c.entries[path] = e
	}
	return c
}

// parseEntry reads one cache line: digest size mtime ctime ino path.
func parseEntry(line string) (string, cacheEntry, bool) {
	var e cacheEntry
	var f [5]string
	for i := range f {
		var ok bool
		f[i], line, ok = strings.Cut(line, " ")
		if !ok || f[i] == "" {
			return "", e, false
		}
	}
	var err1, err2, err3, err4 error
	e.digest = f[0]
	e.stat.Size, err1 = strconv.ParseInt(f[1], 10, 64)
	e.stat.Mtime, err2 = strconv.ParseInt(f[2], 10, 64)
	e.stat.Ctime, err3 = strconv.ParseInt(f[3], 10, 64)
	e.stat.Ino, err4 = strconv.ParseUint(f[4], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || line == "" {
		return "", e, false
	}
	return line, e, true
}

// lookup returns the cached digest of path when its stat is unchanged.
func (c *StatCache) lookup(path string, st fileStat) (string, bool) {
	if c == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[path]
	if !ok || e.stat != st {
		return "", false
	}
	return e.digest, true
}

// record stores a freshly computed digest.
func (c *StatCache) record(path string, st fileStat, digest string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[path]; ok && old.stat == st && old.digest == digest {
		return
	}
	c.entries[path] = cacheEntry{stat: st, digest: digest}
	c.dirty = true
}

// Save writes the cache atomically when it changed, leaving out entries
// that are racily clean (modified within racyWindow of this scan's start),
// so they are hashed again next time.
func (c *StatCache) Save(path string) error {
	if c == nil || !c.dirty {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The cache lives in the state directory; a plan creates no directory.
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil
	}
	b := c.encode()
	if sha256.Sum256(b) == c.loaded {
		// Only racily clean files were hashed again: nothing to keep.
		return nil
	}
	return atomicfile.Write(path, b, 0o644)
}

// encode writes the entries that are not racily clean, sorted by path.
// The caller holds c.mu.
func (c *StatCache) encode() []byte {
	limit := c.scanStart.Add(-racyWindow).UnixNano()
	paths := make([]string, 0, len(c.entries))
	for p, e := range c.entries {
		if strings.ContainsAny(p, "\n\r") {
			continue
		}
		if e.stat.Mtime < limit && e.stat.Ctime < limit {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	buf := make([]byte, 0, len(statCacheHeader)+1+len(paths)*160)
	buf = append(buf, statCacheHeader+"\n"...)
	for _, p := range paths {
		e := c.entries[p]
		buf = append(buf, e.digest...)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, e.stat.Size, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, e.stat.Mtime, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, e.stat.Ctime, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendUint(buf, e.stat.Ino, 10)
		buf = append(buf, ' ')
		buf = append(buf, p...)
		buf = append(buf, '\n')
	}
	return buf
}
