package wsroot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fixture makes a workspace with an outside directory holding a secret,
// and links of every kind in the workspace.
func fixture(t *testing.T) (*Root, string, string) {
	t.Helper()
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{ws, outside, filepath.Join(ws, "real"), filepath.Join(ws, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("TOP-SECRET-OUTSIDE"), 0o644))
	must(os.WriteFile(filepath.Join(ws, "real", "file"), []byte("inside"), 0o644))
	must(os.Symlink("../outside/secret", filepath.Join(ws, "rel-out")))
	must(os.Symlink(filepath.Join(outside, "secret"), filepath.Join(ws, "abs-out")))
	must(os.Symlink("/proc/self/environ", filepath.Join(ws, "environ")))
	must(os.Symlink("../outside", filepath.Join(ws, "dir-out")))
	must(os.Symlink("real/file", filepath.Join(ws, "rel-in")))
	must(os.Symlink("real", filepath.Join(ws, "dir-in")))
	must(syscall.Mkfifo(filepath.Join(ws, "fifo"), 0o644))
	r, err := Open(ws)
	must(err)
	t.Cleanup(func() { r.Close() })
	return r, ws, outside
}

func TestReadFileStaysInside(t *testing.T) {
	r, _, _ := fixture(t)
	for _, name := range []string{"rel-out", "abs-out", "environ", "dir-out/secret", "../outside/secret", "/etc/passwd", "sub/../../outside/secret"} {
		b, err := r.ReadFile(name)
		if err == nil {
			t.Errorf("ReadFile(%s) = %q, want a refusal", name, b)
			continue
		}
		if strings.Contains(err.Error(), "TOP-SECRET") || strings.Contains(err.Error(), "PATH=") {
			t.Errorf("ReadFile(%s): the error shows content: %v", name, err)
		}
		if !errors.Is(err, ErrOutside) && !strings.Contains(name, "environ") && !strings.Contains(name, "abs-out") {
			t.Errorf("ReadFile(%s): %v, want ErrOutside", name, err)
		}
	}
	if _, err := r.ReadFile("fifo"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFile(fifo): %v, want a refusal without reading", err)
	}
	for _, name := range []string{"real/file", "rel-in", "dir-in/file"} {
		if b, err := r.ReadFile(name); err != nil || string(b) != "inside" {
			t.Errorf("ReadFile(%s) = %q, %v; want the file inside", name, b, err)
		}
	}
}

func TestWritesStayInside(t *testing.T) {
	r, ws, outside := fixture(t)
	if err := r.CheckDir("dir-out"); err == nil {
		t.Error("CheckDir accepted a link to a directory outside")
	}
	if err := r.CheckDir("dir-in"); err == nil {
		t.Error("CheckDir accepted a link, even one inside: writes must go to real directories")
	}
	if err := r.CheckDir("real"); err != nil {
		t.Errorf("CheckDir(real): %v", err)
	}
	if err := r.CheckDir("missing/dir"); err != nil {
		t.Errorf("CheckDir of a directory still to make: %v", err)
	}
	if _, err := r.WriteFile("dir-out/written", []byte("x"), 0o644); err == nil {
		t.Error("WriteFile wrote through a link to outside")
	}
	if _, err := r.WriteFile("rel-out", []byte("x"), 0o644); err == nil {
		t.Error("WriteFile replaced a link")
	}
	if err := r.MkdirAll("dir-out/deeper", 0o755); err == nil {
		t.Error("MkdirAll created through a link to outside")
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 {
		t.Errorf("the outside directory now holds %d entries, want only the secret", len(entries))
	}
	changed, err := r.WriteFile("real/new", []byte("data"), 0o640)
	if err != nil || !changed {
		t.Fatalf("WriteFile(real/new) = %v, %v", changed, err)
	}
	if changed, err := r.WriteFile("real/new", []byte("data"), 0o640); err != nil || changed {
		t.Errorf("rewriting the same bytes: changed %v, %v", changed, err)
	}
	b, _ := os.ReadFile(filepath.Join(ws, "real", "new"))
	fi, _ := os.Stat(filepath.Join(ws, "real", "new"))
	if string(b) != "data" || fi.Mode().Perm() != 0o640 {
		t.Errorf("written %q mode %v", b, fi.Mode().Perm())
	}
}

// TestReadOwnRefusesLinksAndSpecialFiles: hybrid's own files are read only
// when they are regular files, never through a link.
func TestReadOwnRefusesLinksAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "packer-hybrid.statcache")
	if err := os.WriteFile(own, []byte("cache"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadOwn(own); err != nil || string(b) != "cache" {
		t.Fatalf("ReadOwn = %q, %v", b, err)
	}
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"outside": outside, "zero": "/dev/zero", "fifo": fifo} {
		link := filepath.Join(dir, "link-"+name)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if b, err := ReadOwn(link); err == nil {
			t.Errorf("a link to %s was read: %d bytes", name, len(b))
		}
	}
	for _, p := range []string{fifo, "/dev/zero", dir} {
		if _, err := ReadOwn(p); err == nil {
			t.Errorf("%s was read", p)
		}
	}
}
