// Package state owns hybrid's record of what it has done: the state model
// (sources synced, var files rendered, images built, with the fingerprints and
// per-input digests plan compares against), its JSON encoding, and the
// backends that store it with atomic writes, backups and locking.
//
// The local backend keeps the state in state/packer-hybrid.json. Every write
// goes through internal/atomicfile, bumps serial by exactly one, keeps the
// previous file as <name>.backup and refuses to replace a file it could not
// read. A lock (an OS file lock on <name>.lock plus a JSON lock-info file
// <name>.lock.info) guards every command that writes state.
//
// The lock info also records the processes the holder started that could
// outlive it (each packer build's process group, with its leader's start
// time), and every child carries the lock ID in its environment. Taking
// over the lock of a holder that died first ends what it left running,
// checking start times so that a reused process ID is never signalled, and
// says which processes it killed; a lock whose orphans cannot be ended is
// not taken.
//
// The package records; it does not decide. It never compares fingerprints,
// never runs git or packer and never reads hybrid.hcl: plan decides what is
// out of date and apply is the only caller that writes state, through a
// Manager so that writes from parallel nodes never lose each other's entries.
package state
