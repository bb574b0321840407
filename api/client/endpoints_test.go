package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

func TestEndpoints(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		call   func(c *Client) (any, error)
		method string
		path   string
		query  map[string][]string
		body   string // JSON; "" means none
		reply  string
		want   any // decoded answer, when checked
	}{
		{"get job", func(c *Client) (any, error) {
			out, _, err := c.Jobs().Get(ctx, "j-1", GetJobOptions{Include: []string{"history", "executions"}, Linearizable: true})
			return out, err
		}, "GET", "/api/v1/orchestrator/jobs/j-1",
			map[string][]string{"include": {"history,executions"}, "consistency": {"linearizable"}}, "",
			`{"Job":{"ID":"j-1","State":{"StateType":"Running","Message":""}}}`,
			&api.GetJobResponse{Job: &api.Job{ID: "j-1", State: api.State[api.JobStateType]{StateType: api.JobStateTypeRunning}}}},
		{"get job escapes the ID", func(c *Client) (any, error) {
			_, _, err := c.Jobs().Get(ctx, "a b/c", GetJobOptions{})
			return nil, err
		}, "GET", "/api/v1/orchestrator/jobs/a%20b%2Fc", map[string][]string{}, "", "{}", nil},
		{"list jobs", func(c *Client) (any, error) {
			out, _, err := c.Jobs().List(ctx, ListJobsOptions{Namespace: "team", Labels: []string{"env=prod", "region in (eu,us)"},
				Limit: 3, NextToken: "tok", OrderBy: "id", Reverse: true, Linearizable: true})
			return out, err
		}, "GET", "/api/v1/orchestrator/jobs", map[string][]string{
			"namespace": {"team"}, "labels": {"env=prod", "region in (eu,us)"}, "limit": {"3"}, "next_token": {"tok"},
			"order_by": {"id"}, "reverse": {"true"}, "consistency": {"linearizable"},
		}, "", `{"Jobs":[{"ID":"j-1"}],"NextToken":"n"}`,
			&api.ListJobsResponse{Jobs: []*api.Job{{ID: "j-1"}}, NextToken: "n"}},
		{"list jobs without options", func(c *Client) (any, error) {
			_, _, err := c.Jobs().List(ctx, ListJobsOptions{})
			return nil, err
		}, "GET", "/api/v1/orchestrator/jobs", map[string][]string{}, "", "{}", nil},
		{"stop job", func(c *Client) (any, error) {
			out, _, err := c.Jobs().Stop(ctx, "j-1", "Stopped at user request")
			return out, err
		}, "DELETE", "/api/v1/orchestrator/jobs/j-1", map[string][]string{}, `{"reason":"Stopped at user request"}`,
			`{"EvaluationID":"e"}`, &api.StopJobResponse{EvaluationID: "e"}},
		{"history", func(c *Client) (any, error) {
			out, _, err := c.Jobs().History(ctx, "j-1", HistoryOptions{Since: 100, EventType: "execution", ExecutionID: "e-1",
				NodeID: "n-1", Limit: 5, NextToken: "t", WaitIndex: 42, WaitTime: 30 * time.Second})
			return out, err
		}, "GET", "/api/v1/orchestrator/jobs/j-1/history", map[string][]string{
			"since": {"100"}, "event_type": {"execution"}, "execution_id": {"e-1"}, "node_id": {"n-1"},
			"limit": {"5"}, "next_token": {"t"}, "index": {"42"}, "wait": {"30s"},
		}, "", `{"NextToken":"","History":[{"Type":"JobLevel","JobID":"j-1","NewRevision":1}]}`,
			&api.ListJobHistoryResponse{History: []*api.JobHistory{{Type: api.JobHistoryTypeJobLevel, JobID: "j-1", NewRevision: 1}}}},
		{"executions", func(c *Client) (any, error) {
			out, _, err := c.Jobs().Executions(ctx, "j-1", ExecutionsOptions{Limit: 2, NextToken: "t", OrderBy: "modify_time", Reverse: true})
			return out, err
		}, "GET", "/api/v1/orchestrator/jobs/j-1/executions", map[string][]string{
			"limit": {"2"}, "next_token": {"t"}, "order_by": {"modify_time"}, "reverse": {"true"},
		}, "", `{"Executions":[{"ID":"e-1","ComputeState":{"StateType":7,"Message":""}}]}`,
			&api.ListJobExecutionsResponse{Executions: []*api.Execution{{ID: "e-1",
				ComputeState: api.State[api.ExecutionStateType]{StateType: api.ExecutionStateCompleted}}}}},
		{"results", func(c *Client) (any, error) {
			out, _, err := c.Jobs().Results(ctx, "j-1")
			return out, err
		}, "GET", "/api/v1/orchestrator/jobs/j-1/results", map[string][]string{}, "",
			`{"Results":[{"Type":"urlDownload","Params":{"URL":"http://x"}}]}`,
			&api.ListJobResultsResponse{Results: []*api.SpecConfig{{Type: "urlDownload", Params: map[string]any{"URL": "http://x"}}}}},
		{"get node", func(c *Client) (any, error) {
			out, _, err := c.Nodes().Get(ctx, "n-1")
			return out, err
		}, "GET", "/api/v1/orchestrator/nodes/n-1", map[string][]string{}, "", `{"Node":{"NodeID":"n-1","NodeType":"Compute"}}`,
			&api.GetNodeResponse{Node: &api.NodeInfo{NodeID: "n-1", NodeType: api.NodeTypeCompute}}},
		{"list nodes", func(c *Client) (any, error) {
			_, _, err := c.Nodes().List(ctx, ListNodesOptions{Labels: []string{"Operating-System=linux"}, Limit: 2,
				NextToken: "t", OrderBy: "available_memory", Reverse: true})
			return nil, err
		}, "GET", "/api/v1/orchestrator/nodes", map[string][]string{
			"labels": {"Operating-System=linux"}, "limit": {"2"}, "next_token": {"t"}, "order_by": {"available_memory"}, "reverse": {"true"},
		}, "", "{}", nil},
		{"agent alive", func(c *Client) (any, error) {
			out, _, err := c.Agent().Alive(ctx)
			return out, err
		}, "GET", "/api/v1/agent/alive", map[string][]string{}, "", `{"Status":"OK"}`, &api.IsAliveResponse{Status: "OK"}},
		{"agent version", func(c *Client) (any, error) {
			out, _, err := c.Agent().Version(ctx)
			return out, err
		}, "GET", "/api/v1/agent/version", map[string][]string{}, "", `{"Major":"1","GitVersion":"v1.0.0","BuildDate":"2024-01-02T03:04:05Z"}`,
			&api.BuildVersionInfo{Major: "1", GitVersion: "v1.0.0", BuildDate: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{"agent node", func(c *Client) (any, error) {
			out, _, err := c.Agent().Node(ctx)
			return out, err
		}, "GET", "/api/v1/agent/node", map[string][]string{}, "", `{"NodeID":"o-1","NodeType":"Requester"}`,
			&api.NodeInfo{NodeID: "o-1", NodeType: api.NodeTypeRequester}},
		{"raft configuration", func(c *Client) (any, error) {
			out, _, err := c.Operator().Raft(ctx)
			return out, err
		}, "GET", "/api/v1/operator/raft", map[string][]string{}, "", `{"Leader":"a","Index":9,"Servers":[{"ID":"a","Address":"x:1","Voter":true,"Leader":true}]}`,
			&api.RaftConfigurationResponse{Leader: "a", Index: 9, Servers: []api.RaftServer{{ID: "a", Address: "x:1", Voter: true, Leader: true}}}},
		{"digest", func(c *Client) (any, error) {
			out, _, err := c.Operator().Digest(ctx)
			return out, err
		}, "GET", "/api/v1/operator/digest", map[string][]string{}, "", `{"Index":3,"Digest":"abc"}`, &api.DigestResponse{Index: 3, Digest: "abc"}},
		{"remove peer", func(c *Client) (any, error) {
			return nil, c.Operator().RemovePeer(ctx, "r3")
		}, "DELETE", "/api/v1/operator/raft/peers/r3", map[string][]string{}, "", "", nil},
		{"transfer leadership", func(c *Client) (any, error) {
			return nil, c.Operator().TransferLeadership(ctx, "r2")
		}, "POST", "/api/v1/operator/raft/transfer-leadership", map[string][]string{}, `{"ID":"r2"}`, "", nil},
		{"transfer leadership to any", func(c *Client) (any, error) {
			return nil, c.Operator().TransferLeadership(ctx, "")
		}, "POST", "/api/v1/operator/raft/transfer-leadership", map[string][]string{}, `{"ID":""}`, "", nil},
		{"register node", func(c *Client) (any, error) {
			return c.Compute().Register(ctx, &api.NodeInfo{NodeID: "c1", NodeType: api.NodeTypeCompute})
		}, "PUT", "/api/v1/compute/nodes/c1", map[string][]string{}, "",
			`{"Index":7}`, &api.RegisterNodeResponse{Index: 7}},
		{"watch executions", func(c *Client) (any, error) {
			return c.Compute().WatchExecutions(ctx, "c1", 12, 30*time.Second)
		}, "GET", "/api/v1/compute/nodes/c1/executions", map[string][]string{"index": {"12"}, "wait": {"30s"}}, "",
			`{"Index":13,"Executions":[{"Execution":{"ID":"e-1"},"Job":{"ID":"j-1"}}]}`,
			&api.NodeExecutionsResponse{Index: 13, Executions: []*api.AssignedExecution{{Execution: &api.Execution{ID: "e-1"}, Job: &api.Job{ID: "j-1"}}}}},
		{"watch executions from the start", func(c *Client) (any, error) {
			_, err := c.Compute().WatchExecutions(ctx, "c1", 0, 0)
			return nil, err
		}, "GET", "/api/v1/compute/nodes/c1/executions", map[string][]string{"index": {"0"}}, "", "{}", nil},
		{"report", func(c *Client) (any, error) {
			return c.Compute().Report(ctx, "c1", &api.UpdateExecutionsRequest{Updates: []api.ExecutionUpdate{
				{ExecutionID: "e-1", ComputeState: api.ExecutionStateCompleted, RunOutput: &api.RunCommandResult{STDOUT: "hi"}}}})
		}, "POST", "/api/v1/compute/nodes/c1/executions", map[string][]string{},
			`{"Updates":[{"ExecutionID":"e-1","ComputeState":7,"RunOutput":{"stdout":"hi","stdouttruncated":false,"stderr":"","stderrtruncated":false,"exitCode":0,"runnerError":""}}]}`,
			`{"Index":8}`, &api.UpdateExecutionsResponse{Index: 8}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				w.Header().Set(api.HeaderIndex, "17")
				_, _ = w.Write([]byte(tc.reply))
			})
			c := newClient(t, []string{srv.URL})
			got, err := tc.call(c)
			if err != nil {
				t.Fatal(err)
			}
			req := srv.last(t)
			if req.Method != tc.method || req.Path != tc.path {
				t.Errorf("request %s %s, want %s %s", req.Method, req.Path, tc.method, tc.path)
			}
			if !reflect.DeepEqual(req.Query, tc.query) {
				t.Errorf("query %v, want %v", req.Query, tc.query)
			}
			if tc.body != "" {
				assertJSON(t, req.Body, tc.body)
			} else if tc.method == "GET" && len(req.Body) != 0 {
				t.Errorf("GET with a body: %s", req.Body)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				gotJSON, _ := json.Marshal(got)
				wantJSON, _ := json.Marshal(tc.want)
				t.Errorf("answer\n%s\nwant\n%s", gotJSON, wantJSON)
			}
		})
	}
}

