package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/fsmtest"
)

// readOnlyServer is a replica without Raft: enough for the read handlers,
// which answer from the local state store.
func readOnlyServer(m *fsmtest.Machine) *Server {
	s := &Server{
		cfg:    Config{NodeID: "r-fuzz", MaxBodyBytes: 1 << 20, MaxSnapshotBytes: 1 << 20, LeaderWait: time.Second, RequestTimeout: time.Second},
		logger: slog.New(slog.DiscardHandler),
		fsm:    m.FSM,
	}
	s.metrics = newMetrics(s)
	return s
}

// The read routes a client lists and filters with; {id} is filled in by the
// fuzzer.
var fuzzReadRoutes = []string{
	"/api/v1/orchestrator/jobs",
	"/api/v1/orchestrator/jobs/{id}",
	"/api/v1/orchestrator/jobs/{id}/history",
	"/api/v1/orchestrator/jobs/{id}/executions",
	"/api/v1/orchestrator/nodes",
	"/api/v1/orchestrator/nodes/{id}",
	"/api/v1/compute/nodes/{id}/executions",
}

// FuzzListQuery sends arbitrary query strings (label selectors, limits,
// orders, next_token, include, event filters, index/wait) to the read
// routes of a replica holding state. Every answer is a 200 or a 4xx in the
// API's error shape, never a 5xx or a panic; a list's next_token, passed
// back, is accepted.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []struct {
		route uint8
		id    string
		query string
	}{
		{0, "", "limit=2&order_by=modify_time&reverse=true&labels=team%3Ddata"},
		{0, "", "labels=env+in+(prod,dev),team!=web&limit=1&namespace=*"},
		{0, "", "next_token=eyJvIjoiaWQiLCJpIjoiIn0&order_by=id"},
		{0, "", "limit=-1&reverse=maybe&labels=%3D%3D"},
		{1, fsmtest.JobBatch, "include=history,executions"},
		{1, "j-b", "index=3&wait=1s"},
		{2, fsmtest.JobDone, "event_type=execution&since=0&limit=1&execution_id=e-&node_id=n-"},
		{2, fsmtest.JobDone, "next_token=!!&event_type=bogus"},
		{3, fsmtest.JobBatch, "limit=1&order_by=created_at&reverse"},
		{4, "", "limit=1&labels=zone%3Dz1&order_by=id&next_token="},
		{5, fsmtest.Node1, ""},
		{6, fsmtest.Node2, "index=0&wait=5s"},
		{6, "n-missing", "wait=-3"},
	} {
		f.Add(seed.route, seed.id, seed.query)
	}
	m := fsmtest.Seeded(f)
	s := readOnlyServer(m)
	h := s.router()
	f.Fuzz(func(t *testing.T, route uint8, id, rawQuery string) {
		path := fuzzReadRoutes[int(route)%len(fuzzReadRoutes)]
		path = string(bytes.ReplaceAll([]byte(path), []byte("{id}"), []byte(url.PathEscape(id))))
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return // net/http would hand the handler what it could parse; ParseQuery is not ours
		}
		// A linearizable read needs Raft, which this replica has not got.
		if q.Get("consistency") == consistencyLinearizable {
			q.Del("consistency")
		}
		// A blocking query for an index the state has not reached waits
		// for its timeout; ask for one it has passed.
		if n, err := strconv.ParseUint(q.Get("index"), 10, 64); err == nil && n >= m.FSM.State().Index() {
			q.Set("index", "1")
		}
		status, body := get(t, h, path+"?"+q.Encode())
		checkAnswer(t, path, q, status, body)
		if status != http.StatusOK {
			return
		}
		var page struct{ NextToken string }
		if err := json.Unmarshal(body, &page); err == nil && page.NextToken != "" {
			q.Set("next_token", page.NextToken)
			if status, body := get(t, h, path+"?"+q.Encode()); status != http.StatusOK {
				t.Fatalf("GET %s?%s: the next_token the server gave is refused: %d %s", path, q.Encode(), status, body)
			}
		}
	})
}

