package plan

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sync"

	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/internal/wsroot"
	"github.com/hybridcore/hybrid/sources"
	"github.com/hybridcore/hybrid/templates"
)

// PlanCacheFilename is the plan cache, kept beside the state file.
const PlanCacheFilename = "packer-hybrid.plancache"

// planCacheFormat names the cache's layout (gob-encoded); a file of
// another format is ignored.
const planCacheFormat = "hybrid-plancache 4"

// PlanCache remembers what a plan learnt from templates that did not
// change: each template's Snapshot, keyed by the digests of its packer
// files, and each build's Evaluation, keyed by its template, the values it
// depends on, and checked against what it observed. It also keeps what git
// said of each locked source commit (its Listing, keyed by the commit's
// name) and the content of small files read from sources (keyed by their
// git object name and checked against it), so a warm plan runs no git.
// Like the stat cache it can only make a plan faster, never different: an
// entry is used only when everything it was computed from is unchanged.
type PlanCache struct {
	mu        sync.Mutex
	Format    string                       `json:"format"`
	Templates map[string]*cachedTemplate   `json:"templates"`
	Evals     map[string]*cachedEvaluation `json:"evaluations"`
	// Secrets maps a keyed HMAC of a secret to its slow digest, so a
	// plan derives each secret's Argon2id digest once. The HMAC needs
	// the workspace key, which lives beside this file, never in state
	// or plan files.
	Secrets map[string]string `json:"secrets"`
	// Listings maps a source commit to what git said of it (its commit
	// object and the listing of its trees), so a plan reads a source's
	// files at its locked commit without running git until it needs a
	// file's content. A commit's name digests its content: an entry
	// never goes stale.
	Listings map[string]*sources.Listing `json:"listings"`
	// Blobs maps a git object name ("git:<oid>") to the content of a
	// small file read from a source (var files), checked against the
	// name before use.
	Blobs  map[string][]byte `json:"blobs"`
	used   map[string]bool   // entries this plan used or made
	dirty  bool
	loaded [32]byte
}

type cachedTemplate struct {
	Key      string              `json:"key"`
	Snapshot *templates.Snapshot `json:"snapshot"`
}

type cachedEvaluation struct {
	Eval *templates.Evaluation `json:"evaluation"`
}

// NewPlanCache returns an empty cache.
func NewPlanCache() *PlanCache {
	return &PlanCache{Format: planCacheFormat, Templates: map[string]*cachedTemplate{},
		Evals: map[string]*cachedEvaluation{}, Secrets: map[string]string{}, Listings: map[string]*sources.Listing{},
		Blobs: map[string][]byte{}, used: map[string]bool{}}
}

// LoadPlanCache reads the cache at path; a missing or unreadable cache is
// an empty one.
func LoadPlanCache(path string) *PlanCache {
	data, err := wsroot.ReadOwn(path)
	if err != nil {
		return NewPlanCache()
	}
	c := NewPlanCache()
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(c); err != nil || c.Format != planCacheFormat || c.Templates == nil || c.Evals == nil {
		return NewPlanCache()
	}
	c.used = map[string]bool{}
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	if c.Listings == nil {
		c.Listings = map[string]*sources.Listing{}
	}
	if c.Blobs == nil {
		c.Blobs = map[string][]byte{}
	}
	c.loaded = sha256.Sum256(data)
	return c
}

// template returns the snapshot cached for a template directory whose
// packer files have the digest key.
func (c *PlanCache) template(dir, key string) *templates.Snapshot {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.Templates[dir]
	if e == nil || e.Key != key || e.Snapshot == nil {
		return nil
	}
	c.used["t:"+dir] = true
	return e.Snapshot
}

// putTemplate caches a template's snapshot.
func (c *PlanCache) putTemplate(dir, key string, s *templates.Snapshot) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Templates[dir] = &cachedTemplate{Key: key, Snapshot: s}
	c.used["t:"+dir] = true
	c.dirty = true
}

// evaluation returns the cached evaluation for key if every observation it
// made still holds, as check reports.
func (c *PlanCache) evaluation(key string, check func(templates.Observation) bool) *templates.Evaluation {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	e := c.Evals[key]
	c.mu.Unlock()
	if e == nil || e.Eval == nil {
		return nil
	}
	for _, o := range e.Eval.Observed {
		if !check(o) {
			return nil
		}
	}
	c.mu.Lock()
	c.used["e:"+key] = true
	c.mu.Unlock()
	return e.Eval
}

