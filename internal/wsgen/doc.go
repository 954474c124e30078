// Package wsgen generates realistic hybrid workspaces of any size, for
// benchmarks and for people who want to see how hybrid behaves on a big
// repository: a hybrid.hcl with var groups, environments that inherit from
// each other and derived images, a hybrid.lock.hcl pinning packer, the
// plugins and every source, git sources laid out like checkouts of template
// repositories (one directory per OS version, Windows directories holding
// four editions), input globs, and Ansible and Puppet assets.
//
// Everything is a pure function of the Spec: two workspaces generated from
// the same Spec hold the same bytes. Only the files' modification times
// differ.
//
// The package must not import plan (plan's tests import it); it writes the
// lockfile with lock.Write and every other file with os.WriteFile, since
// these are the user's files, not files hybrid owns.
package wsgen
