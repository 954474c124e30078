package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"os"
	"path/filepath"
	"sync"

	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/templates"
)

// PlanCacheFilename is the plan cache, kept beside the state file.
const PlanCacheFilename = "packer-hybrid.plancache"

// planCacheFormat names the cache's layout (gob-encoded); a file of
// another format is ignored.
const planCacheFormat = "hybrid-plancache 3"

// PlanCache remembers what a plan learnt from templates that did not
// change: each template's Snapshot, keyed by the digests of its packer
// files, and each build's Evaluation, keyed by its template, the values it
// depends on, and checked against what it observed. Like the stat cache it
// can only make a plan faster, never different: an entry is used only when
// everything it was computed from is unchanged.
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
	used    map[string]bool   // entries this plan used or made
	dirty   bool
	loaded  [32]byte
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
		Evals: map[string]*cachedEvaluation{}, Secrets: map[string]string{}, used: map[string]bool{}}
}

// LoadPlanCache reads the cache at path; a missing or unreadable cache is
// an empty one.
func LoadPlanCache(path string) *PlanCache {
	data, err := os.ReadFile(path)
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
	for dir := range c.Templates {
		if !c.used["t:"+dir] {
			delete(c.Templates, dir)
			c.dirty = true
		}
	}
	for key := range c.Evals {
		if !c.used["e:"+key] {
			delete(c.Evals, key)
			c.dirty = true
		}
	}
	for id := range c.Secrets {
		if !c.used["s:"+id] {
			delete(c.Secrets, id)
			c.dirty = true
		}
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