func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body %s, want %s", got, want)
	}
}

func TestRegisterSendsTheNode(t *testing.T) {
	srv := newRecorder(t, nil)
	c := newClient(t, []string{srv.URL})
	node := &api.NodeInfo{NodeID: "c1", NodeType: api.NodeTypeCompute, Labels: map[string]string{"a": "b"}}
	if _, err := c.Compute().Register(context.Background(), node); err != nil {
		t.Fatal(err)
	}
	var got api.RegisterNodeRequest
	if err := json.Unmarshal(srv.last(t).Body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Node == nil || got.Node.NodeID != "c1" || got.Node.Labels["a"] != "b" {
		t.Errorf("registered %+v", got.Node)
	}
}

func TestPutFillsTheIdempotencyToken(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set(api.HeaderIndex, "5")
		_, _ = w.Write([]byte(`{"JobID":"j-1","EvaluationID":"ev","Warnings":["w"]}`))
	})
	c := newClient(t, []string{srv.URL})
	cases := []struct {
		name  string
		token string
	}{{"generated", ""}, {"kept", "my-token"}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := &api.PutJobRequest{Job: sampleJob(), IdempotencyToken: tc.token}
			out, meta, err := c.Jobs().Put(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if out.JobID != "j-1" || out.EvaluationID != "ev" || len(out.Warnings) != 1 {
				t.Errorf("answer %+v", out)
			}
			if meta.Index != 5 || meta.Host != srv.URL {
				t.Errorf("meta %+v", meta)
			}
			got := srv.last(t)
			if got.Method != "PUT" || got.Path != "/api/v1/orchestrator/jobs" {
				t.Errorf("request %s %s", got.Method, got.Path)
			}
			var sent api.PutJobRequest
			if err := json.Unmarshal(got.Body, &sent); err != nil {
				t.Fatal(err)
			}
			if sent.IdempotencyToken == "" || sent.IdempotencyToken != req.IdempotencyToken {
				t.Errorf("token sent %q, request holds %q", sent.IdempotencyToken, req.IdempotencyToken)
			}
			if tc.token != "" && sent.IdempotencyToken != tc.token {
				t.Errorf("caller's token replaced by %q", sent.IdempotencyToken)
			}
			if sent.Job == nil || sent.Job.Name != "x" {
				t.Errorf("job sent %+v", sent.Job)
			}
		})
	}
}

