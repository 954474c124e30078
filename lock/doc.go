// Package lock owns hybrid.lock.hcl, the lockfile a team commits so that every
// machine runs the same packer, the same plugins and the same source commits.
//
// It reads the lockfile (hclparse + gohcl, with diagnostics that point at the
// offending line), writes it (hclwrite, deterministic bytes, atomically through
// internal/atomicfile), checks version constraints with hashicorp/go-version,
// reports every way a lockfile no longer satisfies the configuration, finds the
// plugin binaries packer has installed (and those of other platforms in a local
// plugin mirror, as binaries or release zips) and hashes them, and computes the
// new lockfile for "hybrid lock" and "hybrid init" as a pure function of what
// it is given. Plugin hashes are recorded by platform ("linux_amd64"), so that
// a binary is checked against its own platform's hashes.
//
// It must not run git or packer, read hybrid.hcl or the state, or import any
// other hybrid package except internal/atomicfile: callers pass in the
// requirements, the packer version they found and a resolver for source refs.
package lock
