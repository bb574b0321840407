package scheduler

import (
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

func TestOpsDecisions(t *testing.T) {
	opsEval := eval("ev-1", "j1", api.JobTypeOps)
	laterEval := eval("ev-2", "j1", api.JobTypeOps, func(e *api.Evaluation) { e.TriggeredBy = api.EvalTriggerExecUpdate })
	regional := func() *fakeState {
		return newFakeState().addNodes(node("n1", labelled("role", "db")), node("n2"), node("n3", labelled("role", "db")))
	}
	running := inState(api.JobStateTypeRunning, "")
	runPlanCases(t, []planCase{
		{
			name: "first evaluation runs on every matching node at once",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeOps, 1, constrained("role", "=", "db")))
			},
			eval: opsEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1,n3")
				for _, e := range p.NewExecutions {
					expect(t, "compute", e.ComputeState.StateType, api.ExecutionStateBidAccepted)
					expect(t, "desired", e.DesiredState.StateType, api.ExecutionDesiredStateRunning)
				}
				expect(t, "job state", jobStateOf(p), "Running")
			},
		},
		{
			name: "no matching node fails the job with every node's reason",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeOps, 1, constrained("role", "=", "web")))
			},
			eval: opsEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Failed")
				expect(t, "message", p.JobState.Message, "no matching nodes to run job out of 3 available nodes"+
					"\nnode n1: does not match constraints role=web"+
					"\nnode n2: does not match constraints role=web"+
					"\nnode n3: does not match constraints role=web")
			},
		},
		{
			name: "a re-plan of the placing evaluation fills in the nodes it missed",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeOps, 1, running)).
					addExecs(exec("e1", "j1", "n1", api.ExecutionStateBidAccepted, fromEval("ev-1")))
			},
			eval: opsEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n2,n3")
			},
		},
		{
			name: "later evaluations never place, even when executions failed",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeOps, 1, running)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateFailed, fromEval("ev-1")),
					exec("e2", "j1", "n2", api.ExecutionStateBidAccepted, fromEval("ev-1")))
			},
			eval: laterEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", len(p.NewExecutions), 0)
				expect(t, "job state", jobStateOf(p), "-")
			},
		},
		{
			name: "all completed completes the job",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeOps, 1, running)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateCompleted, fromEval("ev-1")),
					exec("e2", "j1", "n3", api.ExecutionStateCompleted, fromEval("ev-1")))
			},
			eval: laterEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Completed")
			},
		},
		{
			name: "one failure fails the job once nothing runs",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeOps, 1, running)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateCompleted, fromEval("ev-1")),
					exec("e2", "j1", "n3", api.ExecutionStateFailed, fromEval("ev-1")))
			},
			eval: laterEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Failed")
				expect(t, "message", p.JobState.Message, "one or more executions failed")
				expect(t, "placements", len(p.NewExecutions), 0)
			},
		},
		{
			name: "a lost execution fails with its node and is not retried",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeOps, 1, running)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateCompleted, fromEval("ev-1")),
					exec("e2", "j1", "n9", api.ExecutionStateBidAccepted, fromEval("ev-1")))
			},
			eval: laterEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "updates", updatesSummary(p), "e2:Stopped/Failed")
				expect(t, "job state", jobStateOf(p), "Failed")
				expect(t, "placements", len(p.NewExecutions), 0)
			},
		},
	})
}

