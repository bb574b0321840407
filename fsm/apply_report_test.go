package fsm

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestExecutionReport(t *testing.T) {
	update := func(id string, s api.ExecutionStateType) api.ExecutionUpdate {
		return api.ExecutionUpdate{ExecutionID: id, ComputeState: s}
	}
	tests := []struct {
		name      string
		jobType   string
		start     api.ExecutionStateType // state the execution is placed in
		before    []api.ExecutionUpdate  // applied first
		node      string                 // reporting node; n-1 when empty
		report    []api.ExecutionUpdate
		wantState api.ExecutionStateType
		wantIgn   string // substring of e-1's ignore reason
		wantEval  bool
		wantFreed bool
	}{
		{name: "bid accepted", start: api.ExecutionStateAskForBid,
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateAskForBidAccepted)}, wantState: api.ExecutionStateAskForBidAccepted, wantEval: true},
		{name: "repeat is idempotent", start: api.ExecutionStateAskForBid, before: []api.ExecutionUpdate{update("e-1", api.ExecutionStateAskForBidAccepted)},
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateAskForBidAccepted)}, wantState: api.ExecutionStateAskForBidAccepted, wantIgn: "already AskForBidAccepted"},
		{name: "backwards ignored", start: api.ExecutionStateBidAccepted,
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateAskForBidAccepted)}, wantState: api.ExecutionStateBidAccepted, wantIgn: "cannot go back"},
		{name: "sideways ignored", start: api.ExecutionStateAskForBid, before: []api.ExecutionUpdate{update("e-1", api.ExecutionStateAskForBidAccepted)},
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateAskForBidRejected)}, wantState: api.ExecutionStateAskForBidAccepted, wantIgn: "cannot go back"},
		{name: "wrong node ignored", start: api.ExecutionStateBidAccepted, node: "n-2",
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateCompleted)}, wantState: api.ExecutionStateBidAccepted, wantIgn: "runs on node n-1"},
		{name: "terminal ignored", start: api.ExecutionStateBidAccepted, before: []api.ExecutionUpdate{update("e-1", api.ExecutionStateFailed)},
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateCompleted)}, wantState: api.ExecutionStateFailed, wantIgn: "already Failed"},
		{name: "unknown state ignored", start: api.ExecutionStateBidAccepted,
			report: []api.ExecutionUpdate{update("e-1", 42)}, wantState: api.ExecutionStateBidAccepted, wantIgn: "invalid execution state"},
		{name: "missing execution ignored", start: api.ExecutionStateBidAccepted,
			report: []api.ExecutionUpdate{update("e-404", api.ExecutionStateCompleted)}, wantState: api.ExecutionStateBidAccepted},
		{name: "batch completes", start: api.ExecutionStateBidAccepted,
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateCompleted)}, wantState: api.ExecutionStateCompleted, wantEval: true, wantFreed: true},
		{name: "fail from any active state", start: api.ExecutionStateAskForBid,
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateFailed)}, wantState: api.ExecutionStateFailed, wantEval: true, wantFreed: true},
		{name: "cancel from any active state", start: api.ExecutionStateBidAccepted,
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateCancelled)}, wantState: api.ExecutionStateCancelled, wantEval: true, wantFreed: true},
		{name: "service completion is a failure", jobType: api.JobTypeService, start: api.ExecutionStateBidAccepted,
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateCompleted)}, wantState: api.ExecutionStateFailed, wantEval: true, wantFreed: true},
		{name: "daemon completion is a failure", jobType: api.JobTypeDaemon, start: api.ExecutionStateBidAccepted,
			report: []api.ExecutionUpdate{update("e-1", api.ExecutionStateCompleted)}, wantState: api.ExecutionStateFailed, wantEval: true, wantFreed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.registerNode("n-1", cpu(4))
			h.registerNode("n-2", cpu(4))
			jobType := tt.jobType
			if jobType == "" {
				jobType = api.JobTypeBatch
			}
			h.registerJob("j-1", jobType)
			h.place("j-1", newExec("e-1", "j-1", "n-1", 1, tt.start))
			if len(tt.before) > 0 {
				h.report("n-1", tt.before...)
			}
			old := h.exec("e-1")
			h.obs.take()
			node := tt.node
			if node == "" {
				node = "n-1"
			}
			now := h.now()
			res := h.report(node, tt.report...)

			e := h.exec("e-1")
			if e.ComputeState.StateType != tt.wantState {
				t.Fatalf("state %s, want %s", e.ComputeState.StateType, tt.wantState)
			}
			applied := e.ComputeState.StateType != old.ComputeState.StateType
			if applied != (res.Applied == 1) {
				t.Fatalf("Applied = %d but state went %s→%s", res.Applied, old.ComputeState.StateType, e.ComputeState.StateType)
			}
			if tt.wantIgn != "" && !strings.Contains(res.Ignored["e-1"], tt.wantIgn) {
				t.Fatalf("ignored %v, want e-1 ignored for %q", res.Ignored, tt.wantIgn)
			}
			if !applied && !reflect.DeepEqual(e, old) {
				t.Fatal("an ignored report rewrote the execution")
			}
			if applied && (e.Revision != old.Revision+1 || e.ModifyTime != now) {
				t.Fatalf("revision %d→%d, modify time %d", old.Revision, e.Revision, e.ModifyTime)
			}
			if (len(res.EvalIDs) == 1) != tt.wantEval || len(res.EvalIDs) > 1 {
				t.Fatalf("evals %v, want one=%t", res.EvalIDs, tt.wantEval)
			}
			evals, _, freed := h.obs.take()
			if len(evals) != len(res.EvalIDs) {
				t.Fatalf("observer heard %d evals, result has %d", len(evals), len(res.EvalIDs))
			}
			if tt.wantEval && (evals[0].TriggeredBy != api.EvalTriggerExecUpdate || evals[0].Type != jobType || evals[0].Status != api.EvalStatusPending) {
				t.Fatalf("eval %+v", evals[0])
			}
			if (len(freed) == 1) != tt.wantFreed {
				t.Fatalf("capacity freed %v, want freed=%t", freed, tt.wantFreed)
			}
			switch e.ComputeState.StateType {
			case api.ExecutionStateCompleted:
				if e.DesiredState.StateType != api.ExecutionDesiredStateStopped || e.DesiredState.Message != "execution completed" {
					t.Fatalf("desired %+v", e.DesiredState)
				}
			case api.ExecutionStateFailed:
				if applied && (e.DesiredState.StateType != api.ExecutionDesiredStateStopped || e.DesiredState.Message != "execution failed") {
					t.Fatalf("desired %+v", e.DesiredState)
				}
				if applied && jobType != api.JobTypeBatch && e.ComputeState.Message != "execution completed unexpectedly" {
					t.Fatalf("message %q", e.ComputeState.Message)
				}
			}
		})
	}
}

