package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// fakeCluster is a Planner that applies plans to a fakeState roughly as the
// state machine does, and tells the scheduler what it committed.
type fakeCluster struct {
	mu      sync.Mutex
	state   *fakeState
	sched   *Scheduler
	changed chan struct{} // closed and replaced on every change
	evalSeq int
}

func newFakeCluster(st *fakeState) *fakeCluster {
	return &fakeCluster{state: st, changed: make(chan struct{})}
}

func (c *fakeCluster) Snapshot() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// mutate applies f to a copy of the state and publishes it.
func (c *fakeCluster) mutate(f func(st *fakeState) (evals []*api.Evaluation, freed []string)) {
	c.mu.Lock()
	next := c.state.clone()
	next.index++
	evals, freed := f(next)
	c.state = next
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	c.sched.EvalsCommitted(evals)
	c.sched.CapacityFreed(freed)
}

func (c *fakeCluster) SubmitPlan(_ context.Context, p *fsm.Plan) (*fsm.PlanResult, uint64, error) {
	var res *fsm.PlanResult
	c.mutate(func(st *fakeState) ([]*api.Evaluation, []string) {
		var evals []*api.Evaluation
		var freed []string
		res, evals, freed = st.applyPlan(p)
		return evals, freed
	})
	return res, c.Snapshot().Index(), nil
}

func (c *fakeCluster) UpdateEvals(_ context.Context, evals []*api.Evaluation) error {
	c.mutate(func(st *fakeState) ([]*api.Evaluation, []string) {
		st.addEvals(evals...)
		return evals, nil
	})
	return nil
}

// report is a compute node reporting a new state for an execution, which
// raises an exec-update evaluation.
func (c *fakeCluster) report(execID string, to api.ExecutionStateType) {
	c.mutate(func(st *fakeState) ([]*api.Evaluation, []string) {
		var freed []string
		var jobID string
		for i, e := range st.execs {
			if e.ID != execID {
				continue
			}
			n := *e
			n.ComputeState = api.State[api.ExecutionStateType]{StateType: to}
			if to.IsTerminal() {
				n.DesiredState.StateType = api.ExecutionDesiredStateStopped
				freed = append(freed, n.NodeID)
			}
			st.execs[i] = &n
			jobID = n.JobID
		}
		c.evalSeq++
		j := st.jobs[jobID]
		ev := eval(fmt.Sprintf("upd-%d", c.evalSeq), jobID, j.Type, func(e *api.Evaluation) { e.TriggeredBy = api.EvalTriggerExecUpdate })
		st.addEvals(ev)
		return []*api.Evaluation{ev}, freed
	})
}

