package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

type planCase struct {
	name  string
	state func() *fakeState
	eval  *api.Evaluation
	// after moves the clock forward from 10 s after the job's creation.
	after time.Duration
	check func(t *testing.T, p *fsm.Plan)
}

func runPlanCases(t *testing.T, cases []planCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			clock.Advance(tc.after)
			ev := tc.eval
			if ev == nil {
				ev = eval("ev-1", "j1", api.JobTypeBatch)
			}
			p := schedule(t, tc.state(), ev, clock)
			if p.EvalID != ev.ID || p.Now != clock.Now().UnixNano() {
				t.Fatalf("plan for %s at %d, want %s at %d", p.EvalID, p.Now, ev.ID, clock.Now().UnixNano())
			}
			tc.check(t, p)
		})
	}
}

func threeNodes() *fakeState {
	return newFakeState().addNodes(node("n1"), node("n2"), node("n3"))
}

func expect(t *testing.T, what string, got, want any) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestBatchDecisions(t *testing.T) {
	runPlanCases(t, []planCase{
		{
			name:  "new job places Count executions on distinct nodes",
			state: func() *fakeState { return threeNodes().addJob(job("j1", api.JobTypeBatch, 3)) },
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1,n2,n3")
				for _, e := range p.NewExecutions {
					expect(t, "compute state", e.ComputeState.StateType, api.ExecutionStateAskForBid)
					expect(t, "desired state", e.DesiredState.StateType, api.ExecutionDesiredStatePending)
					expect(t, "eval", e.EvalID, "ev-1")
					expect(t, "cpu", e.AllocatedResources.Tasks["main"].CPU, 0.5)
					expect(t, "memory", e.AllocatedResources.Tasks["main"].Memory, uint64(256e6))
					if !strings.HasPrefix(e.ID, "e-") || e.PreviousExecution != "" {
						t.Errorf("execution %+v", e)
					}
				}
				expect(t, "job state", jobStateOf(p), "-")
				expect(t, "eval status", p.EvalStatus, api.EvalStatusComplete)
				expect(t, "revision", p.JobRevision, uint64(1))
			},
		},
		{
			name: "executions spread over nodes even when one has far more room",
			state: func() *fakeState {
				return newFakeState().addNodes(
					node("n1", withCapacity(api.Resources{CPU: 64, Memory: 128 * gib})),
					node("n2", withCapacity(api.Resources{CPU: 2, Memory: 4 * gib})),
				).addJob(job("j1", api.JobTypeBatch, 2))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1,n2")
			},
		},
		{
			name: "accepted bids are approved first come first served, surplus rejected",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeBatch, 2)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateAskForBidAccepted, modifiedAt(20)),
					exec("e2", "j1", "n2", api.ExecutionStateAskForBidAccepted, modifiedAt(10)),
					exec("e3", "j1", "n3", api.ExecutionStateAskForBidAccepted, modifiedAt(30)))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "updates", updatesSummary(p), "e2:Running/BidAccepted e1:Running/BidAccepted e3:Stopped/BidRejected")
				expect(t, "approval message", updateFor(p, "e2").DesiredState.Message, msgApproved)
				expect(t, "expected state", updateFor(p, "e3").ExpectedComputeState, api.ExecutionStateAskForBidAccepted)
				expect(t, "placements", len(p.NewExecutions), 0)
				expect(t, "job state", jobStateOf(p), "Running")
			},
		},
		{
			name: "bids still out count toward Count",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeBatch, 2, inState(api.JobStateTypeRunning, ""))).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateAskForBid),
					exec("e2", "j1", "n2", api.ExecutionStateBidAccepted))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", len(p.NewExecutions), 0)
				expect(t, "updates", len(p.ExecutionUpdates), 0)
				expect(t, "job state", jobStateOf(p), "-")
			},
		},
		{
			name: "Count completions complete the job and stop the rest",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeBatch, 2, inState(api.JobStateTypeRunning, ""))).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateCompleted),
					exec("e2", "j1", "n2", api.ExecutionStateCompleted),
					exec("e3", "j1", "n3", api.ExecutionStateBidAccepted),
					exec("e4", "j1", "n3", api.ExecutionStateAskForBidAccepted))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Completed")
				expect(t, "updates", updatesSummary(p), "e3:Stopped/Cancelled e4:Stopped/BidRejected")
				expect(t, "stop message", updateFor(p, "e3").ComputeState.Message, "job completed")
			},
		},
		{
			name:  "Count 0 completes at once",
			state: func() *fakeState { return threeNodes().addJob(job("j1", api.JobTypeBatch, 0)) },
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Completed")
				expect(t, "placements", len(p.NewExecutions), 0)
			},
		},
		{
			name: "a failure is replaced on a node where the job never failed",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1"), node("n2")).
					addJob(job("j1", api.JobTypeBatch, 1, inState(api.JobStateTypeRunning, ""))).
					addExecs(exec("e1", "j1", "n1", api.ExecutionStateFailed, failedWith("exit code 1")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n2")
				expect(t, "previous", p.NewExecutions[0].PreviousExecution, "e1")
				expect(t, "job state", jobStateOf(p), "-")
			},
		},
		{
			name: "a rejected bid is replaced too",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1"), node("n2")).
					addJob(job("j1", api.JobTypeBatch, 1)).
					addExecs(exec("e1", "j1", "n2", api.ExecutionStateAskForBidRejected, failedWith("busy")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1")
				expect(t, "previous", p.NewExecutions[0].PreviousExecution, "e1")
			},
		},
		{
			name: "retries stop at FailuresPerCount×Count failures",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeBatch, 1, inState(api.JobStateTypeRunning, ""))).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateFailed, failedWith("exit code 1"), modifiedAt(1)),
					exec("e2", "j1", "n2", api.ExecutionStateFailed, failedWith("exit code 3"), modifiedAt(3)),
					exec("e3", "j1", "n3", api.ExecutionStateFailed, failedWith("exit code 2"), modifiedAt(2)))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Failed")
				expect(t, "message", p.JobState.Message, "job failed after 3 failed executions: exit code 3")
				expect(t, "placements", len(p.NewExecutions), 0)
			},
		},
		{
			name: "the retry budget scales with Count",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeBatch, 2, inState(api.JobStateTypeRunning, ""))).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateFailed, failedWith("x")),
					exec("e2", "j1", "n2", api.ExecutionStateFailed, failedWith("x")),
					exec("e3", "j1", "n3", api.ExecutionStateFailed, failedWith("x")),
					exec("e4", "j1", "n3", api.ExecutionStateBidAccepted))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", len(p.NewExecutions), 1)
				expect(t, "job state", jobStateOf(p), "-")
			},
		},
		{
			name: "node losses do not use up retries",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeBatch, 1, inState(api.JobStateTypeRunning, ""))).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateFailed, failedWith("node n1 lost: no heartbeat")),
					exec("e2", "j1", "n2", api.ExecutionStateFailed, failedWith("node n2 lost")),
					exec("e3", "j1", "n3", api.ExecutionStateFailed, failedWith("node n3 lost")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", len(p.NewExecutions), 1)
				expect(t, "job state", jobStateOf(p), "-")
				expect(t, "previous", p.NewExecutions[0].PreviousExecution, "e1")
			},
		},
		{
			name: "an execution on a vanished node is lost and replaced",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1")).
					addJob(job("j1", api.JobTypeBatch, 1, inState(api.JobStateTypeRunning, ""))).
					addExecs(exec("e1", "j1", "gone", api.ExecutionStateBidAccepted))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "updates", updatesSummary(p), "e1:Stopped/Failed")
				expect(t, "lost message", updateFor(p, "e1").ComputeState.Message, "node gone lost")
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1")
				expect(t, "previous", p.NewExecutions[0].PreviousExecution, "e1")
			},
		},
		{
			name: "an execution on a disconnected node is lost and replaced elsewhere",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1", disconnected), node("n2")).
					addJob(job("j1", api.JobTypeBatch, 1, inState(api.JobStateTypeRunning, ""))).
					addExecs(exec("e1", "j1", "n1", api.ExecutionStateAskForBidAccepted))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "updates", updatesSummary(p), "e1:Stopped/Failed")
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n2")
			},
		},
		{
			name:  "job not found completes the evaluation",
			state: newFakeState,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "status", p.EvalStatus, api.EvalStatusComplete)
				expect(t, "comment", p.EvalComment, "job not found")
				if !onlyEvalStatus(p) {
					t.Error("plan changes more than the evaluation")
				}
			},
		},
		{
			name: "invalid constraints fail the job",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeBatch, 1, constrained("region", "near", "eu")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Failed")
				if p.JobState.Message != `invalid constraints: constraint 0: unknown operator "near"` {
					t.Errorf("message %q", p.JobState.Message)
				}
			},
		},
	})
}

