package scheduler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// fakeState is an in-memory State. Treat a published fakeState as
// immutable: changes go to a clone, the way memdb snapshots behave.
type fakeState struct {
	index      uint64
	nodesIndex uint64
	jobs       map[string]*api.Job
	execs      []*api.Execution
	nodes      []*api.NodeInfo
	evals      map[string]*api.Evaluation
	// baseAlloc is allocation the benchmark pretends exists on nodes
	// without building executions for it.
	baseAlloc map[string]api.Resources
	// nodesErr makes Nodes fail.
	nodesErr error
}

func newFakeState() *fakeState {
	return &fakeState{index: 1, nodesIndex: 1, jobs: map[string]*api.Job{}, evals: map[string]*api.Evaluation{}, baseAlloc: map[string]api.Resources{}}
}

func (f *fakeState) clone() *fakeState {
	c := *f
	c.jobs = maps.Clone(f.jobs)
	c.execs = slices.Clone(f.execs)
	c.nodes = slices.Clone(f.nodes)
	c.evals = maps.Clone(f.evals)
	c.baseAlloc = maps.Clone(f.baseAlloc)
	return &c
}

func (f *fakeState) Index() uint64 { return f.index }

func (f *fakeState) Job(id string) (*api.Job, error) {
	if j, ok := f.jobs[id]; ok {
		return j, nil
	}
	return nil, api.NotFoundf(api.ComponentJobStore, "job not found: %s", id)
}

