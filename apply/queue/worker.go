package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/hybridcore/hybrid/apply"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/pg"
)

// DefaultRescueAfter is how long a running build job may go without its
// worker's heartbeat before River's rescuer gives it to another worker.
const DefaultRescueAfter = 2 * time.Minute

// BuildJob is one attempt at a build job, as a Builder sees it.
type BuildJob struct {
	Args    BuildArgs
	ID      int64
	Attempt int
	// State is the state to record the result through: the pg backend
	// writing under the coordinator's lock, and only while this attempt
	// is still this worker's.
	State state.Backend
	// CheckLock returns an error when the coordinator's lock is gone: a
	// Builder checks it once more right before it starts packer.
	CheckLock func(context.Context) error
}

// Builder runs one build job here (cmd/hybrid's worker implements it: it
// loads the workspace from this machine's checkout, syncs the build's
// sources, checks the fingerprint and builds with apply.RunBuild).
// Cancelling ctx interrupts the build, which cleans up; hard kills it.
type Builder interface {
	Build(ctx, hard context.Context, job BuildJob) Output
}

// WorkerOptions configure a worker.
type WorkerOptions struct {
	// Name identifies the worker in the jobs it takes (River's client
	// ID); it must be unique among running workers.
	Name string
	// Queues are the queues it takes jobs from; none means "default".
	Queues []string
	// Concurrency is how many builds it runs at once per queue.
	Concurrency int
	// RescueAfter is how long a running job may go without a heartbeat
	// before it is given to another worker (River's
	// RescueStuckJobsAfter); zero means DefaultRescueAfter. Every worker
	// of a database should use the same.
	RescueAfter time.Duration
	// Heartbeat is how often a running job's row is touched and the
	// state lock checked; zero means RescueAfter/4, at most 5 seconds.
	Heartbeat time.Duration
	// Grace is how long running builds may go on after a stop is asked
	// before they are interrupted.
	Grace time.Duration
	// IdleExit, when positive, stops the worker once no build job of its
	// queues has waited or run for that long (a CI job matrix of workers
	// ends with the apply).
	IdleExit time.Duration
	// State is the pg state backend of the workspace.
	State   *pg.Backend
	Builder Builder
	Log     *slog.Logger
}

// errWorkerStopping interrupts a build whose worker is stopping past its
// grace period: the job goes back to the queue.
var errWorkerStopping = errors.New("the worker was stopped before the build finished; the job goes back to the queue")

// errJobTaken interrupts a build whose job is no longer this attempt's.
var errJobTaken = errors.New("the job was given to another worker (this worker's heartbeat did not reach the database in time)")

// errCancelled interrupts a build the coordinator cancelled.
var errCancelled = errors.New("the apply was cancelled")

// failedPrefix starts the error of an attempt whose build failed, so that
// later attempts count the build's own failures (not rescues).
const failedPrefix = "build failed: "

// RunWorker takes build jobs until ctx is cancelled (SIGTERM): then it takes
// no new job, lets running builds finish for up to Grace, then interrupts
// them; a job whose build did not finish goes back to the queue. hard,
// when done, kills running builds at once.
func (q *Queue) RunWorker(ctx, hard context.Context, opts WorkerOptions) error {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if len(opts.Queues) == 0 {
		opts.Queues = []string{"default"}
	}
	if opts.RescueAfter <= 0 {
		opts.RescueAfter = DefaultRescueAfter
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = min(opts.RescueAfter/4, 5*time.Second)
	}
	if opts.Log == nil {
		opts.Log = q.log
	}
	interrupt, stopBuilds := context.WithCancelCause(context.Background())
	defer stopBuilds(nil)
	w := &buildWorker{q: q, opts: opts, interrupt: interrupt, hard: hard}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	queues := map[string]river.QueueConfig{}
	for _, name := range opts.Queues {
		queues[name] = river.QueueConfig{MaxWorkers: opts.Concurrency}
	}
	client, err := river.NewClient(riverpgxv5.New(q.pool), &river.Config{
		ID:     opts.Name,
		Schema: q.schema,
		Queues: queues, Workers: workers,
		// A build ignores River's job timeout (it runs as long as
		// packer does); the timeout only lets the rescuer consider a
		// job whose heartbeat stopped. See buildWorker.Work.
		JobTimeout:           opts.RescueAfter / 2,
		RescueStuckJobsAfter: opts.RescueAfter,
		RetryPolicy:          retrySoon{},
		Logger:               riverLogger(opts.Log),
	})
	if err != nil {
		return fmt.Errorf("start the worker: %w", err)
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the worker: %w", err)
	}
	opts.Log.Info("worker started", "name", opts.Name, "queues", strings.Join(opts.Queues, ","), "concurrency", opts.Concurrency)
	if opts.IdleExit > 0 {
		var idle context.CancelFunc
		ctx, idle = context.WithCancel(ctx)
		defer idle()
		go q.exitWhenIdle(ctx, idle, opts)
	}
	<-ctx.Done()
	opts.Log.Info("worker stopping: taking no new jobs", "grace", opts.Grace.String())
	stopped := make(chan error, 1)
	go func() { stopped <- client.Stop(context.Background()) }()
	grace := time.NewTimer(opts.Grace)
	defer grace.Stop()
	select {
	case err := <-stopped:
		return err
	case <-grace.C:
		opts.Log.Info("grace period over: interrupting running builds")
		stopBuilds(errWorkerStopping)
	case <-hard.Done():
		stopBuilds(errWorkerStopping)
	}
	return <-stopped
}