func TestExecutionReportDetails(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", cpu(4))
	h.registerJob("j-1", api.JobTypeBatch)
	h.registerJob("j-2", api.JobTypeBatch)
	h.place("j-1", newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateBidAccepted), newExec("e-2", "j-1", "n-1", 1, api.ExecutionStateBidAccepted))
	h.place("j-2", newExec("e-3", "j-2", "n-1", 1, api.ExecutionStateBidAccepted))
	h.setJobState("j-2", api.JobStateTypeStopped, "stopped")

	if r := h.apply(&ExecutionReportRequest{NodeID: "n-404", Updates: []api.ExecutionUpdate{{ExecutionID: "e-1", ComputeState: api.ExecutionStateCompleted}}, Now: h.now()}); !errors.Is(r.Err, api.ErrNotFound) {
		t.Fatalf("report from an unknown node: %v, want not found", r.Err)
	}

	out := &api.RunCommandResult{STDOUT: "hello\n", ExitCode: 0}
	published := &api.SpecConfig{Type: "urlDownload", Params: map[string]any{"URL": "http://n-1/e-1.tar.gz"}}
	res := h.report("n-1",
		api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateCompleted, Message: "done", RunOutput: out, PublishedResult: published},
		api.ExecutionUpdate{ExecutionID: "e-2", ComputeState: api.ExecutionStateFailed, Message: "exit 1"},
		api.ExecutionUpdate{ExecutionID: "e-3", ComputeState: api.ExecutionStateCancelled},
	)
	if res.Applied != 3 || len(res.Ignored) != 0 {
		t.Fatalf("result %+v", res)
	}
	// One evaluation for j-1 (two updates), none for the stopped j-2.
	if len(res.EvalIDs) != 1 {
		t.Fatalf("evals %v, want one", res.EvalIDs)
	}
	if e, _ := h.txn().Eval(res.EvalIDs[0]); e.JobID != "j-1" {
		t.Fatalf("eval for %s", e.JobID)
	}
	e1 := h.exec("e-1")
	if e1.RunOutput.STDOUT != "hello\n" || e1.PublishedResult.Params["URL"] != "http://n-1/e-1.tar.gz" || e1.ComputeState.Message != "done" {
		t.Fatalf("e-1 %+v", e1)
	}
	evs := h.history("j-1")
	if got := historyLine(evs[len(evs)-1]); got != `e-2 BidAccepted>Failed r3 "exit 1"` {
		t.Fatalf("last event %s", got)
	}
	if alloc, _ := h.txn().NodeAllocated("n-1"); !alloc.IsZero() {
		t.Fatalf("allocated %+v after every execution ended", alloc)
	}
	_, _, freed := h.obs.take()
	if !slices.Equal(freed, []string{"n-1", "n-1", "n-1"}) {
		t.Fatalf("freed %v, want n-1 once per ended execution", freed)
	}
}
