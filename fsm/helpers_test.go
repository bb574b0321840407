package fsm

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
)

// t0 is the Unix ns time of the first command in a harness.
const t0 = int64(1_700_000_000_000_000_000)

type recordingObserver struct {
	mu    sync.Mutex
	evals []*api.Evaluation
	nodes []string
	freed []string
}

func (o *recordingObserver) EvalsCommitted(evals []*api.Evaluation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.evals = append(o.evals, evals...)
}

func (o *recordingObserver) NodesChanged(ids []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nodes = append(o.nodes, ids...)
}

func (o *recordingObserver) CapacityFreed(ids []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.freed = append(o.freed, ids...)
}

// take returns and clears what the observer heard.
func (o *recordingObserver) take() (evals []*api.Evaluation, nodes, freed []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	evals, nodes, freed = o.evals, o.nodes, o.freed
	o.evals, o.nodes, o.freed = nil, nil, nil
	return evals, nodes, freed
}

// harness applies commands to one FSM at consecutive raft indexes, one
// millisecond apart.
type harness struct {
	t     testing.TB
	fsm   *FSM
	obs   *recordingObserver
	index uint64
}

func newHarness(t testing.TB) *harness {
	h := &harness{t: t, fsm: New(Config{}), obs: &recordingObserver{}}
	h.fsm.SetObserver(h.obs)
	return h
}

// now is the time the next command carries.
func (h *harness) now() int64 { return t0 + int64(h.index+1)*1_000_000 }

func (h *harness) applyRaw(data []byte) any {
	h.index++
	return h.fsm.Apply(&raft.Log{Index: h.index, Term: 1, Type: raft.LogCommand, Data: data})
}

func (h *harness) apply(cmd Command) Result {
	h.t.Helper()
	b, err := Encode(cmd)
	if err != nil {
		h.t.Fatalf("encode %T: %v", cmd, err)
	}
	r, ok := h.applyRaw(b).(Result)
	if !ok {
		h.t.Fatalf("Apply of %T did not answer a Result", cmd)
	}
	return r
}

func (h *harness) applyBatch(cmds ...Command) []Result {
	h.t.Helper()
	var entries [][]byte
	for _, c := range cmds {
		b, err := Encode(c)
		if err != nil {
			h.t.Fatalf("encode %T: %v", c, err)
		}
		entries = append(entries, b)
	}
	rs, ok := h.applyRaw(EncodeBatch(entries)).([]Result)
	if !ok {
		h.t.Fatalf("Apply of a batch did not answer []Result")
	}
	return rs
}

// ok applies cmd and fails the test unless it succeeded.
func ok[T any](h *harness, cmd Command) *T {
	h.t.Helper()
	r := h.apply(cmd)
	if r.Err != nil {
		h.t.Fatalf("%T: %v", cmd, r.Err)
	}
	v, isT := r.Value.(*T)
	if !isT {
		h.t.Fatalf("%T answered %T, want *%T", cmd, r.Value, *new(T))
	}
	return v
}

// mustApply applies cmd and fails the test unless it succeeded.
func (h *harness) mustApply(cmd Command) Result {
	h.t.Helper()
	r := h.apply(cmd)
	if r.Err != nil {
		h.t.Fatalf("%T: %v", cmd, r.Err)
	}
	return r
}

func (h *harness) txn() *ReadTxn { return h.fsm.State().Txn() }

func newJob(id, jobType string, now int64) *api.Job {
	return &api.Job{
		ID:          id,
		Name:        id,
		Namespace:   api.DefaultNamespace,
		Type:        jobType,
		Count:       1,
		Constraints: []*api.LabelSelectorRequirement{},
		Meta:        map[string]string{},
		Labels:      map[string]string{},
		Tasks:       []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "noop"}}},
		State:       api.State[api.JobStateType]{StateType: api.JobStateTypePending},
		Revision:    1,
		CreateTime:  now,
		ModifyTime:  now,
	}
}

func (h *harness) registerJob(id, jobType string) *JobRegisterResult {
	h.t.Helper()
	return ok[JobRegisterResult](h, &JobRegisterRequest{Job: newJob(id, jobType, h.now()), EvalID: "ev-" + id, Now: h.now()})
}

func newNode(id string, capacity api.Resources) *api.NodeInfo {
	return &api.NodeInfo{
		NodeID:   id,
		NodeType: api.NodeTypeCompute,
		Labels:   map[string]string{"zone": "a"},
		ComputeNodeInfo: &api.ComputeNodeInfo{
			ExecutionEngines: []string{"noop"},
			MaxCapacity:      capacity,
		},
	}
}

