package wsgen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hybridcore/hybrid/lock"
)

// Generate writes the workspace spec describes into dir, which must be
// empty or not exist yet. Files are written in parallel on all CPUs.
func Generate(dir string, spec Spec) error {
	l, err := newLayout(spec)
	if err != nil {
		return fmt.Errorf("generate workspace: %w", err)
	}
	files, err := l.plan()
	if err != nil {
		return fmt.Errorf("generate workspace: %w", err)
	}
	if err := prepareDir(dir); err != nil {
		return err
	}
	dirs := map[string]bool{}
	for _, f := range files {
		dirs[path.Dir(f.path)] = true
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	for _, d := range sorted {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
			return fmt.Errorf("generate workspace: %w", err)
		}
	}
	if err := writeAll(dir, spec.Seed, files); err != nil {
		return fmt.Errorf("generate workspace: %w", err)
	}
	// Each source is a git checkout with one commit (fixed author and
	// date, so the same commit ID every time) that the lockfile pins:
	// plans read sources from git objects at the locked commits.
	for _, s := range l.sources {
		commit, err := commitSource(filepath.Join(dir, filepath.FromSlash(s.dir())), s)
		if err != nil {
			return fmt.Errorf("generate workspace: source %s: %w", s.name, err)
		}
		s.commit = commit
	}
	if err := lock.Write(filepath.Join(dir, lock.DefaultFilename), l.lockFile()); err != nil {
		return fmt.Errorf("generate workspace: %w", err)
	}
	return nil
}

// prepareDir creates dir, or checks that it is empty, so a workspace is
// never mixed with other files.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("generate workspace: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("generate workspace: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("generate workspace: %s is not empty; choose a new directory or remove this one", dir)
	}
	return nil
}

// writeAll writes the files with one worker per CPU, each reusing a buffer
// for filler content.
func writeAll(dir string, seed uint64, files []fileSpec) error {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan fileSpec)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for f := range jobs {
				data := f.content
				if data == nil {
					if int64(cap(buf)) < f.size {
						buf = make([]byte, f.size)
					}
					data = buf[:f.size]
					r := rng(seed, "file:"+f.path)
					if f.binary {
						fillBinary(r, data)
					} else {
						fillText(r, data)
					}
				}
				if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f.path)), data, 0o644); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	return first
}

// commitSource makes dir a git repository holding its files in one commit
// on the source's ref, and returns the commit ID. Author, committer, date
// and message are fixed and the user's git configuration is ignored, so
// the ID depends only on the files.
func commitSource(dir string, s *source) (string, error) {
	env := append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME=wsgen", "GIT_AUTHOR_EMAIL=wsgen@example.invalid", "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=wsgen", "GIT_COMMITTER_EMAIL=wsgen@example.invalid", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z",
	)
	git := func(args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return string(bytes.TrimSpace(out)), nil
	}
	steps := [][]string{
		{"init", "--quiet", "--initial-branch=main"},
		{"add", "--all"},
		{"commit", "--quiet", "--no-verify", "--no-gpg-sign", "--message=Templates for " + s.plat.title},
	}
	if s.ref != "main" {
		steps = append(steps, []string{"tag", "--end-of-options", s.ref})
	}
	for _, args := range steps {
		if _, err := git(args...); err != nil {
			return "", err
		}
	}
	return git("rev-parse", "--verify", "HEAD^{commit}")
}
