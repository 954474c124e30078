package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/hybridcore/hybrid/state"
)

// BuildKind is the River job kind of a build.
const BuildKind = "hybrid_build"

// BuildArgs is a build job: one build node of a distributed apply. A job is
// unique by address and fingerprint while it is queued or running.
type BuildArgs struct {
	// Address is the build's node address, build.<env>.<image>.
	Address string `json:"address" river:"unique"`
	// Fingerprint is what the coordinator planned for it; a worker whose
	// checkout plans another refuses the job.
	Fingerprint string `json:"fingerprint" river:"unique"`
	// LockID is the coordinator's state lock: the worker records the
	// result under it, and does nothing once it is gone.
	LockID string `json:"lock_id"`
	// Lineage is the state's lineage.
	Lineage string `json:"lineage"`
	// Retries is how many times a failed build is run again.
	Retries int `json:"retries,omitempty"`
	// Coordinator is who runs the apply, "user@host".
	Coordinator string `json:"coordinator,omitempty"`
}

// Kind is the River job kind.
func (BuildArgs) Kind() string { return BuildKind }

// Output is what a worker reports of a build attempt, stored on the job row
// (river.RecordOutput) for the coordinator.
type Output struct {
	Worker string `json:"worker"`
	// Outcome is an apply.Outcome: succeeded, failed, timed out,
	// cancelled, or unchanged (already recorded with this fingerprint).
	Outcome   string           `json:"outcome"`
	Error     string           `json:"error,omitempty"`
	ExitCode  int              `json:"exit_code,omitempty"`
	LogPath   string           `json:"log_path,omitempty"`
	Artifacts []state.Artifact `json:"artifacts,omitempty"`
	Started   time.Time        `json:"started"`
	Finished  time.Time        `json:"finished"`
}

// Queue is the job queue in a state's database and schema.
type Queue struct {
	pool   *pgxpool.Pool
	schema string
	// client inserts, lists and cancels jobs (a worker's client also
	// works them).
	client *river.Client[pgx.Tx]
	log    *slog.Logger
}

// Open opens the queue in schema of the database pool is connected to, and
// creates or migrates River's tables there first. The pool stays the
// caller's.
func Open(ctx context.Context, pool *pgxpool.Pool, schema string, log *slog.Logger) (*Queue, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := Migrate(ctx, pool, schema); err != nil {
		return nil, err
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: schema, Logger: riverLogger(log)})
	if err != nil {
		return nil, fmt.Errorf("open the job queue: %w", err)
	}
	return &Queue{pool: pool, schema: schema, client: client, log: log}, nil
}

// Migrate installs River's tables in schema, or brings them to the version
// this hybrid's River needs (River's river_migration table records it),
// under an advisory lock so that workers starting together migrate once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("prepare the job queue tables: %w", err)
	}
	// River's migrations each run in a transaction of their own (one
	// adds an enum value the next uses); a session advisory lock keeps
	// two hybrids from running them at once.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("prepare the job queue tables: %w", err)
	}
	defer conn.Release()
	h := fnv.New64a()
	h.Write([]byte("hybrid-queue-migrate\x00" + schema))
	key := int64(h.Sum64() & (1<<63 - 1))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("prepare the job queue tables: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("prepare the job queue tables: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("create or migrate the job queue tables in schema %s: %w", schema, err)
	}
	return nil
}

// Job is a build job as hybrid queue lists it.
type Job struct {
	ID          int64              `json:"id"`
	Address     string             `json:"address"`
	Fingerprint string             `json:"fingerprint"`
	Queue       string             `json:"queue"`
	State       rivertype.JobState `json:"state"`
	Attempt     int                `json:"attempt"`
	MaxAttempts int                `json:"max_attempts"`
	// Worker is the worker of the last attempt, "" before the first.
	Worker    string     `json:"worker,omitempty"`
	LockID    string     `json:"lock_id"`
	CreatedAt time.Time  `json:"created_at"`
	Finalized *time.Time `json:"finalized_at,omitempty"`
	// Error is the last attempt's error.
	Error string `json:"error,omitempty"`
	// Output is the worker's report of the last attempt, when it made one.
	Output *Output `json:"output,omitempty"`
}

// jobOf reads a River job row.
func jobOf(row *rivertype.JobRow) Job {
	var args BuildArgs
	json.Unmarshal(row.EncodedArgs, &args)
	j := Job{
		ID: row.ID, Address: args.Address, Fingerprint: args.Fingerprint, Queue: row.Queue,
		State: row.State, Attempt: row.Attempt, MaxAttempts: row.MaxAttempts, LockID: args.LockID,
		CreatedAt: row.CreatedAt, Finalized: row.FinalizedAt,
	}
	if n := len(row.AttemptedBy); n > 0 {
		j.Worker = row.AttemptedBy[n-1]
	}
	if n := len(row.Errors); n > 0 {
		j.Error = row.Errors[n-1].Error
	}
	if out := row.Output(); len(out) > 0 {
		var o Output
		if json.Unmarshal(out, &o) == nil {
			j.Output = &o
			if o.Worker != "" {
				j.Worker = o.Worker
			}
		}
	}
	return j
}

// List returns the build jobs in the given states (every state when none),
// oldest first, at most limit of them.
func (q *Queue) List(ctx context.Context, limit int, states ...rivertype.JobState) ([]Job, error) {
	params := river.NewJobListParams().Kinds(BuildKind).OrderBy(river.JobListOrderByID, river.SortOrderAsc).First(limit)
	if len(states) > 0 {
		params = params.States(states...)
	}
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list the jobs: %w", err)
	}
	out := make([]Job, 0, len(res.Jobs))
	for _, row := range res.Jobs {
		out = append(out, jobOf(row))
	}
	return out, nil
}

// Cancel cancels a job: at once when it is queued, by asking its worker to
// stop when it runs.
func (q *Queue) Cancel(ctx context.Context, id int64) error {
	_, err := q.client.JobCancel(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil
	}
	return err
}

// riverLogger passes River's own log records on at warning level and above,
// but for the warning that a job outlived its River timeout: a build job
// ignores that timeout (see Worker) and runs for as long as the build does.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(&riverHandler{h: log.Handler()})
}

type riverHandler struct{ h slog.Handler }

func (r *riverHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && r.h.Enabled(ctx, l)
}

func (r *riverHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level < slog.LevelError && strings.Contains(strings.ToLower(rec.Message), "stuck") {
		return nil
	}
	return r.h.Handle(ctx, rec)
}

func (r *riverHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &riverHandler{h: r.h.WithAttrs(as)}
}

func (r *riverHandler) WithGroup(name string) slog.Handler {
	return &riverHandler{h: r.h.WithGroup(name)}
}