// putEvaluation caches an evaluation.
func (c *PlanCache) putEvaluation(key string, ev *templates.Evaluation) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Evals[key] = &cachedEvaluation{Eval: ev}
	c.used["e:"+key] = true
	c.dirty = true
}

// secret returns the cached digest of the secret whose keyed HMAC is id.
func (c *PlanCache) secret(id string) string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.Secrets[id]
	if d != "" {
		c.used["s:"+id] = true
	}
	return d
}

// putSecret caches a secret's digest.
func (c *PlanCache) putSecret(id, digest string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Secrets[id] = digest
	c.used["s:"+id] = true
	c.dirty = true
}

// listing returns the listing cached for a source commit.
func (c *PlanCache) listing(commit string) *sources.Listing {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.Listings[commit]
	if l == nil || l.Commit != commit {
		return nil
	}
	c.used["l:"+commit] = true
	return l
}

// putListing caches a source commit's listing.
func (c *PlanCache) putListing(l *sources.Listing) {
	if c == nil || l == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used["l:"+l.Commit] = true
	if old := c.Listings[l.Commit]; old != nil && bytes.Equal(old.Object, l.Object) && bytes.Equal(old.Trees, l.Trees) {
		return
	}
	c.Listings[l.Commit] = l
	c.dirty = true
}

// maxCachedBlob is the largest file content the cache keeps.
const maxCachedBlob = 256 << 10

// blob returns the cached content of the git object named oid ("git:<hex>"),
// when it hashes to that name.
func (c *PlanCache) blob(oid string) []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	b, ok := c.Blobs[oid]
	c.mu.Unlock()
	if !ok || gitBlobName(b, len(oid)-len("git:")) != oid {
		return nil
	}
	c.mu.Lock()
	c.used["b:"+oid] = true
	c.mu.Unlock()
	return b
}

// putBlob caches a small file's content by its git object name, when it
// hashes to that name.
func (c *PlanCache) putBlob(oid string, b []byte) {
	if c == nil || len(b) > maxCachedBlob || gitBlobName(b, len(oid)-len("git:")) != oid {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used["b:"+oid] = true
	if _, ok := c.Blobs[oid]; !ok {
		c.Blobs[oid] = bytes.Clone(b)
		c.dirty = true
	}
}

// gitBlobName is the name git gives a blob of content b, "git:<hex>", in
// the object format whose names have hexLen digits (SHA-1: 40, SHA-256:
// 64); "" for another length.
func gitBlobName(b []byte, hexLen int) string {
	var h hash.Hash
	switch hexLen {
	case 2 * sha1.Size:
		h = sha1.New()
	case 2 * sha256.Size:
		h = sha256.New()
	default:
		return ""
	}
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return "git:" + hex.EncodeToString(h.Sum(nil))
}

// Save writes the cache atomically when this plan added to it, keeping
// only the entries it used, so the cache follows the workspace instead of
// growing with every change. Like the stat cache it is written only into
// an existing state directory.
func (c *PlanCache) Save(path string) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, dropped := range []bool{
		dropUnused(c.Templates, c.used, "t:"),
		dropUnused(c.Evals, c.used, "e:"),
		dropUnused(c.Secrets, c.used, "s:"),
		dropUnused(c.Blobs, c.used, "b:"),
		dropUnused(c.Listings, c.used, "l:"),
	} {
		c.dirty = c.dirty || dropped
	}
	if !c.dirty {
		return nil
	}
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(c); err != nil {
		return err
	}
	if sha256.Sum256(buf.Bytes()) == c.loaded {
		return nil
	}
	return atomicfile.Write(path, buf.Bytes(), 0o600)
}

// dropUnused deletes the entries of m whose key, after prefix, this plan
// did not use, and reports whether it deleted any.
func dropUnused[V any](m map[string]V, used map[string]bool, prefix string) bool {
	dropped := false
	for k := range m {
		if !used[prefix+k] {
			delete(m, k)
			dropped = true
		}
	}
	return dropped
}
