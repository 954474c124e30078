// Package version holds hybrid's own version, checked against the
// required_version constraint of a hybrid.hcl settings block.
package version

// Version is hybrid's semantic version. Release builds may override it with
// -ldflags "-X github.com/hybridcore/hybrid/internal/version.Version=...".
var Version = "0.1.0"
