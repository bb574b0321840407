package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

func TestConstraintsAndFeatures(t *testing.T) {
	regional := func() *fakeState {
		return newFakeState().addNodes(
			node("n1", labelled("region", "eu", "zone", "a")),
			node("n2", labelled("region", "us")),
			node("n3", labelled("region", "eu", "zone", "b")),
			node("n4"))
	}
	runPlanCases(t, []planCase{
		{
			name: "hard constraint matching some nodes",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeBatch, 2, constrained("region", "=", "eu")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1,n3")
			},
		},
		{
			name: "notin also matches nodes without the label",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeBatch, 2, constrained("region", "notin", "eu")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n2,n4")
			},
		},
		{
			name: "hard constraint matching no node fails the job without a queue timeout",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeBatch, 1, constrained("region", "in", "ap")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Failed")
				want := "not enough nodes to run job. requested: 1, available: 0" +
					"\nnode n1: does not match constraints region in (ap)" +
					"\nnode n2: does not match constraints region in (ap)" +
					"\nnode n3: does not match constraints region in (ap)" +
					"\nnode n4: does not match constraints region in (ap)"
				expect(t, "message", p.JobState.Message, want)
				expect(t, "placements", len(p.NewExecutions), 0)
			},
		},
		{
			name: "favour_ constraints pull placements to matching nodes",
			state: func() *fakeState {
				return regional().addJob(job("j1", api.JobTypeBatch, 1, constrained("favour_zone", "=", "b")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n3")
			},
		},
		{
			name: "engine, publisher and input sources must be supported, case-insensitively",
			state: func() *fakeState {
				j := job("j1", api.JobTypeBatch, 1)
				j.Tasks[0].Engine.Type = "WASM"
				j.Tasks[0].Publisher.Type = "Local"
				j.Tasks[0].InputSources = []*api.InputSource{{Source: &api.SpecConfig{Type: "urlDownload"}, Target: "/in"}}
				noInputs := func(n *api.NodeInfo) { n.ComputeNodeInfo.StorageSources = []string{"inline"} }
				noLocal := func(n *api.NodeInfo) { n.ComputeNodeInfo.Publishers = []string{"noop"} }
				return newFakeState().addNodes(node("n2", withEngines("docker")), node("n3", noLocal), node("n4", noInputs)).addJob(j)
			},
			check: func(t *testing.T, p *fsm.Plan) {
				want := "not enough nodes to run job. requested: 1, available: 0" +
					"\nnode n2: does not support engine wasm" +
					"\nnode n3: does not support publisher local" +
					"\nnode n4: does not support input source urldownload"
				expect(t, "message", p.JobState.Message, want)
			},
		},
		{
			name: "a node listing the features in other case matches",
			state: func() *fakeState {
				j := job("j1", api.JobTypeBatch, 1)
				j.Tasks[0].Engine.Type = "WASM"
				j.Tasks[0].InputSources = []*api.InputSource{{Source: &api.SpecConfig{Type: "urldownload"}, Target: "/in"}}
				return newFakeState().addNodes(node("n1", withEngines("Wasm"))).addJob(j)
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1")
			},
		},
		{
			name: "unusable nodes are skipped with their reason",
			state: func() *fakeState {
				pending := func(n *api.NodeInfo) { n.Approval = "PENDING" }
				requester := func(n *api.NodeInfo) { n.NodeType = api.NodeTypeRequester }
				return newFakeState().addNodes(node("n1", disconnected), node("n2", pending), node("n3", requester)).
					addJob(job("j1", api.JobTypeBatch, 1))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				want := "not enough nodes to run job. requested: 1, available: 0" +
					"\nnode n1: node is disconnected" +
					"\nnode n2: node is pending, not approved" +
					"\nnode n3: not a compute node"
				expect(t, "message", p.JobState.Message, want)
			},
		},
	})
}

func TestCapacity(t *testing.T) {
	small := api.Resources{CPU: 1, Memory: gib}
	runPlanCases(t, []planCase{
		{
			name: "executions fit on one node while it has room",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1", withCapacity(small))).addJob(job("j1", api.JobTypeBatch, 2))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1,n1")
			},
		},
		{
			name: "this plan's placements use up room",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1", withCapacity(small))).
					addJob(job("j1", api.JobTypeBatch, 3, queueTimeout(600)))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", len(p.NewExecutions), 2)
				expect(t, "status", p.EvalStatus, api.EvalStatusBlocked)
				expect(t, "message", p.JobState.Message,
					"waiting for nodes: 1 execution not placed (1 node without enough free capacity)")
			},
		},
		{
			name: "allocated executions of other jobs count",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1", withCapacity(small)), node("n2", withCapacity(small))).
					addJob(job("j1", api.JobTypeBatch, 1)).
					addExecs(exec("x1", "other", "n1", api.ExecutionStateBidAccepted, func(e *api.Execution) {
						e.AllocatedResources.Tasks["main"].CPU = 0.8
					}))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n2")
			},
		},
		{
			name: "full and too-small nodes are named with their reasons",
			state: func() *fakeState {
				return newFakeState().addNodes(
					node("n1", withCapacity(small)),
					node("n2", withMaxJob(api.Resources{CPU: 1, Memory: gib})),
				).addJob(job("j1", api.JobTypeBatch, 1, resources("2", "512mb"))).
					addExecs(exec("x1", "other", "n1", api.ExecutionStateBidAccepted))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Failed")
				want := "not enough nodes to run job. requested: 1, available: 0" +
					"\nnode n1: not enough free capacity: needs cpu 2, memory 488.3 MB, free cpu 0.5, memory 779.9 MB" +
					"\nnode n2: job needs cpu 2, memory 488.3 MB, more than the node accepts per job (cpu 1, memory 1.0 GB)"
				expect(t, "message", p.JobState.Message, want)
			},
		},
		{
			name: "a node with unknown capacity accepts",
			state: func() *fakeState {
				return newFakeState().addNodes(node("n1", withCapacity(api.Resources{}))).
					addJob(job("j1", api.JobTypeBatch, 3, resources("64", "512gb")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", strings.Join(placedNodes(p), ","), "n1,n1,n1")
			},
		},
		{
			name: "a task without resources is accounted the default",
			state: func() *fakeState {
				j := job("j1", api.JobTypeBatch, 1)
				j.Tasks[0].Resources = nil
				return newFakeState().addNodes(node("n1")).addJob(j)
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "resources", *p.NewExecutions[0].AllocatedResources.Tasks["main"], api.Resources{CPU: DefaultTaskCPU, Memory: DefaultTaskMemory})
			},
		},
	})
}

