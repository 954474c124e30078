//go:build !unix

package state_test

import "errors"

// childLockAndSpawn needs process groups, which are Unix only.
func childLockAndSpawn(path string) error { return errors.New("process groups are Unix only") }
