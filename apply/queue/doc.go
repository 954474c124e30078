// Package queue spreads an apply's builds over many machines: a job queue
// (River, github.com/riverqueue/river) in the PostgreSQL database of the pg
// state backend, in the state's own schema. The coordinator (hybrid apply
// -distributed) holds the state lock, walks the plan as a local apply does
// and, through Remote, enqueues each build as its dependencies succeed;
// workers (hybrid worker) take build jobs, run them with apply.RunBuild
// and record each result in the state under the coordinator's lock.
//
// What makes it safe:
//   - A job is unique by node address and fingerprint while it is queued
//     or running, so a node is never built twice at once.
//   - A worker writes only under the coordinator's lock (pg Backend.Under)
//     and only while its job attempt is still its own (a fence on the job
//     row in the same transaction): a cancelled apply, a dead coordinator
//     or a worker whose job was rescued writes nothing.
//   - A worker checks the lock before it starts a build and every
//     heartbeat while it runs, and interrupts packer when the lock is gone
//     or the coordinator cancelled the job.
//   - A running job's worker touches the job row every heartbeat; a worker
//     killed mid-build stops touching it, and River's rescuer puts the job
//     back in the queue after the rescue delay, for another worker.
//
// It does not plan, render or sync: the coordinator does those as a local
// apply does, and a worker's Builder (in cmd/hybrid) loads the workspace
// from the worker's own checkout, checks that it plans the fingerprint
// the job was enqueued with, and builds.
package queue
