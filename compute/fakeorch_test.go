package compute

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/internal/testutil"
)

// fakeOrchestrator is an in-memory cluster for one node: it holds
// executions, answers blocking watches, and applies and records reports the
// way the replicas do (idempotent, terminal states final).
type fakeOrchestrator struct {
	mu       sync.Mutex
	index    uint64
	execs    map[string]*api.AssignedExecution
	modified map[string]uint64
	changed  chan struct{}

	registrations []*api.NodeInfo
	reports       []api.ExecutionUpdate // accepted, in order
	reportCalls   [][]api.ExecutionUpdate
	// unknownNode makes watches and reports answer 404 until the node
	// registers again.
	unknownNode bool
	// reportErr, when set, may fail a report before it is applied.
	reportErr func(req *api.UpdateExecutionsRequest) error
	// autoApprove moves an accepted bid to BidAccepted/Running, as the
	// batch scheduler does.
	autoApprove bool
}

func newFakeOrchestrator() *fakeOrchestrator {
	return &fakeOrchestrator{execs: map[string]*api.AssignedExecution{}, modified: map[string]uint64{},
		changed: make(chan struct{}), autoApprove: true}
}

// bump records a change; f.mu is held.
func (f *fakeOrchestrator) bump(id string) {
	f.index++
	if id != "" {
		f.modified[id] = f.index
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeOrchestrator) Register(_ context.Context, node *api.NodeInfo) (*api.RegisterNodeResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registrations = append(f.registrations, node)
	f.unknownNode = false
	f.bump("")
	return &api.RegisterNodeResponse{Index: f.index}, nil
}

func (f *fakeOrchestrator) WatchExecutions(ctx context.Context, nodeID string, index uint64, wait time.Duration) (*api.NodeExecutionsResponse, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		f.mu.Lock()
		if f.unknownNode {
			f.mu.Unlock()
			return nil, api.NotFoundf(api.ComponentNodeStore, "node %s not found", nodeID)
		}
		var out []*api.AssignedExecution
		for id, ae := range f.execs {
			if index == 0 && !ae.Execution.IsTerminal() || index > 0 && f.modified[id] > index {
				c := cloneAssigned(ae)
				c.Execution.NodeID = nodeID // every execution here is placed on the watching node
				out = append(out, c)
			}
		}
		resp := &api.NodeExecutionsResponse{Index: f.index, Executions: out}
		ch := f.changed
		f.mu.Unlock()
		if index == 0 || len(out) > 0 {
			return resp, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			return resp, nil
		case <-ch:
		}
	}
}

func (f *fakeOrchestrator) Report(_ context.Context, nodeID string, req *api.UpdateExecutionsRequest) (*api.UpdateExecutionsResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unknownNode {
		return nil, api.NotFoundf(api.ComponentNodeStore, "node %s not found", nodeID)
	}
	if f.reportErr != nil {
		if err := f.reportErr(req); err != nil {
			return nil, err
		}
	}
	f.reportCalls = append(f.reportCalls, slices.Clone(req.Updates))
	for _, u := range req.Updates {
		f.reports = append(f.reports, u)
		ae := f.execs[u.ExecutionID]
		if ae == nil || ae.Execution.IsTerminal() || ae.Execution.ComputeState.StateType == u.ComputeState {
			continue
		}
		ex := ae.Execution
		ex.ComputeState = api.State[api.ExecutionStateType]{StateType: u.ComputeState, Message: u.Message}
		if u.RunOutput != nil {
			ex.RunOutput = u.RunOutput
		}
		if u.PublishedResult != nil {
			ex.PublishedResult = u.PublishedResult
		}
		if u.ComputeState.IsTerminal() {
			ex.DesiredState.StateType = api.ExecutionDesiredStateStopped
		}
		f.bump(ex.ID)
		if f.autoApprove && u.ComputeState == api.ExecutionStateAskForBidAccepted {
			ex.ComputeState.StateType = api.ExecutionStateBidAccepted
			ex.DesiredState.StateType = api.ExecutionDesiredStateRunning
			f.bump(ex.ID)
		}
	}
	return &api.UpdateExecutionsResponse{Index: f.index}, nil
}

// add places an execution on the node.
func (f *fakeOrchestrator) add(ae *api.AssignedExecution) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs[ae.Execution.ID] = ae
	f.bump(ae.Execution.ID)
}

// set changes an execution's states, as a scheduler would.
func (f *fakeOrchestrator) set(id string, cs api.ExecutionStateType, ds api.ExecutionDesiredStateType) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ex := f.execs[id].Execution
	ex.ComputeState.StateType = cs
	ex.DesiredState.StateType = ds
	f.bump(id)
}

func (f *fakeOrchestrator) execution(id string) *api.Execution {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ae := f.execs[id]; ae != nil {
		return cloneAssigned(ae).Execution
	}
	return nil
}

// reportsFor returns the accepted updates of one execution, in order.
func (f *fakeOrchestrator) reportsFor(id string) []api.ExecutionUpdate {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.ExecutionUpdate
	for _, u := range f.reports {
		if u.ExecutionID == id {
			out = append(out, u)
		}
	}
	return out
}

func (f *fakeOrchestrator) registrationCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.registrations)
}

func (f *fakeOrchestrator) setUnknownNode() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unknownNode = true
	f.bump("")
}

// waitState waits until the execution reaches state and returns it.
func (f *fakeOrchestrator) waitState(t *testing.T, id string, state api.ExecutionStateType) *api.Execution {
	t.Helper()
	var ex *api.Execution
	testutil.Eventually(t, "execution "+id+" to be "+state.String(), func() bool {
		ex = f.execution(id)
		if ex != nil && ex.IsTerminal() && ex.ComputeState.StateType != state {
			t.Fatalf("execution %s ended %s (%q), want %s", id, ex.ComputeState.StateType, ex.ComputeState.Message, state)
		}
		return ex != nil && ex.ComputeState.StateType == state
	})
	return ex
}

func cloneAssigned(ae *api.AssignedExecution) *api.AssignedExecution {
	ex := *ae.Execution
	return &api.AssignedExecution{Execution: &ex, Job: ae.Job}
}

var errUnavailable = errors.Join(api.ErrUnavailable, errors.New("replica down"))