func TestLocalRefusals(t *testing.T) {
	srv := newRecorder(t, nil)
	c := newClient(t, []string{srv.URL})
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
	}{
		{"put nil", func() error { _, _, err := c.Jobs().Put(ctx, nil); return err }},
		{"put without job", func() error { _, _, err := c.Jobs().Put(ctx, &api.PutJobRequest{}); return err }},
		{"get empty ID", func() error { _, _, err := c.Jobs().Get(ctx, "", GetJobOptions{}); return err }},
		{"stop blank ID", func() error { _, _, err := c.Jobs().Stop(ctx, " ", ""); return err }},
		{"history empty ID", func() error { _, _, err := c.Jobs().History(ctx, "", HistoryOptions{}); return err }},
		{"executions empty ID", func() error { _, _, err := c.Jobs().Executions(ctx, "", ExecutionsOptions{}); return err }},
		{"results empty ID", func() error { _, _, err := c.Jobs().Results(ctx, ""); return err }},
		{"node empty ID", func() error { _, _, err := c.Nodes().Get(ctx, ""); return err }},
		{"remove empty peer", func() error { return c.Operator().RemovePeer(ctx, "") }},
		{"restore nil", func() error { return c.Operator().SnapshotRestore(ctx, nil) }},
		{"register nil", func() error { _, err := c.Compute().Register(ctx, nil); return err }},
		{"register without ID", func() error { _, err := c.Compute().Register(ctx, &api.NodeInfo{}); return err }},
		{"watch without ID", func() error { _, err := c.Compute().WatchExecutions(ctx, "", 0, 0); return err }},
		{"report nil", func() error { _, err := c.Compute().Report(ctx, "c1", nil); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, api.ErrBadRequest) {
				t.Errorf("error %v, want ErrBadRequest", err)
			}
		})
	}
	if n := srv.count(); n != 0 {
		t.Errorf("%d requests sent for calls refused locally", n)
	}
}

