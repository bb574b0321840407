package fsm

import (
	"errors"
	"slices"
	"testing"

	"github.com/shoal-io/shoal/api"
)

// daemonFixture registers a live daemon job, a stopped daemon job and a batch
// job.
func daemonFixture(h *harness) {
	h.registerJob("j-daemon", api.JobTypeDaemon)
	h.registerJob("j-daemon-stopped", api.JobTypeDaemon)
	ok[JobStopResult](h, &JobStopRequest{JobID: "j-daemon-stopped", EvalID: "ev-stop", Now: h.now()})
	h.registerJob("j-batch", api.JobTypeBatch)
}

func evalsOf(t *testing.T, h *harness, ids []string) []*api.Evaluation {
	t.Helper()
	var out []*api.Evaluation
	for _, id := range ids {
		e, err := h.txn().Eval(id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestNodeRegister(t *testing.T) {
	h := newHarness(t)
	daemonFixture(h)
	h.obs.take()

	res := h.registerNode("n-1", cpu(2))
	n, err := h.txn().Node("n-1")
	if err != nil {
		t.Fatal(err)
	}
	if n.Connection != api.NodeConnected || n.Approval != api.NodeApprovalApproved {
		t.Fatalf("node %+v", n)
	}
	evals := evalsOf(t, h, res.EvalIDs)
	if len(evals) != 1 || evals[0].JobID != "j-daemon" || evals[0].TriggeredBy != api.EvalTriggerNodeJoin ||
		evals[0].Type != api.JobTypeDaemon || evals[0].Status != api.EvalStatusPending {
		t.Fatalf("join evals %+v, want one for j-daemon", evals)
	}
	heard, nodes, _ := h.obs.take()
	if len(heard) != 1 || !slices.Equal(nodes, []string{"n-1"}) {
		t.Fatalf("observer heard evals %v, nodes %v", heard, nodes)
	}

	// A connected node describing itself again raises nothing new.
	again := h.registerNode("n-1", cpu(4))
	if len(again.EvalIDs) != 0 {
		t.Fatalf("re-registration raised %v", again.EvalIDs)
	}
	if n, _ := h.txn().Node("n-1"); n.ComputeNodeInfo.MaxCapacity.CPU != 4 {
		t.Fatal("re-registration did not replace the description")
	}
	if _, nodes, _ := h.obs.take(); !slices.Equal(nodes, []string{"n-1"}) {
		t.Fatalf("nodes changed %v", nodes)
	}

	// A node that comes back after being lost does.
	ok[NodeStatusResult](h, &NodeStatusRequest{NodeID: "n-1", Connection: api.NodeDisconnected, Now: h.now()})
	back := h.registerNode("n-1", cpu(4))
	if len(back.EvalIDs) != 1 {
		t.Fatalf("re-registration after loss raised %v, want one eval", back.EvalIDs)
	}

	if r := h.apply(&NodeRegisterRequest{Node: &api.NodeInfo{}, Now: h.now()}); !errors.Is(r.Err, api.ErrBadRequest) {
		t.Fatalf("node without ID: %v", r.Err)
	}
}

func TestNodeLost(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", cpu(8))
	h.registerNode("n-2", cpu(8))
	h.registerJob("j-1", api.JobTypeBatch)
	h.registerJob("j-2", api.JobTypeService)
	h.registerJob("j-3", api.JobTypeBatch)
	h.place("j-1", newExec("e-1a", "j-1", "n-1", 1, api.ExecutionStateBidAccepted), newExec("e-1b", "j-1", "n-1", 1, api.ExecutionStateAskForBid))
	h.place("j-2", newExec("e-2", "j-2", "n-1", 1, api.ExecutionStateBidAccepted), newExec("e-2-elsewhere", "j-2", "n-2", 1, api.ExecutionStateBidAccepted))
	h.place("j-3", newExec("e-3", "j-3", "n-1", 1, api.ExecutionStateBidAccepted))
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-3", ComputeState: api.ExecutionStateCompleted})
	h.obs.take()

	res := ok[NodeStatusResult](h, &NodeStatusRequest{NodeID: "n-1", Connection: api.NodeDisconnected, Reason: "missed heartbeats", Now: h.now()})

	for _, id := range []string{"e-1a", "e-1b", "e-2"} {
		e := h.exec(id)
		if e.ComputeState.StateType != api.ExecutionStateFailed || e.ComputeState.Message != "node n-1 lost: missed heartbeats" ||
			e.DesiredState.StateType != api.ExecutionDesiredStateStopped {
			t.Fatalf("%s: %+v", id, e)
		}
	}
	if e := h.exec("e-3"); e.ComputeState.StateType != api.ExecutionStateCompleted {
		t.Fatalf("a terminal execution was touched: %+v", e)
	}
	if e := h.exec("e-2-elsewhere"); e.ComputeState.StateType != api.ExecutionStateBidAccepted {
		t.Fatalf("an execution on another node was touched: %+v", e)
	}
	evs := h.history("j-1")
	if got := historyLine(evs[len(evs)-1]); got != `e-1b AskForBid>Failed r3 "node n-1 lost: missed heartbeats"` {
		t.Fatalf("last event %s", got)
	}
	var jobs []string
	for _, e := range evalsOf(t, h, res.EvalIDs) {
		if e.TriggeredBy != api.EvalTriggerNodeLost {
			t.Fatalf("eval %+v", e)
		}
		jobs = append(jobs, e.JobID)
	}
	if !slices.Equal(jobs, []string{"j-1", "j-2"}) {
		t.Fatalf("node-lost evals for %v, want j-1 and j-2", jobs)
	}
	_, nodes, freed := h.obs.take()
	if !slices.Equal(nodes, []string{"n-1"}) || !slices.Equal(freed, []string{"n-1", "n-1", "n-1"}) {
		t.Fatalf("observer heard nodes %v, freed %v", nodes, freed)
	}
	if n, _ := h.txn().Node("n-1"); n.Connection != api.NodeDisconnected {
		t.Fatalf("connection %s", n.Connection)
	}

	again := ok[NodeStatusResult](h, &NodeStatusRequest{NodeID: "n-1", Connection: api.NodeDisconnected, Now: h.now()})
	if len(again.EvalIDs) != 0 {
		t.Fatalf("losing a lost node raised %v", again.EvalIDs)
	}
	if evals, nodes, _ := h.obs.take(); len(evals)+len(nodes) != 0 {
		t.Fatal("a no-op status change was reported to the observer")
	}
}

func TestNodeStatusReconnectAndErrors(t *testing.T) {
	h := newHarness(t)
	daemonFixture(h)
	h.registerNode("n-1", cpu(2))
	ok[NodeStatusResult](h, &NodeStatusRequest{NodeID: "n-1", Connection: api.NodeDisconnected, Now: h.now()})

	back := ok[NodeStatusResult](h, &NodeStatusRequest{NodeID: "n-1", Connection: api.NodeConnected, Now: h.now()})
	if evals := evalsOf(t, h, back.EvalIDs); len(evals) != 1 || evals[0].JobID != "j-daemon" || evals[0].TriggeredBy != api.EvalTriggerNodeJoin {
		t.Fatalf("reconnect evals %+v", evals)
	}
	tests := []struct {
		name string
		req  *NodeStatusRequest
		want error
	}{
		{"unknown node", &NodeStatusRequest{NodeID: "n-404", Connection: api.NodeDisconnected}, api.ErrNotFound},
		{"bad connection", &NodeStatusRequest{NodeID: "n-1", Connection: "SLEEPY"}, api.ErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := h.apply(tt.req); !errors.Is(r.Err, tt.want) {
				t.Fatalf("err = %v, want %v", r.Err, tt.want)
			}
		})
	}
}

func TestEvalUpdateAndIdempotencyPrune(t *testing.T) {
	h := newHarness(t)
	h.registerJob("j-1", api.JobTypeBatch)
	failed := &api.Evaluation{ID: "ev-j-1", JobID: "j-1", Status: api.EvalStatusFailed, Comment: "too many deliveries"}
	h.mustApply(&EvalUpdateRequest{Evals: []*api.Evaluation{failed}, Now: h.now()})
	if e, _ := h.txn().Eval("ev-j-1"); e.Status != api.EvalStatusFailed {
		t.Fatalf("eval %+v", e)
	}
	if pending, _ := h.txn().EvalsByStatus(api.EvalStatusPending); len(pending) != 0 {
		t.Fatalf("still pending: %v", pending)
	}
	if r := h.apply(&EvalUpdateRequest{Evals: []*api.Evaluation{{ID: "ok"}, {}}}); !errors.Is(r.Err, api.ErrBadRequest) {
		t.Fatalf("eval without ID: %v", r.Err)
	}
	if _, err := h.txn().Eval("ok"); err == nil {
		t.Fatal("a rejected update stored part of itself")
	}

	for i, expiry := range []int64{10, 20, 30} {
		id := []string{"j-a", "j-b", "j-c"}[i]
		ok[JobRegisterResult](h, &JobRegisterRequest{Job: newJob(id, api.JobTypeBatch, 1), EvalID: "ev-" + id,
			IdempotencyToken: "tok-" + id, TokenExpiry: expiry, Now: 1})
	}
	res := ok[IdempotencyPruneResult](h, &IdempotencyPruneRequest{Now: 20})
	if res.Pruned != 2 {
		t.Fatalf("pruned %d, want 2", res.Pruned)
	}
	for token, want := range map[string]bool{"tok-j-a": false, "tok-j-b": false, "tok-j-c": true} {
		if _, _, found := h.txn().Idempotency(token, 0); found != want {
			t.Fatalf("token %s present=%t, want %t", token, found, want)
		}
	}
}

func TestEvalGC(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"j-1", "j-2", "j-3"} {
		h.registerJob(id, api.JobTypeBatch)
	}
	cutoff := h.now()
	h.registerJob("j-4", api.JobTypeBatch) // created after the cutoff
	// j-4 is evaluated (a completed evaluation goes at once); j-1 is
	// canceled and j-2 fails, which the collector removes once old; j-3
	// stays pending.
	job := h.job("j-4")
	ok[PlanResult](h, &Plan{EvalID: "ev-j-4", JobID: "j-4", JobRevision: job.Revision, EvalStatus: api.EvalStatusComplete, Now: h.now()})
	if _, err := h.txn().Eval("ev-j-4"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("completed evaluation kept: %v", err)
	}
	for id, status := range map[string]string{"ev-j-1": api.EvalStatusCanceled, "ev-j-2": api.EvalStatusFailed} {
		e, _ := h.txn().Eval(id)
		ended := *e
		ended.Status = status
		h.mustApply(&EvalUpdateRequest{Evals: []*api.Evaluation{&ended}, Now: h.now()})
	}

	res := ok[EvalGCResult](h, &EvalGCRequest{Before: cutoff, Limit: 1, Now: h.now()})
	if res.Deleted != 1 || !res.More {
		t.Fatalf("first sweep %+v, want 1 deleted and more", res)
	}
	res = ok[EvalGCResult](h, &EvalGCRequest{Before: cutoff, Now: h.now()})
	if res.Deleted != 1 || res.More {
		t.Fatalf("second sweep %+v", res)
	}
	for id, want := range map[string]bool{"ev-j-1": false, "ev-j-2": false, "ev-j-3": true, "ev-j-4": false} {
		_, err := h.txn().Eval(id)
		if got := err == nil; got != want {
			t.Errorf("%s kept=%t, want %t", id, got, want)
		}
	}
	if _, _, evals, _ := h.txn().Counts(); evals != 1 {
		t.Fatalf("%d evaluations counted, want 1", evals)
	}
}
