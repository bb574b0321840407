package scheduler

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// Messages the schedulers write into states. Users read them in history.
const (
	msgApproved    = "execution approved"
	msgBidRejected = "bid rejected: the job has enough executions"
	msgNotNeeded   = "execution no longer needed"
	waitingPrefix  = "waiting for nodes: "
)

// lostMessage is how a lost execution's failure reads; the state machine
// writes the same words when the leader declares a node lost, which is how
// such failures are told apart from the job's own.
func lostMessage(nodeID string) string { return api.NodeLostMessage(nodeID, "") }

// evalContext is one scheduling pass: the evaluation, what the snapshot says
// about its job, and the plan being built.
type evalContext struct {
	cfg   *Config
	state State
	eval  *api.Evaluation
	job   *api.Job
	execs []*api.Execution
	nodes *nodeTable
	now   int64
	plan  *fsm.Plan
	// lost holds the executions this plan marks lost; their updates come
	// first in plan.ExecutionUpdates.
	lost map[string]bool
}

// computePlan decides what should change for one evaluation (and the
// evaluations coalesced with it) given a snapshot of the state.
func (s *Scheduler) computePlan(state State, eval *api.Evaluation, coalesced []string) (*fsm.Plan, error) {
	now := s.cfg.Clock().UnixNano()
	plan := &fsm.Plan{EvalID: eval.ID, JobID: eval.JobID, EvalStatus: api.EvalStatusComplete, CoalescedEvalIDs: coalesced, Now: now}
	job, err := state.Job(eval.JobID)
	if errors.Is(err, api.ErrNotFound) {
		plan.EvalComment = "job not found"
		return plan, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load job %s: %w", eval.JobID, err)
	}
	plan.JobRevision = job.Revision
	execs, err := state.ExecutionsByJob(job.ID)
	if err != nil {
		return nil, fmt.Errorf("load executions of job %s: %w", job.ID, err)
	}
	nodes, err := s.nodes.get(state)
	if err != nil {
		return nil, err
	}
	c := &evalContext{cfg: &s.cfg, state: state, eval: eval, job: job, execs: execs, nodes: nodes, now: now, plan: plan}

	if st := job.State.StateType; st.IsTerminal() {
		msg := "job " + strings.ToLower(st.String())
		for _, e := range execs {
			if !e.IsTerminal() {
				c.stop(e, msg)
			}
		}
		return plan, nil
	}
	c.markLost()
	switch job.Type {
	case api.JobTypeBatch, api.JobTypeService:
		err = c.scheduleBatchService()
	case api.JobTypeOps:
		err = c.scheduleOps()
	case api.JobTypeDaemon:
		err = c.scheduleDaemon()
	default:
		plan.EvalComment = fmt.Sprintf("unknown job type %q", job.Type)
	}
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// markLost fails the non-terminal executions whose node is gone or
// disconnected. The state machine does this itself when the leader declares
// a node lost; this covers a node that vanished from the table.
func (c *evalContext) markLost() {
	for _, e := range c.execs {
		if e.IsTerminal() {
			continue
		}
		if n := c.nodes.byID[e.NodeID]; n != nil && !n.lost {
			continue
		}
		if c.lost == nil {
			c.lost = make(map[string]bool)
		}
		c.lost[e.ID] = true
		msg := lostMessage(e.NodeID)
		c.update(e, api.ExecutionDesiredStateStopped, msg, api.ExecutionStateFailed, msg)
	}
}

// stateOf is an execution's compute state once this plan's lost marks apply.
func (c *evalContext) stateOf(e *api.Execution) api.ExecutionStateType {
	if c.lost[e.ID] {
		return api.ExecutionStateFailed
	}
	return e.ComputeState.StateType
}

// isNodeLoss tells whether an execution failed because its node was lost,
// not for the job's own reasons; such failures are not held against the job.
func (c *evalContext) isNodeLoss(e *api.Execution) bool {
	if c.lost[e.ID] {
		return true
	}
	return e.FailedWithNodeLoss()
}

func (c *evalContext) update(e *api.Execution, desired api.ExecutionDesiredStateType, desiredMsg string,
	compute api.ExecutionStateType, computeMsg string) {
	c.plan.ExecutionUpdates = append(c.plan.ExecutionUpdates, &fsm.ExecutionUpdate{
		ExecutionID:          e.ID,
		ExpectedComputeState: e.ComputeState.StateType,
		DesiredState:         &api.State[api.ExecutionDesiredStateType]{StateType: desired, Message: desiredMsg},
		ComputeState:         &api.State[api.ExecutionStateType]{StateType: compute, Message: computeMsg},
	})
}

// stop cancels an execution; a bid the node accepted is rejected instead,
// which is how the node hears it will not run.
func (c *evalContext) stop(e *api.Execution, msg string) {
	compute := api.ExecutionStateCancelled
	if e.ComputeState.StateType == api.ExecutionStateAskForBidAccepted {
		compute = api.ExecutionStateBidRejected
	}
	c.update(e, api.ExecutionDesiredStateStopped, msg, compute, msg)
}

func (c *evalContext) approve(e *api.Execution) {
	c.update(e, api.ExecutionDesiredStateRunning, msgApproved, api.ExecutionStateBidAccepted, "")
}

func (c *evalContext) rejectBid(e *api.Execution) {
	c.update(e, api.ExecutionDesiredStateStopped, msgBidRejected, api.ExecutionStateBidRejected, msgBidRejected)
}

// setJobState moves the job to state with msg, unless it is there already.
func (c *evalContext) setJobState(state api.JobStateType, msg string) {
	if state == c.job.State.StateType && msg == c.job.State.Message {
		c.plan.JobState = nil
		return
	}
	c.plan.JobState = &api.State[api.JobStateType]{StateType: state, Message: msg}
}

// settledMessage is the job message once nothing waits: a waiting note is
// cleared, anything else kept.
func (c *evalContext) settledMessage() string {
	if strings.HasPrefix(c.job.State.Message, waitingPrefix) {
		return ""
	}
	return c.job.State.Message
}

// failJob drops whatever this plan decided except the lost marks, fails the
// job and stops its active executions.
func (c *evalContext) failJob(msg string) {
	lost := 0
	for _, u := range c.plan.ExecutionUpdates {
		if c.lost[u.ExecutionID] {
			lost++
		}
	}
	c.plan.ExecutionUpdates = c.plan.ExecutionUpdates[:lost]
	c.plan.NewExecutions = nil
	c.plan.NewEvals = nil
	c.plan.EvalStatus = api.EvalStatusComplete
	c.setJobState(api.JobStateTypeFailed, msg)
	for _, e := range c.execs {
		if !c.stateOf(e).IsTerminal() {
			c.stop(e, "job failed")
		}
	}
}

// addExecution places a new execution of the job on node n.
func (c *evalContext) addExecution(n *nodeEntry, req *requirements, previous string,
	compute api.ExecutionStateType, desired api.ExecutionDesiredStateType) {
	res := req.resources
	c.plan.NewExecutions = append(c.plan.NewExecutions, &api.Execution{
		ID:                 api.NewExecutionID(),
		Namespace:          c.job.Namespace,
		EvalID:             c.eval.ID,
		NodeID:             n.id,
		JobID:              c.job.ID,
		AllocatedResources: &api.AllocatedResources{Tasks: map[string]*api.Resources{req.taskName: &res}},
		DesiredState:       api.State[api.ExecutionDesiredStateType]{StateType: desired},
		ComputeState:       api.State[api.ExecutionStateType]{StateType: compute},
		PreviousExecution:  previous,
		CreateTime:         c.now,
		ModifyTime:         c.now,
	})
}

// requirements reads the job's needs; a job no node could ever take is
// failed, and ok is false.
func (c *evalContext) requirements() (req *requirements, ok bool) {
	req, err := newRequirements(c.job, c.cfg.DefaultTaskResources)
	if err != nil {
		c.failJob(err.Error())
		return nil, false
	}
	return req, true
}

func (c *evalContext) queueTimeout() int64 {
	if t := c.job.Task(); t != nil && t.Timeouts != nil {
		return t.Timeouts.QueueTimeout
	}
	return 0
}
