package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/plan"
)

// extraAttempts are the attempts a job has beyond its image's retries: for
// rescues of a worker killed mid-build, and for a worker stopped (SIGTERM)
// that hands the job back.
const extraAttempts = 4

// uniqueStates are the states in which a job keeps another of the same
// address and fingerprint out: while it waits or runs. A finished job does
// not (a build recorded and then lost from the state can be built again).
var uniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// RemoteOptions configure a coordinator.
type RemoteOptions struct {
	// LockID is the state lock the coordinator holds; workers write under it.
	LockID  string
	Lineage string
	// QueueOf names the queue of a build address.
	QueueOf func(addr string) string
	// RetriesOf is how many times a failed build is run again.
	RetriesOf func(addr string) int
	// Coordinator is "user@host", for hybrid queue.
	Coordinator string
	// Poll is how often the job rows are read; zero means 250ms.
	Poll time.Duration
}

// Remote is the coordinator's side of a distributed apply: an
// apply.Remote that enqueues each build and follows its job until it ends.
type Remote struct {
	q    *Queue
	opts RemoteOptions

	mu      sync.Mutex
	waiting map[int64]chan *rivertype.JobRow // by job ID: the latest row
	stop    chan struct{}
	done    chan struct{}

	statsMu sync.Mutex
	stats   []time.Duration
}

var _ apply.Remote = (*Remote)(nil)

// NewRemote starts following jobs. Jobs of an earlier apply that are still
// queued or running (its coordinator died: their lock is not ours) are
// cancelled first; their workers stop them when they see the lock is gone.
func (q *Queue) NewRemote(ctx context.Context, opts RemoteOptions) (*Remote, error) {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	r := &Remote{q: q, opts: opts, waiting: map[int64]chan *rivertype.JobRow{}, stop: make(chan struct{}), done: make(chan struct{})}
	stale, err := q.List(ctx, 10000, uniqueStates...)
	if err != nil {
		return nil, err
	}
	for _, j := range stale {
		if j.LockID != opts.LockID {
			q.log.Info("cancelling a job of an earlier apply", "job", j.ID, "address", j.Address, "lock_id", j.LockID)
			if err := q.Cancel(ctx, j.ID); err != nil {
				return nil, fmt.Errorf("cancel job %d of an earlier apply: %w", j.ID, err)
			}
		}
	}
	go r.poll()
	return r, nil
}

// Close stops following jobs.
func (r *Remote) Close() {
	close(r.stop)
	<-r.done
}

// SchedulingDelays are, for each build a worker started, the time from its
// job's insertion to the worker's start.
func (r *Remote) SchedulingDelays() []time.Duration {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	return append([]time.Duration(nil), r.stats...)
}

// poll reads the rows of the jobs being followed, in one query, every
// Poll, and hands each to its follower.
func (r *Remote) poll() {
	defer close(r.done)
	t := time.NewTicker(r.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		r.mu.Lock()
		ids := make([]int64, 0, len(r.waiting))
		for id := range r.waiting {
			ids = append(ids, id)
		}
		r.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := r.q.client.JobList(ctx, river.NewJobListParams().IDs(ids...).First(len(ids)))
		cancel()
		if err != nil {
			r.q.log.Warn("cannot read the jobs", "error", err.Error())
			continue
		}
		r.mu.Lock()
		for _, row := range res.Jobs {
			if ch := r.waiting[row.ID]; ch != nil {
				// Keep only the latest row.
				select {
				case <-ch:
				default:
				}
				ch <- row
			}
		}
		r.mu.Unlock()
	}
}

// follow registers a job to follow.
func (r *Remote) follow(id int64) chan *rivertype.JobRow {
	ch := make(chan *rivertype.JobRow, 1)
	r.mu.Lock()
	r.waiting[id] = ch
	r.mu.Unlock()
	return ch
}

func (r *Remote) unfollow(id int64) {
	r.mu.Lock()
	delete(r.waiting, id)
	r.mu.Unlock()
}

// insert enqueues the build, or finds the job that already builds it. A
// job of the same node and fingerprint left by an earlier apply is waited
// out (NewRemote cancelled it), then the build is enqueued anew.
func (r *Remote) insert(ctx context.Context, c *plan.Change) (*rivertype.JobRow, error) {
	retries := 0
	if r.opts.RetriesOf != nil {
		retries = r.opts.RetriesOf(c.Address)
	}
	queue := "default"
	if r.opts.QueueOf != nil {
		queue = r.opts.QueueOf(c.Address)
	}
	args := BuildArgs{Address: c.Address, Fingerprint: c.After, LockID: r.opts.LockID, Lineage: r.opts.Lineage, Retries: retries, Coordinator: r.opts.Coordinator}
	opts := &river.InsertOpts{
		Queue: queue, MaxAttempts: 1 + retries + extraAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates},
	}
	for {
		res, err := r.q.client.Insert(ctx, args, opts)
		if err != nil {
			return nil, fmt.Errorf("enqueue %s: %w", c.Address, err)
		}
		if !res.UniqueSkippedAsDuplicate || jobOf(res.Job).LockID == r.opts.LockID {
			return res.Job, nil
		}
		// An earlier apply's job for the same build is still winding
		// down: wait until it ends.
		ch := r.follow(res.Job.ID)
		for final := false; !final; {
			select {
			case row := <-ch:
				final = row.FinalizedAt != nil
			case <-ctx.Done():
				r.unfollow(res.Job.ID)
				return nil, ctx.Err()
			}
		}
		r.unfollow(res.Job.ID)
	}
}