func TestSnapshot(t *testing.T) {
	snapshot := bytes.Repeat([]byte{0, 1, 2, 255}, 1<<16)
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set(api.HeaderIndex, "99")
			_, _ = w.Write(snapshot)
		}
	})
	c := newClient(t, []string{deadHost(t), srv.URL})
	var buf bytes.Buffer
	meta, err := c.Operator().SnapshotSave(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), snapshot) || meta.Index != 99 {
		t.Fatalf("saved %d bytes at index %d", buf.Len(), meta.Index)
	}
	if got := srv.last(t); got.Path != "/api/v1/operator/snapshot" {
		t.Errorf("path %s", got.Path)
	}

	// A restore goes to the next host when the first cannot be reached:
	// nothing of the snapshot was read yet.
	c = newClient(t, []string{deadHost(t), srv.URL})
	if err := c.Operator().SnapshotRestore(context.Background(), bytes.NewReader(snapshot)); err != nil {
		t.Fatal(err)
	}
	got := srv.last(t)
	if got.Method != http.MethodPut || got.Path != "/api/v1/operator/snapshot" || !bytes.Equal(got.Body, snapshot) {
		t.Errorf("restore sent %s %s with %d bytes", got.Method, got.Path, len(got.Body))
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("content type %q", ct)
	}
}

