package fsm

import (
	"fmt"

	"github.com/shoal-io/shoal/api"
)

func (ac *applyCtx) planApply(p *Plan) (*PlanResult, error) {
	rec, ok, err := ac.job(p.JobID)
	if err != nil {
		return nil, err
	}
	if !ok {
		// The job is gone: nothing is left to do for its evaluations.
		return &PlanResult{Stale: true}, ac.planEvalStatuses(p)
	}
	job := rec.job()
	if job.Revision != p.JobRevision {
		return &PlanResult{Stale: true}, nil
	}
	res := &PlanResult{}

	if err := ac.planPlacements(p, job, res); err != nil {
		return nil, err
	}
	for _, u := range p.ExecutionUpdates {
		if u == nil {
			continue
		}
		applied, err := ac.planUpdate(p, u)
		if err != nil {
			return nil, err
		}
		if !applied {
			res.SkippedUpdates = append(res.SkippedUpdates, u.ExecutionID)
		}
	}
	if p.JobState != nil {
		if err := ac.planJobState(rec, p.JobState); err != nil {
			return nil, err
		}
	}
	for _, e := range p.NewEvals {
		if e == nil || e.ID == "" {
			continue
		}
		if err := ac.putEval(e); err != nil {
			return nil, err
		}
	}
	// An evaluation is done only when its plan landed whole. When part of it
	// was dropped the scheduler plans again; should this leader die first,
	// the evaluation is still open in state and the next leader redoes it.
	if !res.Refresh() {
		if err := ac.planEvalStatuses(p); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (ac *applyCtx) planEvalStatuses(p *Plan) error {
	if p.EvalStatus == "" {
		return nil
	}
	ids := make([]string, 0, 1+len(p.CoalescedEvalIDs))
	if p.EvalID != "" {
		ids = append(ids, p.EvalID)
	}
	ids = append(ids, p.CoalescedEvalIDs...)
	for _, id := range ids {
		old, ok, err := ac.eval(id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		e := *old
		e.Status = p.EvalStatus
		e.Comment = p.EvalComment
		e.ModifyTime = p.Now
		if e.Status == api.EvalStatusComplete {
			// A completed evaluation is never read again: keeping it until
			// the collector came round held several rows per job, at
			// thousands of jobs a second. The observer still hears it.
			if err := ac.remove(tableEvals, e.ID, old); err != nil {
				return err
			}
		} else if err := ac.put(tableEvals, e.ID, &e, false); err != nil {
			return err
		}
		ac.ev.evals = append(ac.ev.evals, &e)
	}
	return nil
}

// planPlacements commits the placements that still fit. allocated tracks,
// per node, the resources of its active executions plus those placed earlier
// in this plan.
func (ac *applyCtx) planPlacements(p *Plan, job *api.Job, res *PlanResult) error {
	if len(p.NewExecutions) == 0 {
		return nil
	}
	allocated := make(map[string]api.Resources)
	reject := func(id, format string, args ...any) {
		if res.RejectedPlacements == nil {
			res.RejectedPlacements = make(map[string]string)
		}
		res.RejectedPlacements[id] = fmt.Sprintf(format, args...)
	}
	for _, e := range p.NewExecutions {
		if e == nil {
			continue
		}
		if e.ID == "" {
			reject("", "execution without an ID")
			continue
		}
		if e.JobID == "" {
			e.JobID = job.ID
		}
		if e.JobID != job.ID {
			reject(e.ID, "execution %s belongs to job %s, not %s", e.ID, e.JobID, job.ID)
			continue
		}
		if _, exists, err := ac.execution(e.ID); err != nil {
			return err
		} else if exists {
			reject(e.ID, "execution %s already exists", e.ID)
			continue
		}
		node, ok, err := ac.node(e.NodeID)
		if err != nil {
			return err
		}
		if !ok {
			reject(e.ID, "node %s not found", e.NodeID)
			continue
		}
		if c := node.Node.Connection; c != api.NodeConnected {
			reject(e.ID, "node %s is not connected (%s)", e.NodeID, c)
			continue
		}
		need := allocatedTotal(e.AllocatedResources)
		var capacity api.Resources
		if info := node.Node.ComputeNodeInfo; info != nil {
			capacity = info.MaxCapacity
		}
		used, seen := allocated[e.NodeID]
		if !capacity.IsZero() {
			if !seen {
				if used, err = nodeAllocated(ac.txn, e.NodeID); err != nil {
					return err
				}
			}
			if !used.Add(need).Fits(capacity) {
				reject(e.ID, "node %s has not enough capacity: needs %s, %s of %s allocated",
					e.NodeID, formatResources(need), formatResources(used), formatResources(capacity))
				allocated[e.NodeID] = used
				continue
			}
		}
		if err := ac.placeExecution(e, job); err != nil {
			return err
		}
		if e.IsActive() {
			allocated[e.NodeID] = used.Add(need)
		} else {
			allocated[e.NodeID] = used
		}
	}
	return nil
}

// placeExecution inserts a new execution: first New (revision 1), then, when
// the scheduler asked for another start state, the move to it (revision 2).
func (ac *applyCtx) placeExecution(e *api.Execution, job *api.Job) error {
	if e.Namespace == "" {
		e.Namespace = job.Namespace
	}
	start := e.ComputeState
	if start.StateType == api.ExecutionStateUndefined {
		start.StateType = api.ExecutionStateNew
	}
	e.ComputeState = api.State[api.ExecutionStateType]{StateType: api.ExecutionStateNew}
	e.Revision = 1
	e.CreateTime, e.ModifyTime = ac.now, ac.now
	if err := ac.execEvent(e, api.ExecutionStateNew, ""); err != nil {
		return err
	}
	if start.StateType != api.ExecutionStateNew {
		if err := ac.setComputeState(e, start); err != nil {
			return err
		}
	} else {
		e.ComputeState.Message = start.Message
	}
	return ac.putExecution(&execRecord{Execution: e}, nil)
}

// planUpdate applies one execution update unless the execution moved on
// since the scheduler looked.
func (ac *applyCtx) planUpdate(p *Plan, u *ExecutionUpdate) (bool, error) {
	old, ok, err := ac.execution(u.ExecutionID)
	if err != nil || !ok {
		return false, err
	}
	cur := old.exec()
	if cur.JobID != p.JobID || cur.ComputeState.StateType != u.ExpectedComputeState {
		return false, nil
	}
	e := *cur
	changed := false
	if d := u.DesiredState; d != nil && *d != e.DesiredState {
		e.DesiredState = *d
		e.Revision++
		e.ModifyTime = ac.now
		if err := ac.execEvent(&e, e.ComputeState.StateType, d.Message); err != nil {
			return false, err
		}
		changed = true
	}
	if c := u.ComputeState; c != nil {
		switch {
		case c.StateType != e.ComputeState.StateType:
			if err := ac.setComputeState(&e, *c); err != nil {
				return false, err
			}
			changed = true
		case c.Message != e.ComputeState.Message:
			e.ComputeState.Message = c.Message
			e.ModifyTime = ac.now
			changed = true
		}
	}
	if !changed {
		return true, nil
	}
	return true, ac.putExecution(&execRecord{Execution: &e, CreateIndex: old.CreateIndex}, old)
}

func (ac *applyCtx) planJobState(rec *jobRecord, s *api.State[api.JobStateType]) error {
	// Earlier parts of the plan do not touch the job row, so rec is current.
	job := *rec.job()
	switch {
	case s.StateType != job.State.StateType:
		prev := job.State.StateType
		job.State = *s
		job.Revision++
		job.ModifyTime = ac.now
		if err := ac.jobEvent(&job, prev, s.Message); err != nil {
			return err
		}
	case s.Message != job.State.Message:
		job.State.Message = s.Message
		job.ModifyTime = ac.now
	default:
		return nil
	}
	return ac.putJob(&jobRecord{Job: &job, CreateIndex: rec.CreateIndex}, false)
}

func formatResources(r api.Resources) string {
	return fmt.Sprintf("{CPU: %g, Memory: %d, Disk: %d, GPU: %d}", r.CPU, r.Memory, r.Disk, r.GPU)
}