// exitWhenIdle calls stop once no build job of the worker's queues has
// been waiting or running for opts.IdleExit.
func (q *Queue) exitWhenIdle(ctx context.Context, stop context.CancelFunc, opts WorkerOptions) {
	every := min(opts.IdleExit/4, 5*time.Second)
	t := time.NewTicker(max(every, 100*time.Millisecond))
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var busy bool
		err := q.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{q.schema, "river_job"}.Sanitize()+
			" WHERE kind = $1 AND queue = ANY($2) AND state IN ('available', 'pending', 'retryable', 'running', 'scheduled'))",
			BuildKind, opts.Queues).Scan(&busy)
		if err != nil {
			continue
		}
		if busy {
			last = time.Now()
			continue
		}
		if time.Since(last) >= opts.IdleExit {
			opts.Log.Info("no build job for a while: stopping", "idle", opts.IdleExit.String())
			stop()
			return
		}
	}
}

// retrySoon retries a job a second after an attempt failed or was
// rescued: builds are long, there is nothing to gain by waiting.
type retrySoon struct{}

func (retrySoon) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Second) }

// buildWorker is River's worker of build jobs.
type buildWorker struct {
	river.WorkerDefaults[BuildArgs]
	q    *Queue
	opts WorkerOptions
	// interrupt is cancelled when running builds must stop (the worker
	// stops past its grace period).
	interrupt context.Context
	hard      context.Context
}

