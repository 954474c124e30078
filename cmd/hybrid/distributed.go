package main

import (
	"context"
	"log/slog"

	"github.com/hybridcore/hybrid/apply/queue"
	"github.com/hybridcore/hybrid/plan"
	"github.com/hybridcore/hybrid/state"
	"github.com/hybridcore/hybrid/state/pg"
)

// openRemote opens the job queue in the pg backend's database for a
// distributed apply of plan p, under the state lock backend holds.
func openRemote(ctx context.Context, backend *pg.Backend, ws *plan.Workspace, p *plan.Plan, log *slog.Logger) (*queue.Remote, error) {
	q, err := queue.Open(ctx, backend.Pool(), backend.Schema(), log)
	if err != nil {
		return nil, err
	}
	builds := map[string]*plan.Build{}
	for _, b := range ws.Builds {
		builds[b.Address()] = b
	}
	return q.NewRemote(ctx, queue.RemoteOptions{
		LockID: backend.HeldLockID(), Lineage: p.Lineage, Coordinator: state.Who(),
		QueueOf: func(addr string) string {
			b := builds[addr]
			if b == nil {
				return "default"
			}
			return ws.Config.QueueOf(b.Image, b.Env)
		},
		RetriesOf: func(addr string) int {
			if b := builds[addr]; b != nil {
				return b.Image.Retries
			}
			return 0
		},
	})
}