// Build enqueues the build change c and follows its job to the end.
func (r *Remote) Build(ctx, hard context.Context, c *plan.Change, started func(worker string), output func(line string)) apply.NodeResult {
	nr := apply.NodeResult{}
	job, err := r.insert(ctx, c)
	if err != nil {
		if ctx.Err() != nil {
			nr.Outcome = apply.Cancelled
			return nr
		}
		nr.Outcome, nr.Err = apply.Failed, err
		return nr
	}
	ch := r.follow(job.ID)
	defer r.unfollow(job.ID)
	var (
		cancelled  bool
		attempt    int // the last attempt seen running
		reported   int // the last failed attempt reported
		startedAny bool
	)
	ctxDone := ctx.Done()
	for {
		var row *rivertype.JobRow
		select {
		case row = <-ch:
		case <-ctxDone:
			// Stop asked: a queued job is withdrawn at once, a running
			// one is asked to stop and followed until it has.
			ctxDone = nil
			cancelled = true
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			err := r.q.Cancel(cctx, job.ID)
			cancel()
			if err != nil {
				nr.Outcome, nr.Err = apply.Cancelled, fmt.Errorf("cannot cancel job %d: %w", job.ID, err)
				return nr
			}
			continue
		case <-hard.Done():
			nr.Outcome, nr.Err = apply.Cancelled, errors.New("stopped at once; the worker stops the build when it sees the state lock is gone")
			return nr
		}
		if row.State == rivertype.JobStateRunning && row.Attempt > attempt {
			if attempt > 0 {
				why := ""
				if n := len(row.Errors); n > 0 && row.Attempt > reported {
					why = fmt.Sprintf(" (attempt %d: %s)", row.Errors[n-1].Attempt, row.Errors[n-1].Error)
				}
				output(fmt.Sprintf("attempt %d of job %d on worker %s%s", row.Attempt, row.ID, lastWorker(row), why))
			}
			attempt = row.Attempt
			if !startedAny {
				startedAny = true
				started(lastWorker(row))
			}
		}
		if row.FinalizedAt == nil {
			if row.State == rivertype.JobStateRetryable && row.Attempt > reported && len(row.Errors) > 0 {
				reported = row.Attempt
				output(fmt.Sprintf("attempt %d failed: %s; the job goes back to the queue", row.Attempt, row.Errors[len(row.Errors)-1].Error))
			}
			continue
		}
		return r.result(row, cancelled, startedAny)
	}
}

// result turns a finished job into the node's result.
func (r *Remote) result(row *rivertype.JobRow, cancelled, started bool) apply.NodeResult {
	j := jobOf(row)
	nr := apply.NodeResult{}
	if o := j.Output; o != nil {
		nr.ExitCode, nr.LogPath, nr.Artifacts = o.ExitCode, o.LogPath, o.Artifacts
		if !o.Started.IsZero() {
			r.statsMu.Lock()
			r.stats = append(r.stats, o.Started.Sub(row.CreatedAt))
			r.statsMu.Unlock()
		}
		if nr.LogPath != "" && o.Worker != "" {
			nr.LogPath = o.Worker + ":" + nr.LogPath
		}
	}
	switch {
	case row.State == rivertype.JobStateCompleted:
		nr.Outcome = apply.Succeeded
		return nr
	case j.Output != nil && j.Output.Outcome != "" && j.Output.Outcome != string(apply.Succeeded):
		nr.Outcome = apply.Outcome(j.Output.Outcome)
		if nr.Outcome == apply.Unchanged {
			nr.Outcome = apply.Failed
		}
		nr.Err = errors.New(j.Output.Error)
		if j.Output.Error == "" {
			nr.Err = errors.New(j.Error)
		}
	case cancelled && !started:
		nr.Outcome = apply.Cancelled
	case cancelled:
		nr.Outcome, nr.Err = apply.Cancelled, errors.New("interrupted")
	default:
		nr.Outcome = apply.Failed
		msg := j.Error
		if msg == "" {
			msg = fmt.Sprintf("job %d ended %s", row.ID, row.State)
		}
		nr.Err = fmt.Errorf("%s (job %d, %d attempts)", msg, row.ID, row.Attempt)
	}
	if nr.Outcome == apply.Failed && cancelled {
		nr.Outcome = apply.Cancelled
	}
	return nr
}

func lastWorker(row *rivertype.JobRow) string {
	if n := len(row.AttemptedBy); n > 0 {
		return row.AttemptedBy[n-1]
	}
	return "(unknown)"
}
