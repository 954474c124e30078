package plan

import (
	"path/filepath"
	"testing"
)

// TestPlanCacheBlobsAreChecked: a file's content is kept only under the
// git object name it hashes to, and a kept content that no longer hashes
// to its name (a cache file edited or corrupted) is not used.
func TestPlanCacheBlobsAreChecked(t *testing.T) {
	content := []byte("os_name = \"debian\"\n")
	// git hash-object of content, in both object formats.
	sha1Name := gitBlobName(content, 40)
	sha256Name := gitBlobName(content, 64)
	if sha1Name != "git:d973d77f1daaba745abb4963828a9fe1211b3136" || len(sha256Name) != len("git:")+64 {
		t.Fatalf("gitBlobName = %q", sha1Name)
	}
	c := NewPlanCache()
	c.putBlob("git:"+sha1Name[len("git:")+1:]+"0", content) // another name
	c.putBlob("git:abc", content)                           // no object format
	if len(c.Blobs) != 0 {
		t.Fatal("putBlob kept a content under a name it does not hash to")
	}
	c.putBlob(sha1Name, content)
	c.putBlob(sha256Name, content)
	if got := c.blob(sha1Name); string(got) != string(content) {
		t.Fatalf("blob(%s) = %q", sha1Name, got)
	}
	path := filepath.Join(t.TempDir(), PlanCacheFilename)
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded := LoadPlanCache(path)
	if got := loaded.blob(sha256Name); string(got) != string(content) {
		t.Fatalf("after a round trip, blob(%s) = %q", sha256Name, got)
	}
	loaded.Blobs[sha1Name] = []byte("os_name = \"ubuntu\"\n")
	if got := loaded.blob(sha1Name); got != nil {
		t.Errorf("blob returned %q, which does not hash to %s", got, sha1Name)
	}
}
