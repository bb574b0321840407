// Package fsmtest builds state machines with a little of everything in them
// (compute nodes, jobs of each type with labels, executions in several
// states, history, evaluations), through the same encoded commands Raft
// applies. Tests and fuzz targets of fsm and server start from it.
package fsmtest

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// T0 is the Unix ns time of the first command.
const T0 = int64(1_700_000_000_000_000_000)

// Machine is an FSM and the Raft index of the last entry applied to it.
type Machine struct {
	FSM   *fsm.FSM
	Index uint64
}

// New returns an empty machine.
func New() *Machine { return &Machine{FSM: fsm.New(fsm.Config{})} }

// Now is the time the next command carries.
func (m *Machine) Now() int64 { return T0 + int64(m.Index+1)*1_000_000 }

// ApplyRaw applies one log entry at the next index and returns Apply's
// answer.
func (m *Machine) ApplyRaw(data []byte) any {
	m.Index++
	return m.FSM.Apply(&raft.Log{Index: m.Index, Term: 1, Type: raft.LogCommand, Data: data})
}

// Apply encodes and applies one command and returns its result.
func (m *Machine) Apply(tb testing.TB, cmd fsm.Command) fsm.Result {
	tb.Helper()
	b, err := fsm.Encode(cmd)
	if err != nil {
		tb.Fatalf("encode %T: %v", cmd, err)
	}
	r, ok := m.ApplyRaw(b).(fsm.Result)
	if !ok {
		tb.Fatalf("Apply of %T did not answer a Result", cmd)
	}
	return r
}

// MustApply is Apply failing the test when the command is refused.
func (m *Machine) MustApply(tb testing.TB, cmd fsm.Command) fsm.Result {
	tb.Helper()
	r := m.Apply(tb, cmd)
	if r.Err != nil {
		tb.Fatalf("%T: %v", cmd, r.Err)
	}
	return r
}

// Digest is the state's digest.
func (m *Machine) Digest(tb testing.TB) string {
	tb.Helper()
	_, d, err := m.FSM.State().Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// Snapshot persists a snapshot of the machine.
func (m *Machine) Snapshot(tb testing.TB) []byte {
	tb.Helper()
	snap, err := m.FSM.Snapshot()
	if err != nil {
		tb.Fatal(err)
	}
	defer snap.Release()
	var sink Sink
	if err := snap.Persist(&sink); err != nil {
		tb.Fatal(err)
	}
	return sink.Bytes()
}

// CheckRestores fails tb unless a snapshot of the machine loads into a new
// state machine with the same digest; what names the state in the message.
func (m *Machine) CheckRestores(tb testing.TB, what string) {
	tb.Helper()
	other := fsm.New(fsm.Config{})
	if err := other.Restore(io.NopCloser(bytes.NewReader(m.Snapshot(tb)))); err != nil {
		tb.Fatalf("state after %s does not restore from its own snapshot: %v", what, err)
	}
	if _, d, _ := other.State().Digest(); d != m.Digest(tb) {
		tb.Fatalf("state after %s restores to a different digest", what)
	}
}

// Sink is a raft.SnapshotSink kept in memory.
type Sink struct{ bytes.Buffer }

// ID names the sink.
func (*Sink) ID() string { return "fsmtest" }

// Cancel does nothing: the bytes stay for inspection.
func (*Sink) Cancel() error { return nil }

// Close does nothing.
func (*Sink) Close() error { return nil }

var _ raft.SnapshotSink = (*Sink)(nil)

// Node IDs, job IDs and execution IDs Seeded creates.
const (
	Node1, Node2 = "n-1", "n-2"
	JobBatch     = "j-batch"
	JobService   = "j-service"
	JobOps       = "j-ops"
	JobDone      = "j-done"
	ExecRunning  = "e-running"
	ExecAsk      = "e-ask"
	ExecDone     = "e-done"
)

// Seeded returns a machine holding two compute nodes, four jobs (batch,
// service, ops, and a batch job that completed), executions bidding, running
// and completed, their history and evaluations.
func Seeded(tb testing.TB) *Machine {
	tb.Helper()
	m := New()
	for i, id := range []string{Node1, Node2} {
		m.MustApply(tb, &fsm.NodeRegisterRequest{Now: m.Now(), Node: &api.NodeInfo{
			NodeID: id, NodeType: api.NodeTypeCompute,
			Labels: map[string]string{"zone": fmt.Sprintf("z%d", i), "gpu": "false"},
			ComputeNodeInfo: &api.ComputeNodeInfo{
				ExecutionEngines: []string{"docker", "noop"},
				MaxCapacity:      api.Resources{CPU: 4, Memory: 8 << 30, Disk: 100 << 30},
			},
		}})
	}
	for _, j := range []struct{ id, typ, team string }{
		{JobBatch, api.JobTypeBatch, "data"}, {JobService, api.JobTypeService, "web"},
		{JobOps, api.JobTypeOps, "ops"}, {JobDone, api.JobTypeBatch, "data"},
	} {
		now := m.Now()
		m.MustApply(tb, &fsm.JobRegisterRequest{EvalID: "ev-" + j.id, Now: now, IdempotencyToken: "tok-" + j.id, TokenExpiry: now + 1e12, Job: &api.Job{
			ID: j.id, Name: j.id, Namespace: api.DefaultNamespace, Type: j.typ, Count: 1,
			Constraints: []*api.LabelSelectorRequirement{},
			Meta:        map[string]string{api.MetaRequesterID: "n-r"},
			Labels:      map[string]string{"team": j.team, "env": "prod"},
			Tasks:       []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "noop", Params: map[string]any{}}}},
			State:       api.State[api.JobStateType]{StateType: api.JobStateTypePending},
			Revision:    1, CreateTime: now, ModifyTime: now,
		}})
	}
	place := func(jobID, execID, nodeID string, state api.ExecutionStateType) {
		job, err := m.FSM.State().Txn().Job(jobID)
		if err != nil {
			tb.Fatal(err)
		}
		m.MustApply(tb, &fsm.Plan{EvalID: "ev-" + jobID, JobID: jobID, JobRevision: job.Revision, EvalStatus: api.EvalStatusComplete, Now: m.Now(),
			NewExecutions: []*api.Execution{{
				ID: execID, JobID: jobID, NodeID: nodeID, EvalID: "ev-" + jobID, Namespace: api.DefaultNamespace,
				AllocatedResources: &api.AllocatedResources{Tasks: map[string]*api.Resources{"main": {CPU: 0.5, Memory: 1 << 20}}},
				DesiredState:       api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateRunning},
				ComputeState:       api.State[api.ExecutionStateType]{StateType: state},
			}}})
	}
	place(JobBatch, ExecRunning, Node1, api.ExecutionStateBidAccepted)
	place(JobService, ExecAsk, Node2, api.ExecutionStateAskForBid)
	place(JobDone, ExecDone, Node1, api.ExecutionStateBidAccepted)
	m.MustApply(tb, &fsm.ExecutionReportRequest{NodeID: Node1, Now: m.Now(), Updates: []api.ExecutionUpdate{{
		ExecutionID: ExecDone, ComputeState: api.ExecutionStateCompleted, Message: "done",
		RunOutput: &api.RunCommandResult{STDOUT: "hello\n", ExitCode: 0},
	}}})
	return m
}
