package plan

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"

	"github.com/hybridcore/hybrid/internal/atomicfile"
	"github.com/hybridcore/hybrid/internal/wsroot"
)

// DigestKeyFilename is the workspace's secret digest key, beside the state
// file, readable by its owner only. It never enters the state or a plan
// file.
const DigestKeyFilename = "packer-hybrid.key"

// DigestKeyEnv names the environment variable that gives the digest key
// instead of the file: what CI runners set, so every runner digests
// secrets the same way.
const DigestKeyEnv = "HYBRID_DIGEST_KEY"

// The cost of one secret digest: Argon2id with 16 MiB of memory, one pass.
// A guess costs an attacker as much, and without the key no guess can be
// checked at all.
const (
	argonTime    = 1
	argonMemory  = 16 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

// Secrets digests sensitive values for fingerprints: a change of a secret
// changes its digest, but a digest in a state or plan file reveals nothing
// that can be checked against a guess without the workspace's key, and
// each guess costs an Argon2id derivation. Digests are memoised per
// process and, through the plan cache, across plans. Safe for concurrent
// use.
type Secrets struct {
	key   []byte
	cache *PlanCache

	mu   sync.Mutex
	memo map[string]string
}

// NewSecrets returns a digester with the workspace's key; cache may be nil.
func NewSecrets(key []byte, cache *PlanCache) *Secrets {
	return &Secrets{key: key, cache: cache, memo: map[string]string{}}
}

// Digest returns the digest of the secret value of variable name.
func (s *Secrets) Digest(name, value string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("hybrid-secret\x00" + name + "\x00"))
	m.Write([]byte(value))
	id := hex.EncodeToString(m.Sum(nil))
	s.mu.Lock()
	d, ok := s.memo[id]
	s.mu.Unlock()
	if ok {
		return d
	}
	if d = s.cache.secret(id); d == "" {
		salt := hmac.New(sha256.New, s.key)
		salt.Write([]byte("hybrid-salt\x00" + name))
		sum := argon2.IDKey([]byte(value), salt.Sum(nil), argonTime, argonMemory, argonThreads, argonKeyLen)
		d = "argon2id:" + hex.EncodeToString(sum)
		s.cache.putSecret(id, d)
	}
	s.mu.Lock()
	s.memo[id] = d
	s.mu.Unlock()
	return d
}

// NewDigestKey returns a new random digest key.
func NewDigestKey() string {
	raw := make([]byte, 32)
	rand.Read(raw) // never fails (crypto/rand)
	return hex.EncodeToString(raw)
}

// LoadDigestKey returns the workspace's digest key: DigestKeyEnv when set,
// else the key file in stateDir. When there is none and create is set, a
// new random key is written there (mode 0600); without create, a missing
// key is an error saying how to make one.
func LoadDigestKey(stateDir string, create bool) ([]byte, error) {
	if k := os.Getenv(DigestKeyEnv); k != "" {
		return []byte(k), nil
	}
	path := filepath.Join(stateDir, DigestKeyFilename)
	b, err := wsroot.ReadOwn(path)
	switch {
	case err == nil:
		k := strings.TrimSpace(string(b))
		if len(k) < 32 {
			return nil, fmt.Errorf("%s holds no usable key (want at least 32 characters); remove it to let hybrid make a new one (secrets then count as changed once)", path)
		}
		return []byte(k), nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read the digest key: %w", err)
	case !create:
		return nil, fmt.Errorf("no digest key: set %s or run hybrid init", DigestKeyEnv)
	}
	k := NewDigestKey()
	if err := WriteDigestKey(stateDir, k); err != nil {
		return nil, err
	}
	return []byte(k), nil
}

// WriteDigestKey writes key as the key file in stateDir (mode 0600),
// replacing any there: what init -migrate-state does when it brings a
// shared state, and its key, back to the local backend.
func WriteDigestKey(stateDir, key string) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(stateDir, DigestKeyFilename), []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("write the digest key: %w", err)
	}
	return nil
}
