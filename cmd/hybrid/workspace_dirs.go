package main

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/hashicorp/hcl/v2"

	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/internal/wsroot"
)

// checkStateDir makes sure the state directory and the state's files are
// not links leading elsewhere before anything locks, reads or writes the
// state: a lock or state file must never be created outside the workspace.
func checkStateDir(cfg *config.Config) hcl.Diagnostics {
	root, err := wsroot.Open(cfg.Dir)
	if err != nil {
		return errDiag("Cannot open the workspace", err, "")
	}
	defer root.Close()
	dir := cfg.Settings.Dirs.State
	if err := root.CheckDir(dir); err != nil {
		return errDiag("The state directory is not a real directory", err, "")
	}
	state := path.Join(dir, stateFilename)
	for _, f := range []string{state, state + ".backup", state + ".lock", state + ".lock.info"} {
		if fi, err := root.Lstat(f); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return errDiag("A state file is a symbolic link", fmt.Errorf("%s is a symbolic link", f),
				"hybrid never follows a link out of the workspace: remove the link")
		}
	}
	return nil
}
