package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shoal-io/shoal/api"
)

// batchView sorts a batch or service job's executions by what they mean for
// the job.
type batchView struct {
	asking      []*api.Execution // placed, the node has not bid yet
	accepted    []*api.Execution // the node bid; waiting for approval
	running     []*api.Execution // approved
	completed   int
	failures    int            // the job's own failures (not node losses)
	lastFailure *api.Execution // the most recent of them
	replaceable []*api.Execution
}

func (c *evalContext) batchView() *batchView {
	service := c.job.Type == api.JobTypeService
	replaced := make(map[string]bool)
	for _, e := range c.execs {
		if e.PreviousExecution != "" {
			replaced[e.PreviousExecution] = true
		}
	}
	v := &batchView{}
	for _, e := range c.execs {
		st := c.stateOf(e)
		ownFailure := false
		switch st {
		case api.ExecutionStateAskForBidAccepted:
			v.accepted = append(v.accepted, e)
		case api.ExecutionStateBidAccepted:
			v.running = append(v.running, e)
		case api.ExecutionStateCompleted:
			// A service is never meant to end: the state machine records
			// such an end as a failure, and so does this.
			if !service {
				v.completed++
				continue
			}
			ownFailure = true
		case api.ExecutionStateFailed:
			ownFailure = !c.isNodeLoss(e)
		case api.ExecutionStateAskForBidRejected:
			ownFailure = true
		case api.ExecutionStateBidRejected:
		case api.ExecutionStateCancelled:
			continue
		default: // New, AskForBid (and Undefined, treated as new)
			v.asking = append(v.asking, e)
			continue
		}
		if !st.IsTerminal() {
			continue
		}
		if ownFailure {
			v.failures++
			if v.lastFailure == nil || e.ModifyTime >= v.lastFailure.ModifyTime {
				v.lastFailure = e
			}
		}
		if !replaced[e.ID] {
			v.replaceable = append(v.replaceable, e)
		}
	}
	return v
}

// scheduleBatchService keeps Count executions going: a batch job until
// Count of them completed, a service job for ever. It approves bids, rejects
// surplus ones, replaces what failed or was lost while the retry budget
// lasts, and waits for room (up to the queue timeout) when nodes are short.
func (c *evalContext) scheduleBatchService() error {
	job := c.job
	service := job.Type == api.JobTypeService
	v := c.batchView()

	if !service && v.completed >= job.Count {
		c.setJobState(api.JobStateTypeCompleted, "")
		for _, e := range c.execs {
			if !c.stateOf(e).IsTerminal() {
				c.stop(e, "job completed")
			}
		}
		return nil
	}
	remaining := job.Count
	if !service {
		remaining -= v.completed
	}
	// More approved executions than wanted: keep the oldest.
	if len(v.running) > remaining {
		for _, e := range v.running[remaining:] {
			c.stop(e, msgNotNeeded)
		}
		v.running = v.running[:remaining]
	}
	slots := remaining - len(v.running)
	// First bids in, first approved.
	sort.SliceStable(v.accepted, func(i, j int) bool { return v.accepted[i].ModifyTime < v.accepted[j].ModifyTime })
	approve := v.accepted[:min(slots, len(v.accepted))]
	surplus := v.accepted[len(approve):]
	need := slots - len(approve) - len(v.asking)

	if need > 0 && v.failures >= c.cfg.FailuresPerCount*max(job.Count, 1) {
		c.failJob(fmt.Sprintf("job failed after %d failed executions: %s", v.failures, failureText(v.lastFailure)))
		return nil
	}
	for _, e := range approve {
		c.approve(e)
	}
	for _, e := range surplus {
		c.rejectBid(e)
	}
	state := job.State.StateType
	if (state == api.JobStateTypePending || state == api.JobStateTypeUndefined) && len(v.running)+len(approve) > 0 {
		state = api.JobStateTypeRunning
	}
	if need <= 0 {
		c.setJobState(state, c.settledMessage())
		return nil
	}
	return c.placeBatch(state, need, v.replaceable)
}

// placeBatch places need new executions (each asking its node for a bid),
// and when not all fit, lets the job wait for room or fails it once its
// queue timeout passed.
func (c *evalContext) placeBatch(state api.JobStateType, need int, replaceable []*api.Execution) error {
	req, ok := c.requirements()
	if !ok {
		return nil
	}
	p := c.newPlacer(req, need)
	placed := 0
	for ; placed < need; placed++ {
		n, err := p.next()
		if err != nil {
			return err
		}
		if n == nil {
			break
		}
		previous := ""
		if placed < len(replaceable) {
			previous = replaceable[placed].ID
		}
		c.addExecution(n, req, previous, api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending)
	}
	if placed == need {
		c.setJobState(state, c.settledMessage())
		return nil
	}

	timeout := c.queueTimeout()
	deadline := c.job.CreateTime + timeout*1e9
	// A service that already runs waits for room as long as it takes: its
	// queue timeout is about getting started, not about surviving a lost node.
	runningService := c.job.Type == api.JobTypeService && state == api.JobStateTypeRunning
	if !runningService && (timeout <= 0 || c.now >= deadline) {
		// Explain against the state alone: this plan's placements are dropped.
		rejected, available, err := explain(c.nodes, req, newCapacity(c.state))
		if err != nil {
			return err
		}
		c.failJob(notEnoughNodesMessage(need, available, rejected, req))
		return nil
	}
	rejected, _, err := explain(c.nodes, req, p.cap)
	if err != nil {
		return err
	}
	firstWait := !strings.HasPrefix(c.job.State.Message, waitingPrefix)
	c.plan.EvalStatus = api.EvalStatusBlocked
	c.setJobState(state, waitingMessage(need-placed, rejected, req))
	if !runningService && (firstWait || c.eval.TriggeredBy == api.EvalTriggerJobQueue) {
		c.plan.NewEvals = append(c.plan.NewEvals, &api.Evaluation{
			ID:          api.NewEvalID(),
			Namespace:   c.job.Namespace,
			JobID:       c.job.ID,
			TriggeredBy: api.EvalTriggerJobQueue,
			Priority:    c.job.Priority,
			Type:        c.job.Type,
			Status:      api.EvalStatusPending,
			Comment:     "queue timeout",
			WaitUntil:   deadline,
			CreateTime:  c.now,
			ModifyTime:  c.now,
		})
	}
	return nil
}

func failureText(e *api.Execution) string {
	if e == nil {
		return "unknown failure"
	}
	if e.ComputeState.Message != "" {
		return e.ComputeState.Message
	}
	if e.RunOutput != nil && e.RunOutput.ErrorMsg != "" {
		return e.RunOutput.ErrorMsg
	}
	return "execution " + e.ID + " " + strings.ToLower(e.ComputeState.StateType.String())
}
