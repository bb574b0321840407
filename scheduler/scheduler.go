package scheduler

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/shoal-io/shoal/api"
)

// failedRetryDelay spaces attempts to mark failed evaluations when the
// Planner refuses (usually: leadership is being lost).
const failedRetryDelay = time.Second

// Scheduler is the leader-only scheduling service: the broker, its workers
// and the schedulers they run.
type Scheduler struct {
	cfg    Config
	log    *slog.Logger
	broker *broker
	nodes  nodeCache

	lifecycle sync.Mutex // serializes SetEnabled
	enabled   bool
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New checks cfg, fills its defaults and returns a disabled Scheduler.
func New(cfg Config) (*Scheduler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Scheduler{cfg: cfg, log: cfg.Logger, broker: newBroker(cfg)}, nil
}

// SetEnabled turns scheduling on when this replica becomes leader (after it
// applied every earlier entry) and off before it steps down. Enabling
// rebuilds the broker from the pending and blocked evaluations in state, so
// nothing is lost across failovers. Disabling waits for in-flight plans to
// return and empties the broker. Calling it twice with the same value does
// nothing.
func (s *Scheduler) SetEnabled(enabled bool) {
	s.lifecycle.Lock()
	defer s.lifecycle.Unlock()
	if enabled == s.enabled {
		return
	}
	s.enabled = enabled
	if !enabled {
		s.broker.disable()
		s.cancel()
		s.wg.Wait()
		s.log.Info("scheduler disabled")
		return
	}
	// Enable first so evaluations committed while we read the snapshot are
	// not missed; the broker dedupes by ID.
	s.broker.enable()
	s.restore()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for range s.cfg.Workers {
		s.wg.Go(func() { s.runWorker(ctx) })
	}
	s.wg.Go(func() { s.runTimers(ctx) })
	s.wg.Go(func() { s.runFailedReaper(ctx) })
	st := s.broker.stats()
	s.log.Info("scheduler enabled", "workers", s.cfg.Workers, "ready", st.Ready, "delayed", st.Delayed, "blocked", st.Blocked)
}

func (s *Scheduler) restore() {
	snap := s.cfg.Snapshot()
	pending, err := snap.EvalsByStatus(api.EvalStatusPending)
	if err != nil {
		s.log.Error("restoring pending evaluations", "error", err)
	}
	blocked, err := snap.EvalsByStatus(api.EvalStatusBlocked)
	if err != nil {
		s.log.Error("restoring blocked evaluations", "error", err)
	}
	s.broker.restore(pending, blocked, snap.Index())
}

// Stats returns the broker's counts.
func (s *Scheduler) Stats() Stats { return s.broker.stats() }

// OldestReady returns how long the oldest evaluation ready for a worker has
// waited (0 when none waits, or on a follower): the scheduling lag.
func (s *Scheduler) OldestReady() time.Duration { return s.broker.oldestReady() }

// EvalsCommitted hears about evaluations created or updated by the state
// machine. It never blocks and is ignored while disabled.
func (s *Scheduler) EvalsCommitted(evals []*api.Evaluation) { s.broker.committed(evals) }

// NodesChanged hears that nodes registered, reconnected, were lost or
// changed their description: every blocked evaluation is retried.
func (s *Scheduler) NodesChanged(nodeIDs []string) {
	if len(nodeIDs) > 0 {
		s.broker.releaseAll()
	}
}

// CapacityFreed hears that an active execution ended on each listed node
// (one ID per ended execution): about that many blocked jobs are retried.
func (s *Scheduler) CapacityFreed(nodeIDs []string) {
	if len(nodeIDs) > 0 {
		s.broker.releaseCapacity(len(nodeIDs))
	}
}

func (s *Scheduler) runTimers(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.broker.kick:
		}
		next := s.broker.advance()
		wait := min(max(next.Sub(s.cfg.Clock()), time.Millisecond), maxTimerSleep)
		timer.Reset(wait)
	}
}

// runFailedReaper marks evaluations that reached the delivery limit as
// failed in state, so a later leader does not restore them again.
func (s *Scheduler) runFailedReaper(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.broker.failedKick:
		}
		for evals := s.broker.takeFailed(); len(evals) > 0; evals = s.broker.takeFailed() {
			if err := s.cfg.Planner.UpdateEvals(ctx, evals); err != nil {
				s.log.Warn("marking evaluations failed", "count", len(evals), "error", err)
				s.broker.returnFailed(evals)
				select {
				case <-ctx.Done():
					return
				case <-time.After(failedRetryDelay):
				}
				continue
			}
			for _, ev := range evals {
				s.log.Warn("evaluation failed after too many deliveries", "eval_id", ev.ID, "job_id", ev.JobID)
			}
		}
	}
}