func TestHeaders(t *testing.T) {
	srv := newRecorder(t, nil)
	c := newClient(t, []string{srv.URL}, WithToken("secret"), WithUserAgent("shoal-cli/1"), WithHeader("X-Extra", "1"))
	if _, _, err := c.Jobs().Stop(context.Background(), "j-1", "why"); err != nil {
		t.Fatal(err)
	}
	h := srv.last(t).Header
	for key, want := range map[string]string{
		"Authorization": "Bearer secret",
		"User-Agent":    "shoal-cli/1",
		"X-Extra":       "1",
		"Content-Type":  "application/json",
		"Accept":        "application/json",
	} {
		if got := h.Get(key); got != want {
			t.Errorf("%s: %q, want %q", key, got, want)
		}
	}

	c = newClient(t, []string{srv.URL})
	if _, _, err := c.Agent().Alive(context.Background()); err != nil {
		t.Fatal(err)
	}
	h = srv.last(t).Header
	if h.Get("Authorization") != "" || !strings.HasPrefix(h.Get("User-Agent"), "shoal") {
		t.Errorf("default headers %v", h)
	}
}

// A pass the server answers in parts is asked for until it is done.
func TestJobGCAsksUntilDone(t *testing.T) {
	tests := []struct {
		name    string
		answers []string
		want    int
		calls   int
	}{
		{"one part", []string{`{"JobsRemoved":3,"Index":7}`}, 3, 1},
		{"three parts", []string{`{"JobsRemoved":500,"More":true,"Index":7}`, `{"JobsRemoved":500,"More":true,"Index":8}`, `{"JobsRemoved":2,"Index":9}`}, 1002, 3},
		// More with nothing removed (every job scanned still running) ends
		// the loop instead of spinning.
		{"no progress", []string{`{"JobsRemoved":0,"More":true,"Index":7}`, `{"JobsRemoved":1,"Index":8}`}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				_, _ = w.Write([]byte(tt.answers[min(calls, len(tt.answers)-1)]))
				calls++
			})
			c := newClient(t, []string{srv.URL})
			out, _, err := c.Operator().JobGC(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if out.JobsRemoved != tt.want || calls != tt.calls || out.More {
				t.Fatalf("removed %d in %d calls (more %t), want %d in %d", out.JobsRemoved, calls, out.More, tt.want, tt.calls)
			}
			var sent api.JobGCRequest
			if err := json.Unmarshal(srv.last(t).Body, &sent); err != nil || sent.Age != "0s" {
				t.Fatalf("sent %+v (%v), want age 0s", sent, err)
			}
		})
	}
}