// waitState waits until cond holds on the published state.
func (c *fakeCluster) waitState(t *testing.T, what string, cond func(st *fakeState) bool) *fakeState {
	t.Helper()
	guard := time.After(20 * time.Second)
	for {
		c.mu.Lock()
		st, changed := c.state, c.changed
		c.mu.Unlock()
		if cond(st) {
			return st
		}
		select {
		case <-changed:
		case <-guard:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// applyPlan is a small model of the state machine's PlanApply.
func (f *fakeState) applyPlan(p *fsm.Plan) (res *fsm.PlanResult, evals []*api.Evaluation, freed []string) {
	res = &fsm.PlanResult{}
	for _, id := range append([]string{p.EvalID}, p.CoalescedEvalIDs...) {
		if ev, ok := f.evals[id]; ok {
			c := *ev
			c.Status, c.Comment, c.ModifyTime = p.EvalStatus, p.EvalComment, p.Now
			f.evals[id] = &c
			evals = append(evals, &c)
		}
	}
	j, ok := f.jobs[p.JobID]
	if !ok || j.Revision != p.JobRevision {
		res.Stale = true
		return res, evals, nil
	}
	for _, e := range p.NewExecutions {
		var n *api.NodeInfo
		for _, x := range f.nodes {
			if x.NodeID == e.NodeID {
				n = x
			}
		}
		if n == nil || n.Connection != api.NodeConnected {
			res.RejectedPlacements = map[string]string{e.ID: "node not available"}
			continue
		}
		used, _ := f.NodeAllocated(n.NodeID)
		if max := n.ComputeNodeInfo.MaxCapacity; !max.IsZero() && !used.Add(e.AllocatedResources.Total()).Fits(max) {
			res.RejectedPlacements = map[string]string{e.ID: "node full"}
			continue
		}
		c := *e
		c.Revision = 1
		f.execs = append(f.execs, &c)
	}
	for _, u := range p.ExecutionUpdates {
		for i, e := range f.execs {
			if e.ID != u.ExecutionID {
				continue
			}
			if e.ComputeState.StateType != u.ExpectedComputeState {
				res.SkippedUpdates = append(res.SkippedUpdates, e.ID)
				break
			}
			c := *e
			c.DesiredState, c.ComputeState = *u.DesiredState, *u.ComputeState
			c.Revision++
			if !e.IsTerminal() && c.IsTerminal() {
				freed = append(freed, c.NodeID)
			}
			f.execs[i] = &c
		}
	}
	if p.JobState != nil {
		c := *j
		if c.State.StateType != p.JobState.StateType {
			c.Revision++
		}
		c.State = *p.JobState
		f.jobs[c.ID] = &c
	}
	for _, ev := range p.NewEvals {
		f.evals[ev.ID] = ev
		evals = append(evals, ev)
	}
	return res, evals, freed
}

func countExecs(st *fakeState, jobID string, want api.ExecutionStateType) int {
	n := 0
	for _, e := range st.execs {
		if e.JobID == jobID && e.ComputeState.StateType == want {
			n++
		}
	}
	return n
}

func startCluster(t *testing.T, st *fakeState) (*fakeCluster, *Scheduler) {
	t.Helper()
	c := newFakeCluster(st)
	s := newTestScheduler(t, c.Snapshot, c, newFakeClock(), func(cfg *Config) { cfg.Workers = 2 })
	c.sched = s
	s.SetEnabled(true)
	t.Cleanup(func() { s.SetEnabled(false) })
	return c, s
}

func TestBatchJobRunsToCompletion(t *testing.T) {
	st := threeNodes().addJob(job("j1", api.JobTypeBatch, 2)).addEvals(eval("ev-1", "j1", api.JobTypeBatch))
	c, _ := startCluster(t, st)

	st = c.waitState(t, "placements", func(st *fakeState) bool { return countExecs(st, "j1", api.ExecutionStateAskForBid) == 2 })
	expect(t, "register eval", st.evals["ev-1"].Status, api.EvalStatusComplete)
	for _, e := range st.execs {
		c.report(e.ID, api.ExecutionStateAskForBidAccepted)
	}
	st = c.waitState(t, "approvals", func(st *fakeState) bool { return countExecs(st, "j1", api.ExecutionStateBidAccepted) == 2 })
	expect(t, "job state", st.jobs["j1"].State.StateType, api.JobStateTypeRunning)
	for _, e := range st.execs {
		c.report(e.ID, api.ExecutionStateCompleted)
	}
	st = c.waitState(t, "completion", func(st *fakeState) bool { return st.jobs["j1"].State.StateType == api.JobStateTypeCompleted })
	c.waitState(t, "every evaluation settled", func(st *fakeState) bool {
		open, _ := st.EvalsByStatus(api.EvalStatusPending)
		return len(open) == 0
	})
	expect(t, "executions", len(st.execs), 2)
}

func TestBlockedJobPlacedWhenNodeJoins(t *testing.T) {
	st := newFakeState().addNodes(node("n1", withCapacity(api.Resources{CPU: 0.1, Memory: gib}))).
		addJob(job("j1", api.JobTypeBatch, 1, queueTimeout(3600))).
		addEvals(eval("ev-1", "j1", api.JobTypeBatch))
	c, s := startCluster(t, st)

	st = c.waitState(t, "blocked", func(st *fakeState) bool { return st.evals["ev-1"].Status == api.EvalStatusBlocked })
	// The job-queue evaluation waits in the delayed heap; ev-1 is parked.
	waitStats(t, s, "parked", func(st Stats) bool { return st.Blocked == 1 && st.Delayed == 1 })
	expect(t, "job message", st.jobs["j1"].State.Message, "waiting for nodes: 1 execution not placed (1 node without enough free capacity)")

	c.mutate(func(st *fakeState) ([]*api.Evaluation, []string) {
		st.addNodes(node("n2"))
		return nil, nil
	})
	s.NodesChanged([]string{"n2"})
	st = c.waitState(t, "placement on the new node", func(st *fakeState) bool { return countExecs(st, "j1", api.ExecutionStateAskForBid) == 1 })
	expect(t, "node", st.execs[0].NodeID, "n2")
	st = c.waitState(t, "evaluation settled", func(st *fakeState) bool { return st.evals["ev-1"].Status == api.EvalStatusComplete })
	expect(t, "job message", st.jobs["j1"].State.Message, "")
}

func waitStats(t *testing.T, s *Scheduler, what string, cond func(Stats) bool) {
	t.Helper()
	guard := time.Now().Add(20 * time.Second)
	for !cond(s.Stats()) {
		if time.Now().After(guard) {
			t.Fatalf("timed out waiting for %s: %+v", what, s.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}
