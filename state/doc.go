// Package state owns hybrid's record of what it has done: the state model
// (a header, and records keyed by address: sources synced, var files
// rendered, images built, with the fingerprints and per-input digests plan
// compares against, and the file trees they read), its JSON encoding, and
// the backends that store it, with locking and crash safety.
//
// A node's result is one Change: the records it puts and deletes. A Backend
// commits a Change atomically on top of the serial its caller read,
// incrementing the serial by one; its cost does not depend on the state's
// size. A Manager serializes the commits of many goroutines and keeps the
// state in memory, so that apply records each node as it finishes.
//
// The local backend keeps a snapshot of the whole state in
// state/packer-hybrid.json (the JSON `state pull` prints) and an append-only
// journal of the commits since, beside it; the journal is folded into the
// snapshot when it grows and when a command that wrote releases the lock.
// Snapshots go through internal/atomicfile, keep the previous one as
// <name>.backup, and a file hybrid could not read is never replaced. A lock
// (an OS file lock on <name>.lock plus a JSON lock-info file
// <name>.lock.info) guards every command that writes state.
//
// For plans, the local backend also keeps <name>.summary: the state last
// read, without the details a plan reads only to explain a change (render
// values and inputs, build inputs, trees), keyed by the sha256 of the
// snapshot's and the journal's bytes. ReadSummary returns it while those
// bytes are unchanged, and decodes the details from them on demand.
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