func TestQueueTimeout(t *testing.T) {
	full := func(opts ...func(*api.Job)) func() *fakeState {
		return func() *fakeState {
			return newFakeState().addNodes(node("n1", withCapacity(api.Resources{CPU: 0.2, Memory: gib}))).
				addJob(job("j1", api.JobTypeBatch, 1, opts...))
		}
	}
	deadline := testCreateTime + int64(60*time.Second)
	runPlanCases(t, []planCase{
		{
			name:  "first wait blocks and schedules the timeout evaluation",
			state: full(queueTimeout(60)),
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "status", p.EvalStatus, api.EvalStatusBlocked)
				expect(t, "job state", jobStateOf(p), "Pending")
				expect(t, "message", p.JobState.Message, "waiting for nodes: 1 execution not placed (1 node without enough free capacity)")
				if len(p.NewEvals) != 1 {
					t.Fatalf("new evals %d, want 1", len(p.NewEvals))
				}
				ev := p.NewEvals[0]
				expect(t, "trigger", ev.TriggeredBy, api.EvalTriggerJobQueue)
				expect(t, "wait until", ev.WaitUntil, deadline)
				expect(t, "status", ev.Status, api.EvalStatusPending)
				expect(t, "type", ev.Type, api.JobTypeBatch)
				if len(ev.ID) != 36 {
					t.Errorf("eval ID %q is not a UUID", ev.ID)
				}
			},
		},
		{
			name:  "waiting again adds no second timeout evaluation",
			state: full(queueTimeout(60), inState(api.JobStateTypePending, "waiting for nodes: earlier")),
			eval:  eval("ev-2", "j1", api.JobTypeBatch, func(e *api.Evaluation) { e.TriggeredBy = api.EvalTriggerExecUpdate }),
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "status", p.EvalStatus, api.EvalStatusBlocked)
				expect(t, "new evals", len(p.NewEvals), 0)
			},
		},
		{
			name:  "after the queue timeout the job fails",
			state: full(queueTimeout(60), inState(api.JobStateTypePending, "waiting for nodes: earlier")),
			eval:  eval("ev-3", "j1", api.JobTypeBatch, func(e *api.Evaluation) { e.TriggeredBy = api.EvalTriggerJobQueue }),
			after: 50 * time.Second,
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "job state", jobStateOf(p), "Failed")
				expect(t, "message", p.JobState.Message, "not enough nodes to run job. requested: 1, available: 0"+
					"\nnode n1: not enough free capacity: needs cpu 0.5, memory 244.1 MB, free cpu 0.2, memory 1.0 GB")
				expect(t, "status", p.EvalStatus, api.EvalStatusComplete)
			},
		},
		{
			name: "once room appears the waiting note is cleared",
			state: func() *fakeState {
				return threeNodes().addJob(job("j1", api.JobTypeBatch, 1, inState(api.JobStateTypePending, "waiting for nodes: x")))
			},
			check: func(t *testing.T, p *fsm.Plan) {
				expect(t, "placements", len(p.NewExecutions), 1)
				expect(t, "job state", jobStateOf(p), "Pending")
				expect(t, "message", p.JobState.Message, "")
			},
		},
	})
}

func TestManyNodesMessageIsBounded(t *testing.T) {
	state := newFakeState()
	for i := range 50 {
		state.addNodes(node(string(rune('a'+i/26))+string(rune('a'+i%26)), withEngines("wasm")))
	}
	state.addJob(job("j1", api.JobTypeBatch, 1))
	p := schedule(t, state, eval("ev-1", "j1", api.JobTypeBatch), newFakeClock())
	lines := strings.Split(p.JobState.Message, "\n")
	expect(t, "lines", len(lines), 1+maxNodeLines+1)
	expect(t, "last line", lines[len(lines)-1], "… and 30 more nodes: 30 nodes without engine docker")
}

func TestInvalidResourcesFailTheJob(t *testing.T) {
	state := threeNodes().addJob(job("j1", api.JobTypeBatch, 1, resources("lots", "1gb")))
	p := schedule(t, state, eval("ev-1", "j1", api.JobTypeBatch), newFakeClock())
	expect(t, "job state", jobStateOf(p), "Failed")
	expect(t, "message", p.JobState.Message, `invalid task resources: invalid CPU value: "lots"`)
}