func TestDaemonDecisions(t *testing.T) {
	daemonEval := eval("ev-1", "j1", api.JobTypeDaemon, func(e *api.Evaluation) { e.TriggeredBy = api.EvalTriggerNodeJoin })
	running := inState(api.JobStateTypeRunning, "")
	runPlanCases(t, []planCase{
		{
			name:  "one execution on every matching node",
			state: func() *fakeState { return threeNodes().addJob(job("j1", api.JobTypeDaemon, 1)) },
			eval:  daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1,n2,n3")
				expect(t, "compute", p.NewExecutions[0].ComputeState.StateType, api.ExecutionStateBidAccepted)
				expect(t, "job state", jobStateOf(p), "Running")
				expect(t, "status", p.EvalStatus, api.EvalStatusComplete)
			},
		},
		{
			name: "a node that joins later gets one",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeDaemon, 1, running)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateBidAccepted),
					exec("e2", "j1", "n2", api.ExecutionStateBidAccepted))
			},
			eval: daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n3")
				expect(t, "job state", jobStateOf(p), "-")
			},
		},
		{
			name: "a node back from being lost gets a new one",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeDaemon, 1, running)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateFailed, failedWith("node n1 lost")),
					exec("e2", "j1", "n2", api.ExecutionStateBidAccepted),
					exec("e3", "j1", "n3", api.ExecutionStateBidAccepted))
			},
			eval: daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1")
			},
		},
		{
			name: "a node where the daemon failed on its own is left alone",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeDaemon, 1, running)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateFailed, failedWith("execution completed unexpectedly")),
					exec("e2", "j1", "n2", api.ExecutionStateBidAccepted),
					exec("e3", "j1", "n3", api.ExecutionStateBidAccepted))
			},
			eval: daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", len(p.NewExecutions), 0)
				expect(t, "status", p.EvalStatus, api.EvalStatusComplete)
			},
		},
		{
			name: "an execution on a disconnected node is lost, and the node skipped",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1", disconnected), node("n2")).
					addJob(job("j1", api.JobTypeDaemon, 1, running)).addExecs(
					exec("e1", "j1", "n1", api.ExecutionStateBidAccepted),
					exec("e2", "j1", "n2", api.ExecutionStateBidAccepted))
			},
			eval: daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "updates", updatesSummary(p), "e1:Stopped/Failed")
				expect(t, "placements", len(p.NewExecutions), 0)
				expect(t, "status", p.EvalStatus, api.EvalStatusComplete)
			},
		},
		{
			name: "no matching node: the job waits, it does not fail",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeDaemon, 1, constrained("role", "exists")))
			},
			eval: daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Pending")
				expect(t, "message", p.JobState.Message, "waiting for nodes: no node can run it yet (3 nodes not matching the constraints)")
				expect(t, "status", p.EvalStatus, api.EvalStatusBlocked)
			},
		},
		{
			name: "ended everywhere: the message says so, not that there are no nodes",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1"), node("n2")).
					addJob(job("j1", api.JobTypeDaemon, 1, inState(api.JobStateTypeRunning, ""))).
					addExecs(exec("e1", "j1", "n1", api.ExecutionStateFailed, failedWith("execution completed unexpectedly")),
						exec("e2", "j1", "n2", api.ExecutionStateFailed, failedWith("exit code 1")))
			},
			eval: daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "")
				expect(t, "message", p.JobState.Message, "waiting for nodes: no node can run it yet (2 nodes where it already ended)")
			},
		},
		{
			name:  "no node at all: the job waits",
			state: func() *fakeState { return newFakeState().addJob(job("j1", api.JobTypeDaemon, 1)) },
			eval:  daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "message", p.JobState.Message, "waiting for nodes: no node can run it yet (no compute nodes)")
				expect(t, "status", p.EvalStatus, api.EvalStatusBlocked)
			},
		},
		{
			name: "a full matching node blocks the evaluation until room appears",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1"), node("n2", withCapacity(api.Resources{CPU: 0.1, Memory: gib}))).
					addJob(job("j1", api.JobTypeDaemon, 1))
			},
			eval: daemonEval,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1")
				expect(t, "job state", jobStateOf(p), "Running")
				expect(t, "message", p.JobState.Message, "waiting for nodes: 1 matching node without enough free capacity")
				expect(t, "status", p.EvalStatus, api.EvalStatusBlocked)
			},
		},
	})
}
