package plan

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hybridcore/hybrid/internal/atomicfile"
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
}

// NewStatCache returns an empty cache for a scan starting now.
func NewStatCache() *StatCache {
	return &StatCache{entries: map[string]cacheEntry{}, scanStart: time.Now()}
}

// LoadStatCache reads the cache at path. A missing or unreadable cache is an
// empty one: the cache is an optimisation, never a source of truth.
func LoadStatCache(path string) *StatCache {
	c := NewStatCache()
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	if !sc.Scan() || sc.Text() != statCacheHeader {
		return c
	}
	for sc.Scan() {
		// digest size mtime ctime ino path
		f := strings.SplitN(sc.Text(), " ", 6)
		if len(f) != 6 {
			return NewStatCache()
		}
		var e cacheEntry
		var err1, err2, err3, err4 error
		e.digest = f[0]
		e.stat.Size, err1 = strconv.ParseInt(f[1], 10, 64)
		e.stat.Mtime, err2 = strconv.ParseInt(f[2], 10, 64)
		e.stat.Ctime, err3 = strconv.ParseInt(f[3], 10, 64)
		e.stat.Ino, err4 = strconv.ParseUint(f[4], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return NewStatCache()
		}
		c.entries[f[5]] = e
	}
	return c
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
	var buf bytes.Buffer
	buf.Grow(len(paths) * 120)
	buf.WriteString(statCacheHeader + "\n")
	for _, p := range paths {
		e := c.entries[p]
		fmt.Fprintf(&buf, "%s %d %d %d %d %s\n", e.digest, e.stat.Size, e.stat.Mtime, e.stat.Ctime, e.stat.Ino, p)
	}
	// The cache lives in the state directory; a plan creates no directory.
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil
	}
	return atomicfile.Write(path, buf.Bytes(), 0o644)
}
