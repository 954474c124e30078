package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretsDigest(t *testing.T) {
	a := NewSecrets([]byte("key-a-0123456789abcdef0123456789abcdef"), nil)
	b := NewSecrets([]byte("key-b-0123456789abcdef0123456789abcdef"), nil)
	d := a.Digest("pass", "Summer2024!")
	if !strings.HasPrefix(d, "argon2id:") || len(d) != len("argon2id:")+64 {
		t.Fatalf("digest %q, want argon2id:<64 hex>", d)
	}
	if a.Digest("pass", "Summer2024!") != d {
		t.Error("the same key, name and value gave another digest")
	}
	if a.Digest("pass", "Summer2025!") == d {
		t.Error("another value gave the same digest")
	}
	if a.Digest("other", "Summer2024!") == d {
		t.Error("another variable with the same value gave the same digest")
	}
	if b.Digest("pass", "Summer2024!") == d {
		t.Error("another workspace key gave the same digest: a digest could be checked without the key")
	}
	// Through the plan cache, a second digester gives the same digest
	// without deriving it again.
	c := NewPlanCache()
	first := NewSecrets([]byte("key-a-0123456789abcdef0123456789abcdef"), c).Digest("pass", "Summer2024!")
	if first != d || len(c.Secrets) != 1 {
		t.Fatalf("cached digest %q (%d entries), want %q", first, len(c.Secrets), d)
	}
	for id, v := range c.Secrets {
		if strings.Contains(id, "Summer") || v != d {
			t.Errorf("cache entry %q -> %q holds the value or the wrong digest", id, v)
		}
	}
}

func TestLoadDigestKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DigestKeyEnv, "")
	if _, err := LoadDigestKey(dir, false); err == nil || !strings.Contains(err.Error(), DigestKeyEnv) {
		t.Fatalf("no key and no create: %v, want an error naming %s", err, DigestKeyEnv)
	}
	k1, err := LoadDigestKey(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, DigestKeyFilename))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadDigestKey(dir, true)
	if err != nil || string(k1) != string(k2) {
		t.Errorf("second load gave %q, %v; want the same key", k2, err)
	}
	t.Setenv(DigestKeyEnv, "from-the-environment")
	if k, _ := LoadDigestKey(dir, true); string(k) != "from-the-environment" {
		t.Errorf("%s set: key %q", DigestKeyEnv, k)
	}
	t.Setenv(DigestKeyEnv, "")
	os.WriteFile(filepath.Join(dir, DigestKeyFilename), []byte("short\n"), 0o600)
	if _, err := LoadDigestKey(dir, true); err == nil {
		t.Error("a truncated key file was accepted")
	}
}
