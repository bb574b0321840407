package fsm

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestPlanPlacements(t *testing.T) {
	type setup struct {
		nodes        map[string]api.Resources // registered, connected
		disconnected []string
		existing     []*api.Execution // placed and reported before the plan
	}
	base := setup{nodes: map[string]api.Resources{"n-1": cpu(2), "n-free": {}}}
	tests := []struct {
		name         string
		setup        setup
		place        []*api.Execution
		wantPlaced   []string
		wantRejected map[string]string // execution ID → substring of the reason
	}{
		{
			name:       "fits",
			setup:      base,
			place:      []*api.Execution{newExec("e-1", "j-1", "n-1", 1.5, api.ExecutionStateAskForBid)},
			wantPlaced: []string{"e-1"},
		},
		{
			name:         "missing node",
			setup:        base,
			place:        []*api.Execution{newExec("e-1", "j-1", "n-404", 0.1, api.ExecutionStateAskForBid)},
			wantRejected: map[string]string{"e-1": "node n-404 not found"},
		},
		{
			name:         "disconnected node",
			setup:        setup{nodes: base.nodes, disconnected: []string{"n-1"}},
			place:        []*api.Execution{newExec("e-1", "j-1", "n-1", 0.1, api.ExecutionStateAskForBid)},
			wantRejected: map[string]string{"e-1": "not connected"},
		},
		{
			name: "over capacity with active executions",
			setup: setup{nodes: base.nodes, existing: []*api.Execution{
				newExec("e-old", "j-0", "n-1", 1.5, api.ExecutionStateBidAccepted),
			}},
			place:        []*api.Execution{newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateAskForBid)},
			wantRejected: map[string]string{"e-1": "not enough capacity"},
		},
		{
			name: "terminal executions hold nothing",
			setup: setup{nodes: base.nodes, existing: []*api.Execution{
				newExec("e-old", "j-0", "n-1", 1.5, api.ExecutionStateBidRejected),
			}},
			place:      []*api.Execution{newExec("e-1", "j-1", "n-1", 2, api.ExecutionStateAskForBid)},
			wantPlaced: []string{"e-1"},
		},
		{
			name:  "two placements in one plan",
			setup: base,
			place: []*api.Execution{
				newExec("e-1", "j-1", "n-1", 1.5, api.ExecutionStateAskForBid),
				newExec("e-2", "j-1", "n-1", 1.5, api.ExecutionStateAskForBid),
				newExec("e-3", "j-1", "n-1", 0.5, api.ExecutionStateAskForBid),
			},
			wantPlaced:   []string{"e-1", "e-3"},
			wantRejected: map[string]string{"e-2": "not enough capacity"},
		},
		{
			name:  "unknown capacity accepts",
			setup: base,
			place: []*api.Execution{
				newExec("e-1", "j-1", "n-free", 64, api.ExecutionStateBidAccepted),
				newExec("e-2", "j-1", "n-free", 64, api.ExecutionStateBidAccepted),
			},
			wantPlaced: []string{"e-1", "e-2"},
		},
		{
			name:  "duplicate IDs",
			setup: setup{nodes: base.nodes, existing: []*api.Execution{newExec("e-old", "j-0", "n-1", 0.1, api.ExecutionStateBidAccepted)}},
			place: []*api.Execution{
				newExec("e-old", "j-1", "n-1", 0.1, api.ExecutionStateAskForBid),
				newExec("e-1", "j-1", "n-1", 0.1, api.ExecutionStateAskForBid),
				newExec("e-1", "j-1", "n-1", 0.1, api.ExecutionStateAskForBid),
			},
			wantPlaced: []string{"e-1"},
			// The second e-1 is refused; the first one stays placed.
			wantRejected: map[string]string{"e-old": "already exists", "e-1": "already exists"},
		},
		{
			name:         "execution of another job",
			setup:        base,
			place:        []*api.Execution{newExec("e-1", "j-other", "n-1", 0.1, api.ExecutionStateAskForBid)},
			wantRejected: map[string]string{"e-1": "belongs to job j-other"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for _, id := range slices.Sorted(mapKeys(tt.setup.nodes)) {
				h.registerNode(id, tt.setup.nodes[id])
			}
			if len(tt.setup.existing) > 0 {
				h.registerJob("j-0", api.JobTypeBatch)
				h.place("j-0", tt.setup.existing...)
			}
			for _, id := range tt.setup.disconnected {
				ok[NodeStatusResult](h, &NodeStatusRequest{NodeID: id, Connection: api.NodeDisconnected, Now: h.now()})
			}
			h.registerJob("j-1", api.JobTypeBatch)
			h.obs.take()

			res := h.place("j-1", tt.place...)
			if res.Stale || len(res.SkippedUpdates) > 0 {
				t.Fatalf("result %+v", res)
			}
			if len(res.RejectedPlacements) != len(tt.wantRejected) {
				t.Fatalf("rejected %v, want %v", res.RejectedPlacements, tt.wantRejected)
			}
			for id, want := range tt.wantRejected {
				if !strings.Contains(res.RejectedPlacements[id], want) {
					t.Fatalf("rejection of %s = %q, want it to mention %q", id, res.RejectedPlacements[id], want)
				}
			}
			if res.Refresh() != (len(tt.wantRejected) > 0) {
				t.Fatalf("Refresh() = %t", res.Refresh())
			}
			// The evaluation closes only when its whole plan landed.
			wantStatus := api.EvalStatusComplete
			if len(tt.wantRejected) > 0 {
				wantStatus = api.EvalStatusPending
			}
			if got := evalStatus(h, "ev-j-1"); got != wantStatus {
				t.Fatalf("evaluation status %s, want %s", got, wantStatus)
			}
			execs, err := h.txn().ExecutionsByJob("j-1")
			if err != nil {
				t.Fatal(err)
			}
			var placed []string
			for _, e := range execs {
				placed = append(placed, e.ID)
			}
			slices.Sort(placed)
			if !slices.Equal(placed, tt.wantPlaced) {
				t.Fatalf("placed %v, want %v", placed, tt.wantPlaced)
			}
		})
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestPlanPlacementHistory(t *testing.T) {
	tests := []struct {
		start        api.ExecutionStateType
		wantRevision uint64
		wantHistory  []string
	}{
		{api.ExecutionStateAskForBid, 2, []string{`e-1 New>New r1 ""`, `e-1 New>AskForBid r2 "asked"`}},
		{api.ExecutionStateBidAccepted, 2, []string{`e-1 New>New r1 ""`, `e-1 New>BidAccepted r2 "asked"`}},
		{api.ExecutionStateNew, 1, []string{`e-1 New>New r1 ""`}},
	}
	for _, tt := range tests {
		t.Run(tt.start.String(), func(t *testing.T) {
			h := newHarness(t)
			h.registerNode("n-1", cpu(4))
			h.registerJob("j-1", api.JobTypeBatch)
			e := newExec("e-1", "j-1", "n-1", 1, tt.start)
			e.ComputeState.Message = "asked"
			now := h.now()
			h.place("j-1", e)
			got := h.exec("e-1")
			if got.Revision != tt.wantRevision || got.ComputeState.StateType != tt.start || got.CreateTime != now ||
				got.Namespace != "default" || got.ModifyTime != now {
				t.Fatalf("execution %+v", got)
			}
			var lines []string
			for _, ev := range h.history("j-1")[1:] {
				lines = append(lines, historyLine(ev))
				if ev.NodeID != "n-1" || ev.Type != api.JobHistoryTypeExecutionLevel || ev.JobState != nil {
					t.Fatalf("event %+v", ev)
				}
			}
			if !reflect.DeepEqual(lines, tt.wantHistory) {
				t.Fatalf("history %q, want %q", lines, tt.wantHistory)
			}
		})
	}
}

func TestPlanStaleAppliesOnlyEvalStatus(t *testing.T) {
	// A plan against an old revision leaves its evaluation open (the
	// scheduler plans again); one for a job that no longer exists closes it.
	tests := []struct {
		name       string
		jobID      string
		revision   uint64
		wantStatus string
	}{
		{"old revision", "j-1", 1, api.EvalStatusPending},
		{"missing job", "j-404", 1, api.EvalStatusComplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.registerNode("n-1", cpu(4))
			h.registerJob("j-1", api.JobTypeBatch)
			h.setJobState("j-1", api.JobStateTypeRunning, "") // revision 2
			h.obs.take()
			res := ok[PlanResult](h, &Plan{EvalID: "ev-j-1", JobID: tt.jobID, JobRevision: tt.revision,
				NewExecutions: []*api.Execution{newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateAskForBid)},
				JobState:      &api.State[api.JobStateType]{StateType: api.JobStateTypeFailed},
				NewEvals:      []*api.Evaluation{{ID: "ev-new", JobID: "j-1", Status: api.EvalStatusPending}},
				EvalStatus:    api.EvalStatusComplete, EvalComment: "done", Now: h.now()})
			if !res.Stale || !res.Refresh() {
				t.Fatalf("result %+v, want stale", res)
			}
			if _, err := h.txn().Execution("e-1"); err == nil {
				t.Fatal("stale plan placed an execution")
			}
			if _, err := h.txn().Eval("ev-new"); err == nil {
				t.Fatal("stale plan created an evaluation")
			}
			if h.job("j-1").State.StateType != api.JobStateTypeRunning {
				t.Fatal("stale plan moved the job")
			}
			if got := evalStatus(h, "ev-j-1"); got != tt.wantStatus {
				t.Fatalf("eval status %s, want %s", got, tt.wantStatus)
			}
			evals, _, _ := h.obs.take()
			if tt.wantStatus == api.EvalStatusPending && len(evals) != 0 {
				t.Fatalf("observer heard %v for an unchanged evaluation", evals)
			}
			if tt.wantStatus == api.EvalStatusComplete && (len(evals) != 1 || evals[0].Status != api.EvalStatusComplete) {
				t.Fatalf("observer heard %v", evals)
			}
		})
	}
}