func TestServiceDecisions(t *testing.T) {
	svc := func(count int, opts ...func(*api.Job)) *api.Job {
		return job("j1", api.JobTypeService, count, append([]func(*api.Job){inState(api.JobStateTypeRunning, "")}, opts...)...)
	}
	runPlanCases(t, []planCase{
		{
			name: "a service execution that ended is a failure and is replaced",
			state: func() *fakeState {
				return threeNodes().addJob(svc(2)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateBidAccepted),
					exec("e2", "j1", "n2", api.ExecutionStateFailed, failedWith("execution completed unexpectedly")))
			},
			eval: eval("ev-1", "j1", api.JobTypeService),
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n3")
				expect(t, "previous", p.NewExecutions[0].PreviousExecution, "e2")
				expect(t, "job state", jobStateOf(p), "-")
			},
		},
		{
			name: "a service never completes",
			state: func() *fakeState {
				return threeNodes().addJob(svc(1)).addExecs(exec("e1", "j1", "n1", api.ExecutionStateCompleted))
			},
			eval: eval("ev-1", "j1", api.JobTypeService),
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "-")
				expect(t, "placements", len(p.NewExecutions), 1)
			},
		},
		{
			name: "a lost service execution is replaced",
			state: func() *fakeState {
				return threeNodes().addJob(svc(2)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateBidAccepted),
					exec("e2", "j1", "n9", api.ExecutionStateBidAccepted))
			},
			eval: eval("ev-1", "j1", api.JobTypeService),
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "updates", updatesSummary(p), "e2:Stopped/Failed")
				expect(t, "placements", len(p.NewExecutions), 1)
				if p.NewExecutions[0].NodeID == "n1" {
					t.Error("replacement not spread away from the running execution")
				}
			},
		},
		{
			name: "a running service without room waits past its queue timeout",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1", withCapacity(api.Resources{CPU: 0.5, Memory: gib}))).
					addJob(svc(2, queueTimeout(5))).
					addExecs(exec("e1", "j1", "n1", api.ExecutionStateBidAccepted))
			},
			eval:  eval("ev-1", "j1", api.JobTypeService),
			after: time.Hour,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "status", p.EvalStatus, api.EvalStatusBlocked)
				expect(t, "job state", jobStateOf(p), "Running")
				if !strings.HasPrefix(p.JobState.Message, waitingPrefix) {
					t.Errorf("message %q", p.JobState.Message)
				}
				expect(t, "new evals", len(p.NewEvals), 0)
			},
		},
		{
			name: "surplus running executions are stopped, oldest kept",
			state: func() *fakeState {
				return threeNodes().addJob(svc(1)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateBidAccepted),
					exec("e2", "j1", "n2", api.ExecutionStateBidAccepted))
			},
			eval: eval("ev-1", "j1", api.JobTypeService),
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "updates", updatesSummary(p), "e2:Stopped/Cancelled")
			},
		},
	})
}

