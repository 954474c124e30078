// Package apply carries out a plan: it walks the plan's graph with bounded
// parallelism, syncing sources, writing renders and running packer builds as
// soon as their dependencies are done, and records each node's result in the
// state the moment it lands. It is the only writer of state during a local
// apply; in a distributed one the workers write their builds' records too,
// under its lock.
//
// A failed node skips its dependents and nothing else. Cancelling the
// context starts nothing new and interrupts running packer builds, which
// clean up; what finished is recorded. A result that cannot be written to
// the state stops the apply the same way, at once, and the error names every
// result not recorded (RecordError). A build that runs past its timeout is
// interrupted, killed after a grace period, and recorded as timed out.
// Each packer process is recorded in the state lock info while it runs.
//
// With Options.Remote, the same walk hands each build to other machines
// (package apply/queue: River jobs taken by hybrid workers) instead of
// running packer here; syncs, renders and forgets still run here, and the
// reporting, the skipping of a failed build's dependents and the result are
// the same. RunBuild runs one build of a plan as Run would: a worker's
// side of a distributed apply.
package apply
