// Package atomicfile writes files so that a reader, or a process that starts
// after a crash, sees either the whole old content or the whole new content,
// never a mix and never a truncated file.
//
// It is the one way hybrid writes the files it owns: state, lockfile, rendered
// var files and plan files.
package atomicfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// TempPrefix starts the name of every temporary file this package creates, so
// a later command can recognise (and remove) one left behind by a crash.
const TempPrefix = ".hybrid-tmp-"

// Write replaces path with data atomically and durably: it writes a temporary
// file in the same directory, fsyncs it, renames it over path and fsyncs the
// directory. On any failure the temporary file is removed and path is left as
// it was. The parent directory must exist.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(dir)
}

// WriteIfChanged is Write, except that when path already holds exactly data
// it does nothing and reports false, so an unchanged file keeps its mtime.
func WriteIfChanged(path string, data []byte, perm os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := Write(path, data, perm); err != nil {
		return false, err
	}
	return true, nil
}

// SyncDir fsyncs a directory so that a rename or create inside it survives a
// power loss.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// CleanTemps removes temporary files a crashed Write left in dir. It returns
// the names it removed.
func CleanTemps(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, TempPrefix+"*"))
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, m := range matches {
		if err := os.Remove(m); err == nil {
			removed = append(removed, filepath.Base(m))
		}
	}
	return removed, nil
}