func TestStoppedJobCancelsExecutions(t *testing.T) {
	for _, st := range []api.JobStateType{api.JobStateTypeStopped, api.JobStateTypeFailed} {
		t.Run(st.String(), func(t *testing.T) {
			state := threeNodes().addJob(job("j1", api.JobTypeBatch, 4, inState(st, "by user"))).addExecs(
				exec("e1", "j1", "n1", api.ExecutionStateAskForBid),
				exec("e2", "j1", "n2", api.ExecutionStateAskForBidAccepted),
				exec("e3", "j1", "n3", api.ExecutionStateBidAccepted),
				exec("e4", "j1", "n3", api.ExecutionStateCompleted),
				exec("e5", "j1", "gone", api.ExecutionStateBidAccepted))
			p := schedule(t, state, eval("ev-1", "j1", api.JobTypeBatch, func(e *api.Evaluation) { e.TriggeredBy = api.EvalTriggerJobCancel }), newFakeClock())
			expect(t, "updates", updatesSummary(p), "e1:Stopped/Cancelled e2:Stopped/BidRejected e3:Stopped/Cancelled e5:Stopped/Cancelled")
			want := "job " + strings.ToLower(st.String())
			for _, u := range p.ExecutionUpdates {
				expect(t, "desired message", u.DesiredState.Message, want)
				expect(t, "compute message", u.ComputeState.Message, want)
			}
			expect(t, "job state", jobStateOf(p), "-")
			expect(t, "placements", len(p.NewExecutions), 0)
			expect(t, "status", p.EvalStatus, api.EvalStatusComplete)
		})
	}
}

