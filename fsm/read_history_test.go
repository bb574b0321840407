package fsm

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

// historyFixture: a job with executions on two nodes. Its events, in order:
// job created; e-a1 New>New, New>AskForBid; e-b1 New>New, New>AskForBid;
// e-a1 AskForBidAccepted; job Running; e-a1 Completed.
func historyFixture(t *testing.T) *harness {
	h := newHarness(t)
	h.registerNode("n-a", cpu(4))
	h.registerNode("n-b", cpu(4))
	h.registerJob("j-1", api.JobTypeBatch)
	h.registerJob("j-2", api.JobTypeBatch) // its events must never show up
	h.place("j-1", newExec("e-a1", "j-1", "n-a", 1, api.ExecutionStateAskForBid), newExec("e-b1", "j-1", "n-b", 1, api.ExecutionStateAskForBid))
	h.report("n-a", api.ExecutionUpdate{ExecutionID: "e-a1", ComputeState: api.ExecutionStateAskForBidAccepted})
	h.setJobState("j-1", api.JobStateTypeRunning, "")
	h.report("n-a", api.ExecutionUpdate{ExecutionID: "e-a1", ComputeState: api.ExecutionStateCompleted})
	return h
}

func TestHistoryFilters(t *testing.T) {
	h := historyFixture(t)
	all := h.history("j-1")
	if len(all) != 8 {
		t.Fatalf("%d events, want 8", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.Before(all[i-1].Time) {
			t.Fatal("events out of order")
		}
	}
	cut := all[5].Time // the first event of a later command
	tests := []struct {
		name string
		q    HistoryQuery
		want []int // indexes into all
	}{
		{"all", HistoryQuery{EventType: "all"}, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"job", HistoryQuery{EventType: "job"}, []int{0, 6}},
		{"execution", HistoryQuery{EventType: "EXECUTION"}, []int{1, 2, 3, 4, 5, 7}},
		{"execution prefix", HistoryQuery{ExecutionID: "e-a"}, []int{1, 2, 5, 7}},
		{"node prefix", HistoryQuery{NodeID: "n-b"}, []int{3, 4}},
		{"since", HistoryQuery{Since: cut.Unix() + 1}, nil},
		{"since zero", HistoryQuery{Since: 0}, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"combined", HistoryQuery{EventType: "execution", ExecutionID: "e-a1", NodeID: "n-a"}, []int{1, 2, 5, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := h.txn().History("j-1", tt.q)
			if err != nil || next != "" {
				t.Fatalf("next %q, err %v", next, err)
			}
			var idx []int
			for _, ev := range got {
				idx = append(idx, slices.Index(all, ev))
			}
			if !slices.Equal(idx, tt.want) {
				t.Fatalf("events %v, want %v", idx, tt.want)
			}
		})
	}
}

func TestHistorySinceSeconds(t *testing.T) {
	h := newHarness(t)
	ok[JobRegisterResult](h, &JobRegisterRequest{Job: newJob("j-1", api.JobTypeBatch, 10e9), EvalID: "ev", Now: 10e9})
	h.mustApply(&Plan{JobID: "j-1", JobRevision: 1, JobState: &api.State[api.JobStateType]{StateType: api.JobStateTypeRunning}, Now: 11e9 + 5e8})
	h.mustApply(&Plan{JobID: "j-1", JobRevision: 2, JobState: &api.State[api.JobStateType]{StateType: api.JobStateTypeCompleted}, Now: 12e9})
	tests := []struct {
		since int64
		want  int
	}{{0, 3}, {10, 3}, {11, 2}, {12, 1}, {13, 0}}
	for _, tt := range tests {
		got, _, err := h.txn().History("j-1", HistoryQuery{Since: tt.since})
		if err != nil || len(got) != tt.want {
			t.Fatalf("since %ds: %d events (%v), want %d", tt.since, len(got), err, tt.want)
		}
		if len(got) > 0 && got[0].Time.Before(time.Unix(tt.since, 0)) {
			t.Fatalf("since %ds returned an event at %s", tt.since, got[0].Time)
		}
	}
}

func TestHistoryPaging(t *testing.T) {
	h := historyFixture(t)
	all := h.history("j-1")
	for _, q := range []HistoryQuery{{Limit: 1}, {Limit: 3}, {Limit: 2, EventType: "execution"}, {Limit: 8}} {
		var got []*api.JobHistory
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("paging does not end")
			}
			evs, next, err := h.txn().History("j-1", q)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) > q.Limit {
				t.Fatalf("page of %d, limit %d", len(evs), q.Limit)
			}
			got = append(got, evs...)
			if next == "" {
				break
			}
			q.After = next
			// Events appended between pages show up on later pages.
			if pages == 0 {
				h.report("n-b", api.ExecutionUpdate{ExecutionID: "e-b1", ComputeState: api.ExecutionStateFailed})
				all = h.history("j-1")
			}
		}
		want := slices.DeleteFunc(slices.Clone(all), func(ev *api.JobHistory) bool {
			return q.EventType == "execution" && ev.Type != api.JobHistoryTypeExecutionLevel
		})
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: paged %d events, want %d", q.Limit, len(got), len(want))
		}
		h = historyFixture(t)
		all = h.history("j-1")
	}

	_, next, _ := h.txn().History("j-1", HistoryQuery{Limit: 1})
	tests := []struct {
		name  string
		jobID string
		q     HistoryQuery
		want  error
	}{
		{"bad event type", "j-1", HistoryQuery{EventType: "node"}, api.ErrBadRequest},
		{"negative limit", "j-1", HistoryQuery{Limit: -1}, api.ErrBadRequest},
		{"negative since", "j-1", HistoryQuery{Since: -1}, api.ErrBadRequest},
		{"bad token", "j-1", HistoryQuery{After: "%%%"}, api.ErrBadRequest},
		{"token of another job", "j-2", HistoryQuery{After: next}, api.ErrBadRequest},
		{"missing job", "j-404", HistoryQuery{}, api.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := h.txn().History(tt.jobID, tt.q); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