func TestPlanExecutionUpdates(t *testing.T) {
	stopped := &api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateStopped, Message: "job stopped"}
	running := &api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateRunning, Message: "execution approved"}
	tests := []struct {
		name        string
		update      ExecutionUpdate
		wantSkipped bool
		wantState   api.ExecutionStateType
		wantHistory []string // events added by the update
		wantFreed   bool
	}{
		{
			name: "approve bid",
			update: ExecutionUpdate{ExecutionID: "e-1", ExpectedComputeState: api.ExecutionStateAskForBidAccepted, DesiredState: running,
				ComputeState: &api.State[api.ExecutionStateType]{StateType: api.ExecutionStateBidAccepted}},
			wantState:   api.ExecutionStateBidAccepted,
			wantHistory: []string{`e-1 AskForBidAccepted>AskForBidAccepted r4 "execution approved"`, `e-1 AskForBidAccepted>BidAccepted r5 ""`},
		},
		{
			name: "cancel",
			update: ExecutionUpdate{ExecutionID: "e-1", ExpectedComputeState: api.ExecutionStateAskForBidAccepted, DesiredState: stopped,
				ComputeState: &api.State[api.ExecutionStateType]{StateType: api.ExecutionStateBidRejected, Message: "job stopped"}},
			wantState:   api.ExecutionStateBidRejected,
			wantHistory: []string{`e-1 AskForBidAccepted>AskForBidAccepted r4 "job stopped"`, `e-1 AskForBidAccepted>BidRejected r5 "job stopped"`},
			wantFreed:   true,
		},
		{
			name:        "moved on",
			update:      ExecutionUpdate{ExecutionID: "e-1", ExpectedComputeState: api.ExecutionStateAskForBid, DesiredState: running},
			wantSkipped: true,
			wantState:   api.ExecutionStateAskForBidAccepted,
		},
		{
			name:        "missing",
			update:      ExecutionUpdate{ExecutionID: "e-404", ExpectedComputeState: api.ExecutionStateAskForBid, DesiredState: running},
			wantSkipped: true,
			wantState:   api.ExecutionStateAskForBidAccepted,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.registerNode("n-1", cpu(4))
			h.registerJob("j-1", api.JobTypeBatch)
			h.place("j-1", newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateAskForBid))
			h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateAskForBidAccepted})
			before := len(h.history("j-1"))
			h.obs.take()

			u := tt.update
			res := ok[PlanResult](h, &Plan{JobID: "j-1", JobRevision: 1, ExecutionUpdates: []*ExecutionUpdate{&u}, Now: h.now()})
			if got := slices.Contains(res.SkippedUpdates, u.ExecutionID); got != tt.wantSkipped {
				t.Fatalf("skipped %v, want skipped=%t", res.SkippedUpdates, tt.wantSkipped)
			}
			if got := h.exec("e-1").ComputeState.StateType; got != tt.wantState {
				t.Fatalf("state %s, want %s", got, tt.wantState)
			}
			var lines []string
			for _, ev := range h.history("j-1")[before:] {
				lines = append(lines, historyLine(ev))
			}
			if !slices.Equal(lines, tt.wantHistory) {
				t.Fatalf("new history %q, want %q", lines, tt.wantHistory)
			}
			_, _, freed := h.obs.take()
			if (len(freed) == 1 && freed[0] == "n-1") != tt.wantFreed || len(freed) > 1 {
				t.Fatalf("capacity freed on %v, want freed=%t", freed, tt.wantFreed)
			}
		})
	}
}

func TestPlanJobStateAndEvals(t *testing.T) {
	h := newHarness(t)
	h.registerJob("j-1", api.JobTypeBatch)
	h.registerJob("j-2", api.JobTypeBatch) // its eval is coalesced below only by ID
	h.mustApply(&EvalUpdateRequest{Evals: []*api.Evaluation{{ID: "ev-extra", JobID: "j-1", Status: api.EvalStatusPending}}, Now: h.now()})

	msgOnly := ok[PlanResult](h, &Plan{EvalID: "ev-j-1", JobID: "j-1", JobRevision: 1,
		JobState:   &api.State[api.JobStateType]{StateType: api.JobStateTypePending, Message: "waiting for nodes"},
		EvalStatus: api.EvalStatusBlocked, CoalescedEvalIDs: []string{"ev-extra", "ev-unknown"}, Now: h.now()})
	if msgOnly.Refresh() {
		t.Fatalf("result %+v", msgOnly)
	}
	job := h.job("j-1")
	if job.Revision != 1 || job.State.Message != "waiting for nodes" || len(h.history("j-1")) != 1 {
		t.Fatalf("message-only change: job %+v, %d events", job, len(h.history("j-1")))
	}
	for _, id := range []string{"ev-j-1", "ev-extra"} {
		if e, _ := h.txn().Eval(id); e.Status != api.EvalStatusBlocked {
			t.Fatalf("eval %s status %s, want blocked", id, e.Status)
		}
	}
	if e, _ := h.txn().Eval("ev-j-2"); e.Status != api.EvalStatusPending {
		t.Fatal("an evaluation outside the plan changed")
	}

	now := h.now()
	ok[PlanResult](h, &Plan{EvalID: "ev-j-1", JobID: "j-1", JobRevision: 1,
		JobState:   &api.State[api.JobStateType]{StateType: api.JobStateTypeRunning, Message: "running"},
		NewEvals:   []*api.Evaluation{{ID: "ev-delayed", JobID: "j-1", Status: api.EvalStatusPending, WaitUntil: now + 1e9, CreateTime: now}},
		EvalStatus: api.EvalStatusComplete, Now: now})
	job = h.job("j-1")
	evs := h.history("j-1")
	if job.Revision != 2 || job.State.StateType != api.JobStateTypeRunning || job.ModifyTime != now ||
		historyLine(evs[len(evs)-1]) != `job Pending>Running r2 "running"` {
		t.Fatalf("job %+v, last event %s", job, historyLine(evs[len(evs)-1]))
	}
	if e, err := h.txn().Eval("ev-delayed"); err != nil || e.WaitUntil != now+1e9 {
		t.Fatalf("new eval %+v, %v", e, err)
	}
	pending, _ := h.txn().EvalsByStatus(api.EvalStatusPending)
	var ids []string
	for _, e := range pending {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []string{"ev-j-2", "ev-delayed"}) {
		t.Fatalf("pending evals %v", ids)
	}
}

// evalStatus is an evaluation's stored status; a completed evaluation is
// removed when it completes, so a missing one reads as complete.
func evalStatus(h *harness, id string) string {
	h.t.Helper()
	e, err := h.txn().Eval(id)
	if errors.Is(err, api.ErrNotFound) {
		return api.EvalStatusComplete
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return e.Status
}
