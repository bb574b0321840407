package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
)

func TestHistoryWatcherReadsEachEventOnceWithBlockingQueries(t *testing.T) {
	h := fixHistory()
	page := func(token string, index uint64, events ...*api.JobHistory) http.HandlerFunc {
		return reply(http.StatusOK, index, mustJSON(t, api.ListJobHistoryResponse{NextToken: token, History: events}))
	}
	path := "GET /api/v1/orchestrator/jobs/" + fixJobID + "/history"
	f := newFakeAPI(t, map[string]http.HandlerFunc{path: inTurn(
		page("t1", 10, h[0], h[1]), // a full first page
		page("", 10, h[2]),         // the rest
		page("", 12, h[2], h[3]),   // after a change: the page again, grown
		page("", 12, h[2], h[3]),   // the wait ended without news
		page("", 13, h[2], h[3], h[4]),
	)})
	c, err := client.New([]string{f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	w := newHistoryWatcher(c.Jobs(), fixJobID)
	w.pageSize, w.pollGap = 2, time.Millisecond
	want := [][]*api.JobHistory{{h[0], h[1]}, {h[2]}, {h[3]}, {h[4]}}
	for i, batch := range want {
		got, err := w.next(context.Background())
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if len(got) != len(batch) {
			t.Fatalf("batch %d: got %d events, want %d", i, len(got), len(batch))
		}
		for j := range got {
			if got[j].NewRevision != batch[j].NewRevision || got[j].Type != batch[j].Type {
				t.Errorf("batch %d event %d: got %+v, want %+v", i, j, got[j], batch[j])
			}
		}
	}
	type query struct{ token, index, wait string }
	wantQueries := []query{
		{"", "", ""},        // everything so far, at once
		{"t1", "", ""},      // the next page, at once
		{"t1", "10", "30s"}, // then wait for a change
		{"t1", "12", "30s"}, // …
		{"t1", "12", "30s"}, // no news: the same question again
	}
	got := f.requests()
	if len(got) != len(wantQueries) {
		t.Fatalf("got %d requests, want %d: %+v", len(got), len(wantQueries), got)
	}
	for i, q := range wantQueries {
		r := got[i]
		if r.Query.Get("next_token") != q.token || r.Query.Get("index") != q.index || r.Query.Get("wait") != q.wait ||
			r.Query.Get("limit") != "2" {
			t.Errorf("request %d: query %v, want next_token=%q index=%q wait=%q limit=2", i, r.Query, q.token, q.index, q.wait)
		}
	}
}

func TestJobProgressSettles(t *testing.T) {
	jobEv := func(s api.JobStateType) *api.JobHistory {
		return &api.JobHistory{Type: api.JobHistoryTypeJobLevel, JobState: &api.StateChange[api.JobStateType]{New: s}}
	}
	execEv := func(id string, s api.ExecutionStateType) *api.JobHistory {
		return &api.JobHistory{Type: api.JobHistoryTypeExecutionLevel, ExecutionID: id,
			ExecutionState: &api.StateChange[api.ExecutionStateType]{New: s}}
	}
	cases := []struct {
		name        string
		longRunning bool
		events      []*api.JobHistory
		settled     bool
		running     string
	}{
		{"pending batch", false, []*api.JobHistory{jobEv(api.JobStateTypePending), execEv("e-1", api.ExecutionStateAskForBid)}, false, ""},
		{"running batch", false, []*api.JobHistory{jobEv(api.JobStateTypeRunning), execEv("e-1", api.ExecutionStateBidAccepted)}, false, "e-1"},
		{"completed batch", false, []*api.JobHistory{jobEv(api.JobStateTypeCompleted)}, true, ""},
		{"failed batch", false, []*api.JobHistory{execEv("e-2", api.ExecutionStateFailed), jobEv(api.JobStateTypeFailed)}, true, "e-2"},
		{"running service", true, []*api.JobHistory{jobEv(api.JobStateTypeRunning)}, true, ""},
		{"pending daemon", true, []*api.JobHistory{jobEv(api.JobStateTypePending)}, false, ""},
		{"the first execution to run is followed", false, []*api.JobHistory{
			execEv("e-1", api.ExecutionStateBidAccepted), execEv("e-2", api.ExecutionStateBidAccepted)}, false, "e-1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &jobProgress{longRunning: c.longRunning}
			for _, ev := range c.events {
				p.observe(ev)
			}
			if p.settled() != c.settled || p.running != c.running {
				t.Errorf("settled %v running %q, want %v %q", p.settled(), p.running, c.settled, c.running)
			}
		})
	}
}
