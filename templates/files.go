package templates

import (
	"io/fs"
	"os"
)

// Files is what templates are read through: a directory listing, a file's
// bytes and a file's stat, by path. The workspace gives one whose paths are
// workspace-relative and whose source directories read git objects at the
// locked commits; OS reads the local file system.
type Files interface {
	ReadDir(name string) ([]fs.DirEntry, error)
	ReadFile(name string) ([]byte, error)
	Stat(name string) (fs.FileInfo, error)
}

// OS reads the local file system, paths as the os package takes them.
var OS Files = osFiles{}

type osFiles struct{}

func (osFiles) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (osFiles) ReadFile(name string) ([]byte, error)       { return os.ReadFile(name) }
func (osFiles) Stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }
