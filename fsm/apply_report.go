package fsm

import (
	"fmt"

	"github.com/shoal-io/shoal/api"
)

// executionStateRank orders compute states along an execution's life; a
// report may only move an execution forward (or fail/cancel it).
func executionStateRank(s api.ExecutionStateType) int {
	switch s {
	case api.ExecutionStateNew:
		return 1
	case api.ExecutionStateAskForBid:
		return 2
	case api.ExecutionStateAskForBidAccepted, api.ExecutionStateAskForBidRejected:
		return 3
	case api.ExecutionStateBidAccepted:
		return 4
	case api.ExecutionStateBidRejected, api.ExecutionStateCompleted,
		api.ExecutionStateFailed, api.ExecutionStateCancelled:
		return 5
	}
	return 0
}

// reportIgnoreReason says why a report changes nothing, or "" when it
// applies.
func reportIgnoreReason(nodeID string, cur *api.Execution, to api.ExecutionStateType) string {
	from := cur.ComputeState.StateType
	switch {
	case cur.NodeID != nodeID:
		return fmt.Sprintf("execution %s runs on node %s, not %s", cur.ID, cur.NodeID, nodeID)
	case from.IsTerminal():
		return fmt.Sprintf("execution %s is already %s", cur.ID, from)
	case from == to:
		return fmt.Sprintf("execution %s is already %s", cur.ID, to)
	case executionStateRank(to) == 0:
		return fmt.Sprintf("invalid execution state %s", to)
	case to == api.ExecutionStateFailed || to == api.ExecutionStateCancelled:
		return ""
	case executionStateRank(to) <= executionStateRank(from):
		return fmt.Sprintf("execution %s cannot go back from %s to %s", cur.ID, from, to)
	}
	return ""
}

func (ac *applyCtx) executionReport(req *ExecutionReportRequest) (*ExecutionReportResult, error) {
	if _, ok, err := ac.node(req.NodeID); err != nil {
		return nil, err
	} else if !ok {
		return nil, nodeNotFound(req.NodeID)
	}
	res := &ExecutionReportResult{}
	ignore := func(id, reason string) {
		if res.Ignored == nil {
			res.Ignored = make(map[string]string)
		}
		res.Ignored[id] = reason
	}
	var touched []string // job IDs in the order first reported, for eval IDs
	var seen map[string]bool
	for i := range req.Updates {
		u := &req.Updates[i]
		old, ok, err := ac.execution(u.ExecutionID)
		if err != nil {
			return nil, err
		}
		if !ok {
			ignore(u.ExecutionID, fmt.Sprintf("execution %s not found", u.ExecutionID))
			continue
		}
		if reason := reportIgnoreReason(req.NodeID, old.exec(), u.ComputeState); reason != "" {
			ignore(u.ExecutionID, reason)
			continue
		}
		jobRec, jobOK, err := ac.job(old.head().JobID)
		if err != nil {
			return nil, err
		}
		if err := ac.applyReport(old, u, jobOK && jobRec.job().IsLongRunning()); err != nil {
			return nil, err
		}
		res.Applied++
		if jobOK && !jobRec.head().State.IsTerminal() && !seen[jobRec.head().ID] {
			if seen == nil {
				seen = make(map[string]bool)
			}
			seen[jobRec.head().ID] = true
			touched = append(touched, jobRec.head().ID)
		}
	}
	for _, id := range touched {
		rec, _, err := ac.job(id)
		if err != nil {
			return nil, err
		}
		eval, err := ac.newEval(rec.job(), api.EvalTriggerExecUpdate)
		if err != nil {
			return nil, err
		}
		res.EvalIDs = append(res.EvalIDs, eval.ID)
	}
	return res, nil
}

func (ac *applyCtx) applyReport(old *execRecord, u *api.ExecutionUpdate, longRunning bool) error {
	e := *old.exec()
	state := api.State[api.ExecutionStateType]{StateType: u.ComputeState, Message: u.Message}
	if state.StateType == api.ExecutionStateCompleted && longRunning {
		// Services and daemons run until stopped: ending on its own is a
		// failure the scheduler must replace.
		state = api.State[api.ExecutionStateType]{StateType: api.ExecutionStateFailed, Message: "execution completed unexpectedly"}
	}
	if u.RunOutput != nil {
		e.RunOutput = u.RunOutput
	}
	if u.PublishedResult != nil {
		e.PublishedResult = u.PublishedResult
	}
	if err := ac.setComputeState(&e, state); err != nil {
		return err
	}
	switch state.StateType {
	case api.ExecutionStateCompleted:
		e.DesiredState = api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateStopped, Message: "execution completed"}
	case api.ExecutionStateFailed:
		e.DesiredState = api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateStopped, Message: "execution failed"}
	}
	return ac.putExecution(&execRecord{Execution: &e, CreateIndex: old.CreateIndex}, old)
}
