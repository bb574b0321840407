package scheduler

import (
	"context"
	"errors"
	"log/slog"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

func (s *Scheduler) runWorker(ctx context.Context) {
	for {
		d, err := s.broker.dequeue(ctx)
		if err != nil {
			return
		}
		s.process(ctx, d)
	}
}

// process plans one delivery until the state machine takes the plan whole,
// then acks it. Parts of a plan can be dropped when the state moved on
// (another plan filled a node, the job was stopped); planning again on newer
// state fixes that, a few times, before the delivery is handed back.
func (s *Scheduler) process(ctx context.Context, d *delivery) {
	log := s.log.With("eval_id", d.eval.ID, "job_id", d.eval.JobID)
	minIndex := d.minIndex
	for attempt := 1; attempt <= s.cfg.PlanAttempts; attempt++ {
		if minIndex > 0 && s.cfg.WaitForIndex != nil {
			if err := s.cfg.WaitForIndex(ctx, minIndex); err != nil {
				log.Warn("waiting for state index", "index", minIndex, "error", err)
				s.nack(d, log)
				return
			}
		}
		snap := s.cfg.Snapshot()
		plan, err := s.computePlan(snap, d.eval, d.coalescedIDs())
		if err != nil {
			log.Error("scheduling evaluation", "error", err)
			s.nack(d, log)
			return
		}
		if unchangedBlock(snap, plan) {
			// Released, and still no room: the state already says so, and
			// a Raft round-trip per waiting job per release is what would
			// make thousands of waiting jobs thrash.
			if err := s.broker.ack(d.eval.ID, d.token, true, 0); err != nil {
				log.Debug("acking evaluation", "error", err)
			}
			return
		}
		if err := s.broker.touch(d.eval.ID, d.token); err != nil {
			log.Debug("delivery taken back while planning", "error", err)
			return
		}
		result, index, err := s.cfg.Planner.SubmitPlan(ctx, plan)
		if err != nil {
			log.Warn("submitting plan", "error", err)
			s.nack(d, log)
			return
		}
		if err := s.broker.touch(d.eval.ID, d.token); err != nil {
			log.Debug("delivery taken back while planning", "error", err)
			return
		}
		if result == nil || !result.Refresh() || onlyEvalStatus(plan) {
			log.Debug("plan applied", "index", index, "status", plan.EvalStatus,
				"placed", len(plan.NewExecutions), "updated", len(plan.ExecutionUpdates), "coalesced", len(plan.CoalescedEvalIDs))
			if err := s.broker.ack(d.eval.ID, d.token, plan.EvalStatus == api.EvalStatusBlocked, index); err != nil {
				log.Debug("acking evaluation", "error", err)
			}
			return
		}
		log.Debug("plan partly applied; planning again", "attempt", attempt, "stale", result.Stale,
			"rejected", len(result.RejectedPlacements), "skipped", len(result.SkippedUpdates))
		minIndex = max(minIndex, index)
	}
	s.nack(d, log)
}

func (s *Scheduler) nack(d *delivery, log *slog.Logger) {
	if err := s.broker.nack(d.eval.ID, d.token); err != nil && !errors.Is(err, errBrokerDisabled) {
		log.Debug("nacking evaluation", "error", err)
	}
}

// onlyEvalStatus reports whether a plan changes nothing but evaluation
// statuses; those always apply, so there is nothing to plan again.
func onlyEvalStatus(p *fsm.Plan) bool {
	return len(p.NewExecutions) == 0 && len(p.ExecutionUpdates) == 0 && p.JobState == nil && len(p.NewEvals) == 0
}

// unchangedBlock reports whether a plan would only mark its evaluation
// blocked again, with the same comment, when the state already holds it so.
func unchangedBlock(snap State, p *fsm.Plan) bool {
	if p.EvalStatus != api.EvalStatusBlocked || !onlyEvalStatus(p) || len(p.CoalescedEvalIDs) > 0 {
		return false
	}
	ev, err := snap.Eval(p.EvalID)
	return err == nil && ev.Status == api.EvalStatusBlocked && ev.Comment == p.EvalComment
}