func get(t *testing.T, h http.Handler, target string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func checkAnswer(t *testing.T, path string, q url.Values, status int, body []byte) {
	t.Helper()
	if status == http.StatusOK {
		if !json.Valid(body) {
			t.Fatalf("GET %s?%s: 200 with a body that is not JSON: %q", path, q.Encode(), body)
		}
		return
	}
	if status < http.StatusBadRequest || status >= http.StatusInternalServerError {
		t.Fatalf("GET %s?%s: status %d, want 200 or a 4xx: %s", path, q.Encode(), status, body)
	}
	var e api.APIError
	if err := json.Unmarshal(body, &e); err != nil || e.Status != status || e.Code == "" || e.Message == "" {
		t.Fatalf("GET %s?%s: %d with a body not in the API's error shape: %s", path, q.Encode(), status, body)
	}
}

// FuzzComputeReport decodes arbitrary report bodies as a replica does for
// POST /api/v1/compute/nodes/{id}/executions and applies what it accepts to
// a state with executions in several states. A refused body is a 4xx; Apply
// never panics, refuses only with a 4xx-shaped error (a node's bad report
// must not look like a server fault), leaves the state untouched when it
// refuses, and leaves a state whose snapshot restores to the same digest.
func FuzzComputeReport(f *testing.F) {
	for _, seed := range []struct {
		node string
		body string
	}{
		{fsmtest.Node1, `{"Updates":[{"ExecutionID":"e-running","ComputeState":"Completed","Message":"ok","RunOutput":{"Stdout":"hi\n","ExitCode":0},"PublishedResult":{"Type":"local","Params":{"URL":"http://n/results/e-running.tar.gz"}}}]}`},
		{fsmtest.Node1, `{"Updates":[{"ExecutionID":"e-running","ComputeState":8,"Message":"failed"}]}`},
		{fsmtest.Node2, `{"Updates":[{"ExecutionID":"e-ask","ComputeState":"AskForBidAccepted"},{"ExecutionID":"e-ask","ComputeState":"BidAccepted"}]}`},
		{fsmtest.Node2, `{"Updates":[{"ExecutionID":"e-running","ComputeState":"Completed"}]}`},
		{fsmtest.Node1, `{"Updates":[{"ExecutionID":"e-done","ComputeState":"Failed"}]}`},
		{"n-missing", `{"Updates":[{"ExecutionID":"e-running","ComputeState":"Completed"}]}`},
		{fsmtest.Node1, `{"Updates":[{"ExecutionID":"","ComputeState":"Completed"}]}`},
		{fsmtest.Node1, `{"Updates":[{"ExecutionID":"e-running","ComputeState":-1}]}`},
		{fsmtest.Node1, `{"Updates":[{"ExecutionID":"e-running","ComputeState":"Bogus"}]}`},
		{fsmtest.Node1, `{"Updates":null}`},
		{fsmtest.Node1, `{}`},
		{fsmtest.Node1, ``},
		{fsmtest.Node1, `[1,2]`},
	} {
		f.Add(seed.node, []byte(seed.body))
	}
	seed := fsmtest.Seeded(f)
	base := seed.Snapshot(f)
	f.Fuzz(func(t *testing.T, nodeID string, body []byte) {
		cmd, err := decodeReport(nodeID, body, seed.Now())
		if err != nil {
			check4xx(t, err)
			return
		}
		m := fsmtest.New()
		if err := m.FSM.Restore(io.NopCloser(bytes.NewReader(base))); err != nil {
			t.Fatal(err)
		}
		m.Index = seed.Index
		before := m.Digest(t)
		r := m.Apply(t, cmd)
		if r.Err != nil {
			check4xx(t, mapWriteError(r.Err))
			if m.Digest(t) != before {
				t.Fatalf("a refused report (%v) changed the state", r.Err)
			}
			return
		}
		m.CheckRestores(t, "report "+string(body))
	})
}

func check4xx(t *testing.T, err error) {
	t.Helper()
	status, body := api.StatusFor(err)
	if status < http.StatusBadRequest || status >= http.StatusInternalServerError {
		t.Fatalf("error %v is answered %d, want a 4xx", err, status)
	}
	if body.Code == "" || body.Message == "" {
		t.Fatalf("error %v has body %+v, not the API's error shape", err, body)
	}
}