func (f *fakeState) ExecutionsByJob(jobID string) ([]*api.Execution, error) {
	var out []*api.Execution
	for _, e := range f.execs {
		if e.JobID == jobID {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeState) Nodes() ([]*api.NodeInfo, error) {
	if f.nodesErr != nil {
		return nil, f.nodesErr
	}
	return f.nodes, nil
}

func (f *fakeState) NodesIndex() uint64 { return f.nodesIndex }

func (f *fakeState) NodeAllocated(nodeID string) (api.Resources, error) {
	r := f.baseAlloc[nodeID]
	for _, e := range f.execs {
		if e.NodeID == nodeID && e.IsActive() {
			r = r.Add(e.AllocatedResources.Total())
		}
	}
	return r, nil
}

func (f *fakeState) Eval(id string) (*api.Evaluation, error) {
	if e, ok := f.evals[id]; ok {
		return e, nil
	}
	return nil, api.NotFoundf(api.ComponentJobStore, "evaluation not found: %s", id)
}

func (f *fakeState) EvalsByStatus(status string) ([]*api.Evaluation, error) {
	var out []*api.Evaluation
	for _, e := range f.evals {
		if e.Status == status {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Builders.

func (f *fakeState) addNodes(nodes ...*api.NodeInfo) *fakeState {
	f.nodes = append(f.nodes, nodes...)
	sort.Slice(f.nodes, func(i, j int) bool { return f.nodes[i].NodeID < f.nodes[j].NodeID })
	f.nodesIndex++
	return f
}

func (f *fakeState) addJob(j *api.Job) *fakeState {
	f.jobs[j.ID] = j
	return f
}

func (f *fakeState) addExecs(execs ...*api.Execution) *fakeState {
	f.execs = append(f.execs, execs...)
	return f
}

func (f *fakeState) addEvals(evals ...*api.Evaluation) *fakeState {
	for _, e := range evals {
		f.evals[e.ID] = e
	}
	return f
}

var gib = uint64(1 << 30)

func node(id string, opts ...func(*api.NodeInfo)) *api.NodeInfo {
	n := &api.NodeInfo{
		NodeID:     id,
		NodeType:   api.NodeTypeCompute,
		Labels:     map[string]string{},
		Approval:   api.NodeApprovalApproved,
		Connection: api.NodeConnected,
		ComputeNodeInfo: &api.ComputeNodeInfo{
			ExecutionEngines: []string{"docker", "wasm", "noop"},
			Publishers:       []string{"noop", "local"},
			StorageSources:   []string{"urlDownload", "inline"},
			MaxCapacity:      api.Resources{CPU: 4, Memory: 8 * gib},
		},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func labelled(kv ...string) func(*api.NodeInfo) {
	return func(n *api.NodeInfo) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Labels[kv[i]] = kv[i+1]
		}
	}
}

func withCapacity(r api.Resources) func(*api.NodeInfo) {
	return func(n *api.NodeInfo) { n.ComputeNodeInfo.MaxCapacity = r }
}

func withMaxJob(r api.Resources) func(*api.NodeInfo) {
	return func(n *api.NodeInfo) { n.ComputeNodeInfo.MaxJobRequirements = r }
}

func withEngines(engines ...string) func(*api.NodeInfo) {
	return func(n *api.NodeInfo) { n.ComputeNodeInfo.ExecutionEngines = engines }
}

func disconnected(n *api.NodeInfo) { n.Connection = api.NodeDisconnected }

const testCreateTime = int64(1_700_000_000_000_000_000)

func job(id, typ string, count int, opts ...func(*api.Job)) *api.Job {
	j := &api.Job{
		ID: id, Name: id, Namespace: api.DefaultNamespace, Type: typ, Count: count,
		Constraints: []*api.LabelSelectorRequirement{}, Meta: map[string]string{}, Labels: map[string]string{},
		Tasks: []*api.Task{{
			Name:      "main",
			Engine:    &api.SpecConfig{Type: "docker", Params: map[string]any{"Image": "ubuntu"}},
			Publisher: &api.SpecConfig{Type: "noop"},
			Resources: &api.ResourcesConfig{CPU: "500m", Memory: "256mb"},
			Timeouts:  &api.TimeoutConfig{QueueTimeout: 0},
		}},
		State:      api.State[api.JobStateType]{StateType: api.JobStateTypePending},
		Revision:   1,
		CreateTime: testCreateTime,
		ModifyTime: testCreateTime,
	}
	for _, o := range opts {
		o(j)
	}
	return j
}

func constrained(key, op string, values ...string) func(*api.Job) {
	return func(j *api.Job) {
		j.Constraints = append(j.Constraints, &api.LabelSelectorRequirement{Key: key, Operator: op, Values: values})
	}
}

func resources(cpu, mem string) func(*api.Job) {
	return func(j *api.Job) { j.Tasks[0].Resources = &api.ResourcesConfig{CPU: cpu, Memory: mem} }
}

func queueTimeout(seconds int64) func(*api.Job) {
	return func(j *api.Job) { j.Tasks[0].Timeouts = &api.TimeoutConfig{QueueTimeout: seconds} }
}

func inState(st api.JobStateType, msg string) func(*api.Job) {
	return func(j *api.Job) { j.State = api.State[api.JobStateType]{StateType: st, Message: msg} }
}

func exec(id, jobID, nodeID string, st api.ExecutionStateType, opts ...func(*api.Execution)) *api.Execution {
	desired := api.ExecutionDesiredStatePending
	switch {
	case st == api.ExecutionStateBidAccepted:
		desired = api.ExecutionDesiredStateRunning
	case st.IsTerminal():
		desired = api.ExecutionDesiredStateStopped
	}
	e := &api.Execution{
		ID: id, Namespace: api.DefaultNamespace, JobID: jobID, NodeID: nodeID, EvalID: "eval-old",
		AllocatedResources: &api.AllocatedResources{Tasks: map[string]*api.Resources{"main": {CPU: 0.5, Memory: 256e6}}},
		DesiredState:       api.State[api.ExecutionDesiredStateType]{StateType: desired},
		ComputeState:       api.State[api.ExecutionStateType]{StateType: st},
		CreateTime:         testCreateTime,
		ModifyTime:         testCreateTime,
	}
	for _, o := range opts {
		o(e)
	}
	return e
}

func failedWith(msg string) func(*api.Execution) {
	return func(e *api.Execution) { e.ComputeState.Message = msg }
}

func modifiedAt(t int64) func(*api.Execution) {
	return func(e *api.Execution) { e.ModifyTime = testCreateTime + t }
}

func fromEval(id string) func(*api.Execution) {
	return func(e *api.Execution) { e.EvalID = id }
}

func eval(id, jobID, typ string, opts ...func(*api.Evaluation)) *api.Evaluation {
	e := &api.Evaluation{ID: id, Namespace: api.DefaultNamespace, JobID: jobID, Type: typ,
		TriggeredBy: api.EvalTriggerJobRegister, Status: api.EvalStatusPending, CreateTime: testCreateTime, ModifyTime: testCreateTime}
	for _, o := range opts {
		o(e)
	}
	return e
}

func priority(p int) func(*api.Evaluation) { return func(e *api.Evaluation) { e.Priority = p } }

func createdAt(t int64) func(*api.Evaluation) {
	return func(e *api.Evaluation) { e.CreateTime = testCreateTime + t }
}

func waitUntil(t int64) func(*api.Evaluation) { return func(e *api.Evaluation) { e.WaitUntil = t } }

func statusOf(s string) func(*api.Evaluation) { return func(e *api.Evaluation) { e.Status = s } }

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(0, testCreateTime).Add(10 * time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Plan helpers.

func newTestScheduler(t testing.TB, snapshot func() State, planner Planner, clock *fakeClock, tweak ...func(*Config)) *Scheduler {
	t.Helper()
	cfg := Config{Snapshot: snapshot, Planner: planner, Clock: clock.Now, Workers: 1}
	for _, f := range tweak {
		f(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// schedule runs one scheduling pass over st for ev.
func schedule(t testing.TB, st *fakeState, ev *api.Evaluation, clock *fakeClock) *fsm.Plan {
	t.Helper()
	s := newTestScheduler(t, func() State { return st }, &recordingPlanner{}, clock)
	p, err := s.computePlan(st, ev, nil)
	if err != nil {
		t.Fatalf("computePlan: %v", err)
	}
	return p
}

func placedNodes(p *fsm.Plan) []string {
	var out []string
	for _, e := range p.NewExecutions {
		out = append(out, e.NodeID)
	}
	sort.Strings(out)
	return out
}

func updateFor(p *fsm.Plan, execID string) *fsm.ExecutionUpdate {
	for _, u := range p.ExecutionUpdates {
		if u.ExecutionID == execID {
			return u
		}
	}
	return nil
}

// updatesSummary renders updates as "id:Desired/Compute" in plan order.
func updatesSummary(p *fsm.Plan) string {
	parts := make([]string, 0, len(p.ExecutionUpdates))
	for _, u := range p.ExecutionUpdates {
		parts = append(parts, fmt.Sprintf("%s:%s/%s", u.ExecutionID, u.DesiredState.StateType, u.ComputeState.StateType))
	}
	return strings.Join(parts, " ")
}

func jobStateOf(p *fsm.Plan) string {
	if p.JobState == nil {
		return "-"
	}
	return p.JobState.StateType.String()
}

// recordingPlanner records what it gets and answers from a script.
type recordingPlanner struct {
	mu      sync.Mutex
	plans   []*fsm.Plan
	updates [][]*api.Evaluation
	// answer, when set, decides the outcome of each SubmitPlan.
	answer func(ctx context.Context, n int, p *fsm.Plan) (*fsm.PlanResult, uint64, error)
	// updateErr, when set, fails UpdateEvals.
	updateErr error
	submitted chan *fsm.Plan
	evalsDone chan []*api.Evaluation
}

func (r *recordingPlanner) SubmitPlan(ctx context.Context, p *fsm.Plan) (*fsm.PlanResult, uint64, error) {
	r.mu.Lock()
	r.plans = append(r.plans, p)
	n := len(r.plans)
	answer := r.answer
	r.mu.Unlock()
	if r.submitted != nil {
		r.submitted <- p
	}
	if answer != nil {
		return answer(ctx, n, p)
	}
	return &fsm.PlanResult{}, uint64(100 + n), nil
}

func (r *recordingPlanner) UpdateEvals(ctx context.Context, evals []*api.Evaluation) error {
	r.mu.Lock()
	r.updates = append(r.updates, evals)
	err := r.updateErr
	r.mu.Unlock()
	if r.evalsDone != nil && err == nil {
		r.evalsDone <- evals
	}
	return err
}

func (r *recordingPlanner) planCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.plans)
}

// waitFor receives from ch or fails the test after a generous guard (it
// guards against hangs; it is not a timing assertion).
func waitFor[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}