func TestPlacementIsReproducible(t *testing.T) {
	state := newFakeState()
	for _, id := range []string{"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10", "n11", "n12"} {
		state.addNodes(node(id))
	}
	state.addJob(job("j1", api.JobTypeBatch, 3))
	first := placedNodes(schedule(t, state, eval("ev-a", "j1", api.JobTypeBatch), newFakeClock()))
	for range 5 {
		again := placedNodes(schedule(t, state, eval("ev-a", "j1", api.JobTypeBatch), newFakeClock()))
		if !slices.Equal(first, again) {
			t.Fatalf("same evaluation placed on %v then %v", first, again)
		}
	}
	differs := false
	for _, id := range []string{"ev-b", "ev-c", "ev-d", "ev-e", "ev-f"} {
		if !slices.Equal(first, placedNodes(schedule(t, state, eval(id, "j1", api.JobTypeBatch), newFakeClock()))) {
			differs = true
		}
	}
	if !differs {
		t.Error("every evaluation picked the same nodes: the order does not depend on the evaluation")
	}
}

func TestMoreFreeCapacityWins(t *testing.T) {
	state := newFakeState().addNodes(
		node("n1", withCapacity(api.Resources{CPU: 2, Memory: 4 * gib})),
		node("n2", withCapacity(api.Resources{CPU: 64, Memory: 128 * gib})),
		node("n3", withCapacity(api.Resources{CPU: 2, Memory: 4 * gib})),
	).addJob(job("j1", api.JobTypeBatch, 1))
	// Whatever order an evaluation visits the nodes in, the roomiest wins.
	for _, id := range []string{"ev-a", "ev-b", "ev-c", "ev-d", "ev-e", "ev-f"} {
		p := schedule(t, state, eval(id, "j1", api.JobTypeBatch), newFakeClock())
		expect(t, id, strings.Join(placedNodes(p), ","), "n2")
	}
}

func TestRareFavouredNodeFoundInLargeCluster(t *testing.T) {
	state := newFakeState()
	for i := range 500 {
		state.addNodes(node(fmt.Sprintf("n-%03d", i)))
	}
	state.nodes[321].Labels["disk"] = "ssd"
	state.addJob(job("j1", api.JobTypeBatch, 1, constrained("favour_disk", "=", "ssd")))
	for _, id := range []string{"ev-a", "ev-b", "ev-c", "ev-d"} {
		p := schedule(t, state, eval(id, "j1", api.JobTypeBatch), newFakeClock())
		expect(t, id, strings.Join(placedNodes(p), ","), "n-321")
	}
}
