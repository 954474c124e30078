package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/riverqueue/river/rivertype"

	"github.com/hybridcore/hybrid/apply/queue"
	"github.com/hybridcore/hybrid/config"
	"github.com/hybridcore/hybrid/state/pg"
)

// queueCommand lists the build jobs of distributed applies.
type queueCommand struct{ s streams }

type queueArgs struct {
	All     bool
	JSON    bool
	Limit   int
	NoColor bool
}

func (c *queueCommand) Synopsis() string { return "List the build jobs of distributed applies" }

func (c *queueCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid queue [options]

  Lists the build jobs in the workspace's job queue (the pg state
  backend's database and schema): those waiting, running (with the worker
  running them), waiting for a retry, and those that failed or were
  cancelled, with their last error. Finished jobs are kept for a day
  (failed ones for a week).

Options:
  -all                 Also list the jobs that completed.
  -json                Print the jobs as a JSON array.
  -limit=N             List at most N jobs (default 1000).
  -no-color            Do not colour the output.
`)
}

func parseQueueArgs(args []string) (*queueArgs, hcl.Diagnostics) {
	a := &queueArgs{Limit: 1000}
	fs := newFlagSet("queue")
	fs.BoolVar(&a.All, "all", false, "")
	fs.BoolVar(&a.JSON, "json", false, "")
	fs.IntVar(&a.Limit, "limit", a.Limit, "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("queue", err)
	}
	if fs.NArg() > 0 {
		return nil, flagError("queue", fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if a.Limit < 1 || a.Limit > 10000 {
		return nil, flagError("queue", errors.New("-limit must be between 1 and 10000"))
	}
	return a, nil
}

func (c *queueCommand) Run(args []string) int {
	a, diags := parseQueueArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	ctx := context.Background()
	store, files, diags := workspaceState(ctx)
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return 1
	}
	backend, ok := store.backend.(*pg.Backend)
	if !ok {
		v.errorf("this workspace uses the local state, which has no job queue: distributed applies need the pg backend (backend \"pg\" in the hybrid block, or %s).", config.PGConnEnv)
		return 1
	}
	q, err := queue.Open(ctx, backend.Pool(), backend.Schema(), nil)
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	states := []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled,
		rivertype.JobStateRunning, rivertype.JobStateRetryable,
		rivertype.JobStateCancelled, rivertype.JobStateDiscarded,
	}
	if a.All {
		states = append(states, rivertype.JobStateCompleted)
	}
	jobs, err := q.List(ctx, a.Limit, states...)
	if err != nil {
		v.errorf("%v", err)
		return 1
	}
	if a.JSON {
		enc := json.NewEncoder(c.s.Out)
		enc.SetIndent("", "  ")
		if jobs == nil {
			jobs = []queue.Job{}
		}
		if err := enc.Encode(jobs); err != nil {
			v.errorf("%v", err)
			return 1
		}
		return 0
	}
	writeJobs(c.s.Out, jobs, time.Now())
	return 0
}

// writeJobs prints the jobs as a table.
func writeJobs(w io.Writer, jobs []queue.Job, now time.Time) {
	if len(jobs) == 0 {
		fmt.Fprintln(w, "No jobs.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tADDRESS\tQUEUE\tATTEMPT\tWORKER\tAGE\tERROR")
	for _, j := range jobs {
		worker := j.Worker
		if worker == "" {
			worker = "-"
		}
		errText := strings.ReplaceAll(j.Error, "\n", " ")
		if j.Output != nil && j.Output.Error != "" && j.State != rivertype.JobStateCompleted {
			errText = strings.ReplaceAll(j.Output.Error, "\n", " ")
		}
		if len(errText) > 120 {
			errText = errText[:117] + "..."
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", j.ID, j.State, j.Address, j.Queue, j.Attempt, j.MaxAttempts, worker,
			now.Sub(j.CreatedAt).Round(time.Second), errText)
	}
	tw.Flush()
}
