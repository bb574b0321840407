package server

import (
	"context"
	"time"

	"github.com/shoal-io/shoal/fsm"
)

const (
	gcInterval = time.Minute
	// evalGCBatch bounds one sweep's Raft entry; a backlog takes a few.
	evalGCBatch = 5000
	// evalGCMaxSweeps bounds the sweeps of one round, so a huge backlog is
	// worked off over several rounds instead of flooding the log.
	// 50 sweeps of 5000 keep up with about 1,000 jobs/s (each leaves a few).
	evalGCMaxSweeps = 50
	tokenPruneEvery = 10
)

// newGarbageCollector deletes what the replicated state no longer needs, on
// the leader, through Raft: finished evaluations older than EvalGCAge (each
// compute report raises one, so they pile up fast) and expired idempotency
// tokens.
func newGarbageCollector(s *Server) *leaderLoop {
	return &leaderLoop{run: func(ctx context.Context) {
		round := 0
		every(ctx, gcInterval, nil, func() {
			round++
			s.collectEvals(ctx)
			s.collectJobsRound(ctx)
			if round%tokenPruneEvery == 0 {
				if _, _, err := s.apply(ctx, &fsm.IdempotencyPruneRequest{Now: now()}); err != nil {
					s.logger.Warn("prune idempotency tokens", "error", err)
				}
			}
		})
	}}
}

func (s *Server) collectEvals(ctx context.Context) {
	before := time.Now().Add(-s.cfg.EvalGCAge).UnixNano()
	for range evalGCMaxSweeps {
		res, _, err := applyAs[*fsm.EvalGCResult](ctx, s, &fsm.EvalGCRequest{Before: before, Limit: evalGCBatch, Now: now()})
		if err != nil {
			s.logger.Warn("collect finished evaluations", "error", err)
			return
		}
		if res.Deleted > 0 {
			s.logger.Debug("collected finished evaluations", "deleted", res.Deleted)
		}
		if !res.More {
			return
		}
	}
}