// Work runs one attempt at a build job.
//
// The build runs in a context of its own: River cancels the job's context
// at the client's JobTimeout, which a build ignores (builds take hours);
// any other end of the job's context (River stopping, a cancellation) is
// passed on. A heartbeat touches the job row (its attempted_at, which the
// rescuer reads) and checks the state lock; a job whose row is no longer
// this attempt's, that the coordinator cancelled, or whose lock is gone has
// its build interrupted.
func (w *buildWorker) Work(ctx context.Context, job *river.Job[BuildArgs]) error {
	out := Output{Worker: w.opts.Name, Started: time.Now().UTC()}
	finish := func(err error) error {
		out.Finished = time.Now().UTC()
		if rerr := river.RecordOutput(ctx, out); rerr != nil {
			w.opts.Log.Warn("cannot record the job's output", "job", job.ID, "error", rerr.Error())
		}
		return err
	}
	log := w.opts.Log.With("job", job.ID, "attempt", job.Attempt, "address", job.Args.Address)
	if err := w.opts.State.CheckLock(ctx, job.Args.LockID); err != nil {
		out.Outcome, out.Error = string(apply.Cancelled), err.Error()
		log.Info("job refused: its apply's state lock is gone", "lock_id", job.Args.LockID)
		return finish(river.JobCancel(err))
	}
	if cause := context.Cause(w.interrupt); cause != nil {
		return finish(cause)
	}
	bctx, stop := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stop(nil)
	var watch sync.WaitGroup
	defer watch.Wait()
	done := make(chan struct{})
	defer close(done)
	watch.Add(2)
	go func() {
		defer watch.Done()
		select {
		case <-done:
		case <-w.interrupt.Done():
			stop(context.Cause(w.interrupt))
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// River's job timeout: not a reason to stop a build.
				select {
				case <-done:
				case <-w.interrupt.Done():
					stop(context.Cause(w.interrupt))
				}
				return
			}
			stop(errCancelled)
		}
	}()
	go func() {
		defer watch.Done()
		t := time.NewTicker(w.opts.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if err := w.beat(bctx, job); err != nil {
				log.Warn("interrupting the build", "reason", err.Error())
				stop(err)
				return
			}
		}
	}()
	log.Info("build job started")
	fence := func(ctx context.Context, tx pgx.Tx) error { return w.fence(ctx, tx, job) }
	out2 := w.opts.Builder.Build(bctx, w.hard, BuildJob{
		Args: job.Args, ID: job.ID, Attempt: job.Attempt,
		State:     w.opts.State.Under(job.Args.LockID, fence),
		CheckLock: func(ctx context.Context) error { return w.opts.State.CheckLock(ctx, job.Args.LockID) },
	})
	out2.Worker, out2.Started = out.Worker, out.Started
	out = out2
	cause := context.Cause(bctx)
	log.Info("build job ended", "outcome", out.Outcome, "error", out.Error)
	switch {
	case out.Outcome == string(apply.Succeeded) || out.Outcome == string(apply.Unchanged):
		return finish(nil)
	case errors.Is(cause, errWorkerStopping):
		return finish(errWorkerStopping)
	case errors.Is(cause, errJobTaken):
		return finish(cause)
	case cause != nil:
		// Cancelled by the coordinator, or its lock is gone.
		if out.Error == "" {
			out.Error = cause.Error()
		}
		return finish(river.JobCancel(cause))
	}
	if out.Outcome == string(apply.Cancelled) {
		// Refused before packer ran: the lock went meanwhile.
		return finish(river.JobCancel(errors.New(out.Error)))
	}
	failed := 0
	for _, e := range job.Errors {
		if strings.HasPrefix(e.Error, failedPrefix) {
			failed++
		}
	}
	err := errors.New(failedPrefix + out.Error)
	if failed < job.Args.Retries {
		log.Info("build failed; it will be retried", "retry", failed+1, "retries", job.Args.Retries)
		return finish(err)
	}
	return finish(river.JobCancel(err))
}

// beat touches the job row and checks the state lock.
func (w *buildWorker) beat(ctx context.Context, job *river.Job[BuildArgs]) error {
	ctx, cancel := context.WithTimeout(ctx, max(w.opts.Heartbeat, 10*time.Second))
	defer cancel()
	var cancelAsked bool
	err := w.q.pool.QueryRow(ctx, "UPDATE "+pgx.Identifier{w.q.schema, "river_job"}.Sanitize()+
		" SET attempted_at = now() WHERE id = $1 AND state = 'running' AND attempt = $2 RETURNING metadata ? 'cancel_attempted_at'",
		job.ID, job.Attempt).Scan(&cancelAsked)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return errJobTaken
	case err != nil:
		// The database is out of reach for a moment: the next beat
		// tries again, and the rescue delay is several beats.
		w.opts.Log.Warn("heartbeat failed", "job", job.ID, "error", err.Error())
		return nil
	case cancelAsked:
		return errCancelled
	}
	var gone *pg.LockGoneError
	if err := w.opts.State.CheckLock(ctx, job.Args.LockID); errors.As(err, &gone) {
		return err
	}
	return nil
}

// fence refuses a commit once the job row is no longer this attempt's.
func (w *buildWorker) fence(ctx context.Context, tx pgx.Tx, job *river.Job[BuildArgs]) error {
	var st string
	var attempt int
	err := tx.QueryRow(ctx, "SELECT state, attempt FROM "+pgx.Identifier{w.q.schema, "river_job"}.Sanitize()+" WHERE id = $1 FOR UPDATE", job.ID).Scan(&st, &attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("job %d is gone from the queue; nothing is recorded", job.ID)
	}
	if err != nil {
		return fmt.Errorf("check job %d: %w", job.ID, err)
	}
	if st != string(rivertype.JobStateRunning) || attempt != job.Attempt {
		return fmt.Errorf("job %d attempt %d is no longer this worker's (the job is %s, at attempt %d); nothing is recorded", job.ID, job.Attempt, st, attempt)
	}
	return nil
}