func (h *harness) registerNode(id string, capacity api.Resources) *NodeRegisterResult {
	h.t.Helper()
	return ok[NodeRegisterResult](h, &NodeRegisterRequest{Node: newNode(id, capacity), Now: h.now()})
}

func cpu(c float64) api.Resources { return api.Resources{CPU: c} }

func newExec(id, jobID, nodeID string, cpus float64, state api.ExecutionStateType) *api.Execution {
	return &api.Execution{
		ID:                 id,
		JobID:              jobID,
		NodeID:             nodeID,
		EvalID:             "ev-" + jobID,
		AllocatedResources: &api.AllocatedResources{Tasks: map[string]*api.Resources{"main": {CPU: cpus}}},
		DesiredState:       api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStatePending},
		ComputeState:       api.State[api.ExecutionStateType]{StateType: state},
	}
}

// place plans executions for a job at its current revision.
func (h *harness) place(jobID string, execs ...*api.Execution) *PlanResult {
	h.t.Helper()
	job, err := h.txn().Job(jobID)
	if err != nil {
		h.t.Fatal(err)
	}
	return ok[PlanResult](h, &Plan{EvalID: "ev-" + jobID, JobID: jobID, JobRevision: job.Revision, NewExecutions: execs,
		EvalStatus: api.EvalStatusComplete, Now: h.now()})
}

// setJobState moves a job through a plan.
func (h *harness) setJobState(jobID string, state api.JobStateType, msg string) {
	h.t.Helper()
	job, err := h.txn().Job(jobID)
	if err != nil {
		h.t.Fatal(err)
	}
	ok[PlanResult](h, &Plan{JobID: jobID, JobRevision: job.Revision,
		JobState: &api.State[api.JobStateType]{StateType: state, Message: msg}, Now: h.now()})
}

func (h *harness) report(nodeID string, updates ...api.ExecutionUpdate) *ExecutionReportResult {
	h.t.Helper()
	return ok[ExecutionReportResult](h, &ExecutionReportRequest{NodeID: nodeID, Updates: updates, Now: h.now()})
}

func (h *harness) exec(id string) *api.Execution {
	h.t.Helper()
	e, err := h.txn().Execution(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func (h *harness) job(id string) *api.Job {
	h.t.Helper()
	j, err := h.txn().Job(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

func (h *harness) history(jobID string) []*api.JobHistory {
	h.t.Helper()
	evs, _, err := h.txn().History(jobID, HistoryQuery{})
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

func (h *harness) digest() string {
	h.t.Helper()
	_, d, err := h.fsm.State().Digest()
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// memorySink is a raft.SnapshotSink that keeps the snapshot in memory.
type memorySink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memorySink) ID() string    { return "test" }
func (s *memorySink) Cancel() error { s.cancelled = true; return nil }
func (s *memorySink) Close() error  { s.closed = true; return nil }

var _ raft.SnapshotSink = (*memorySink)(nil)

// snapshotBytes persists a snapshot of h's FSM.
func (h *harness) snapshotBytes() []byte {
	h.t.Helper()
	snap, err := h.fsm.Snapshot()
	if err != nil {
		h.t.Fatal(err)
	}
	defer snap.Release()
	sink := &memorySink{}
	if err := snap.Persist(sink); err != nil {
		h.t.Fatal(err)
	}
	if !sink.closed {
		h.t.Fatal("Persist did not close the sink")
	}
	return sink.Bytes()
}

// historyLine renders an event compactly for comparisons.
func historyLine(ev *api.JobHistory) string {
	switch {
	case ev.JobState != nil:
		return fmt.Sprintf("job %s>%s r%d %q", ev.JobState.Previous, ev.JobState.New, ev.NewRevision, ev.Comment)
	case ev.ExecutionState != nil:
		return fmt.Sprintf("%s %s>%s r%d %q", ev.ExecutionID, ev.ExecutionState.Previous, ev.ExecutionState.New, ev.NewRevision, ev.Comment)
	}
	return "?"
}

// tokenRows is the tokens table's row count as its index record keeps it.
func (h *harness) tokenRows() int {
	rec, err := readIndexRecord(h.txn().txn, tableTokens.String())
	if err != nil {
		h.t.Fatal(err)
	}
	return rec.Rows
}
