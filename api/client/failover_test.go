package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

func TestErrorDecoding(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		header   map[string]string
		sentinel error
		want     api.APIError
	}{
		{"not found", 404, `{"Status":404,"Message":"job not found: j-1","RequestID":"r1","Code":"NotFound","Component":"JobStore"}`, nil,
			api.ErrNotFound, api.APIError{Status: 404, Message: "job not found: j-1", RequestID: "r1", Code: "NotFound", Component: "JobStore"}},
		{"validation", 400, `{"Status":400,"Message":"missing job type","Code":"ValidationError","Component":"Validation"}`, nil,
			api.ErrBadRequest, api.APIError{Status: 400, Message: "missing job type", Code: "ValidationError", Component: "Validation"}},
		{"ambiguous", 400, `{"Status":400,"Message":"multiple jobs","Code":"MultipleJobsFound","Hint":"use the full job ID"}`, nil,
			api.ErrAmbiguousID, api.APIError{Status: 400, Message: "multiple jobs", Code: "MultipleJobsFound", Hint: "use the full job ID"}},
		{"conflict", 409, `{"Status":409,"Message":"job already exists: j-1","Code":"ResourceInUse"}`, nil,
			api.ErrConflict, api.APIError{Status: 409, Message: "job already exists: j-1", Code: "ResourceInUse"}},
		{"too large", 413, `{"Status":413,"Message":"too big","Code":"RequestTooLarge"}`, nil,
			api.ErrTooLarge, api.APIError{Status: 413, Message: "too big", Code: "RequestTooLarge"}},
		{"unauthorized", 401, `{"Status":401,"Message":"invalid token","Code":"Unauthorized"}`, nil,
			api.ErrUnauthorized, api.APIError{Status: 401, Message: "invalid token", Code: "Unauthorized"}},
		{"body status ignored for the real one", 404, `{"Status":500,"Message":"gone","Code":"NotFound"}`, nil,
			api.ErrNotFound, api.APIError{Status: 404, Message: "gone", Code: "NotFound"}},
		{"plain text", 500, "oops\n", map[string]string{"X-Request-Id": "r9"},
			nil, api.APIError{Status: 500, Message: "oops", RequestID: "r9"}},
		{"empty body", 404, "", nil,
			api.ErrNotFound, api.APIError{Status: 404, Message: "Not Found"}},
		{"upstream body", 500, `{"error":"Job not found. ID: j-0","message":"Internal Server Error"}`, nil,
			nil, api.APIError{Status: 500, Message: "Job not found. ID: j-0"}},
		{"upstream 400", 400, `{"message":"invalid order_by","error":"code=400, message=invalid order_by"}`, nil,
			api.ErrBadRequest, api.APIError{Status: 400, Message: "code=400, message=invalid order_by"}},
		{"JSON string", 410, `"the requester API is gone"`, nil,
			nil, api.APIError{Status: 410, Message: `"the requester API is gone"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			})
			c := newClient(t, []string{srv.URL})
			_, meta, err := c.Jobs().Get(context.Background(), "j-1", GetJobOptions{})
			var apiErr *api.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %T %v is not an *api.APIError", err, err)
			}
			if *apiErr != tc.want {
				t.Errorf("error %+v, want %+v", *apiErr, tc.want)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error does not unwrap to %v", tc.sentinel)
			}
			if meta == nil || meta.Host != srv.URL {
				t.Errorf("meta %+v", meta)
			}
		})
	}
}

// A replica that refuses connections is skipped, and the client sticks to
// the one that answered.
func TestFailoverOnConnectionRefused(t *testing.T) {
	good := newRecorder(t, nil)
	dead := deadHost(t)
	c := newClient(t, []string{dead, good.URL})
	for i := range 3 {
		_, meta, err := c.Jobs().List(context.Background(), ListJobsOptions{})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if meta.Host != good.URL {
			t.Fatalf("answered by %s", meta.Host)
		}
	}
	// A create without a token never reached the dead host: safe to send on.
	if _, err := c.Do(context.Background(), http.MethodPut, "/api/v1/orchestrator/jobs", nil,
		&api.PutJobRequest{Job: sampleJob()}, nil); err != nil {
		t.Fatal(err)
	}
	if n := good.count(); n != 4 {
		t.Errorf("good host got %d requests, want 4", n)
	}
}

func TestAllHostsDown(t *testing.T) {
	c := newClient(t, []string{deadHost(t), deadHost(t)})
	_, _, err := c.Jobs().List(context.Background(), ListJobsOptions{})
	var reqErr *RequestError
	if !errors.As(err, &reqErr) {
		t.Fatalf("error %T %v", err, err)
	}
	if !errors.Is(err, api.ErrUnavailable) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v does not say unavailable and refused", err)
	}
	if errors.Is(err, api.ErrOutcomeUnknown) {
		t.Errorf("a refused request has a known outcome")
	}
}

func TestFailoverOnNoLeader(t *testing.T) {
	cases := []struct {
		name     string
		code     string
		idem     bool // the request is repeatable
		failover bool
	}{
		{"no leader, create without token", api.CodeNoLeader, false, true},
		{"unavailable, create without token", api.CodeServiceUnavailable, false, true},
		{"outcome unknown, create without token", api.CodeOutcomeUnknown, false, false},
		{"outcome unknown, create with token", api.CodeOutcomeUnknown, true, true},
		{"other 503, create without token", "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := newRecorder(t, answerError(http.StatusServiceUnavailable, tc.code))
			second := newRecorder(t, nil)
			c := newClient(t, []string{first.URL, second.URL})
			req := &api.PutJobRequest{Job: sampleJob()}
			if tc.idem {
				req.IdempotencyToken = "t"
			}
			meta, err := c.Do(context.Background(), http.MethodPut, "/api/v1/orchestrator/jobs", nil, req, nil)
			if tc.failover {
				if err != nil || meta.Host != second.URL {
					t.Fatalf("no failover: %v", err)
				}
				// The next call goes straight to the replica that answered.
				if _, _, err := c.Jobs().List(context.Background(), ListJobsOptions{}); err != nil {
					t.Fatal(err)
				}
				if first.count() != 1 || second.count() != 2 {
					t.Errorf("requests: first %d, second %d", first.count(), second.count())
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, api.ErrUnavailable) && !errors.Is(err, api.ErrOutcomeUnknown) {
				t.Errorf("error %v", err)
			}
			if second.count() != 0 {
				t.Errorf("request repeated on the second host")
			}
		})
	}
}

// A create whose outcome is unknown is never repeated without a token: it
// could create the job twice. With the token Put fills in, it is.
func TestNoRetryOfTokenlessCreate(t *testing.T) {
	first := newRecorder(t, hangUp)
	second := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		_, _ = io.WriteString(w, `{"JobID":"j-1","EvaluationID":"ev"}`)
	})
	c := newClient(t, []string{first.URL, second.URL})

	_, err := c.Do(context.Background(), http.MethodPut, "/api/v1/orchestrator/jobs", nil,
		&api.PutJobRequest{Job: sampleJob()}, nil)
	if !errors.Is(err, api.ErrOutcomeUnknown) {
		t.Fatalf("error %v, want ErrOutcomeUnknown", err)
	}
	var reqErr *RequestError
	if !errors.As(err, &reqErr) || !reqErr.OutcomeUnknown || reqErr.Host != first.URL {
		t.Errorf("error %#v", err)
	}
	if first.count() != 1 || second.count() != 0 {
		t.Fatalf("requests: first %d, second %d", first.count(), second.count())
	}

	req := &api.PutJobRequest{Job: sampleJob()}
	out, meta, err := c.Jobs().Put(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if out.JobID != "j-1" || meta.Host != second.URL {
		t.Errorf("answer %+v from %s", out, meta.Host)
	}
	var onFirst, onSecond api.PutJobRequest
	_ = json.Unmarshal(first.last(t).Body, &onFirst)
	_ = json.Unmarshal(second.last(t).Body, &onSecond)
	if onFirst.IdempotencyToken == "" || onFirst.IdempotencyToken != onSecond.IdempotencyToken || onSecond.IdempotencyToken != req.IdempotencyToken {
		t.Errorf("tokens: first %q, second %q, request %q", onFirst.IdempotencyToken, onSecond.IdempotencyToken, req.IdempotencyToken)
	}
}

func TestIdempotentCallsRetriedAfterUnknownOutcome(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		call func(c *Client) error
	}{
		{"get", func(c *Client) error { _, _, err := c.Jobs().Get(ctx, "j-1", GetJobOptions{}); return err }},
		{"stop", func(c *Client) error { _, _, err := c.Jobs().Stop(ctx, "j-1", ""); return err }},
		{"report", func(c *Client) error {
			_, err := c.Compute().Report(ctx, "c1", &api.UpdateExecutionsRequest{})
			return err
		}},
		{"register", func(c *Client) error {
			_, err := c.Compute().Register(ctx, &api.NodeInfo{NodeID: "c1"})
			return err
		}},
		{"do delete job", func(c *Client) error {
			_, err := c.Do(ctx, "delete", "/api/v1/orchestrator/jobs/j-1", nil, nil, nil)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := newRecorder(t, hangUp)
			second := newRecorder(t, nil)
			c := newClient(t, []string{first.URL, second.URL})
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			if first.count() == 0 || second.count() != 1 {
				t.Errorf("requests: first %d, second %d", first.count(), second.count())
			}
		})
	}
}

func TestNonIdempotentCallsNotRetried(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		call func(c *Client) error
	}{
		{"transfer leadership", func(c *Client) error { return c.Operator().TransferLeadership(ctx, "") }},
		{"remove peer", func(c *Client) error { return c.Operator().RemovePeer(ctx, "r1") }},
		{"do post", func(c *Client) error {
			_, err := c.Do(ctx, "POST", "/api/v1/other", nil, map[string]int{"a": 1}, nil)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first := newRecorder(t, hangUp)
			second := newRecorder(t, nil)
			c := newClient(t, []string{first.URL, second.URL})
			if err := tc.call(c); !errors.Is(err, api.ErrOutcomeUnknown) {
				t.Fatalf("error %v, want ErrOutcomeUnknown", err)
			}
			if second.count() != 0 {
				t.Errorf("request repeated on the second host")
			}
		})
	}
}

func TestCanceledContextStopsFailover(t *testing.T) {
	release := make(chan struct{})
	first := newRecorder(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	second := newRecorder(t, nil)
	c := newClient(t, []string{first.URL, second.URL})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for first.count() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, _, err := c.Jobs().List(ctx, ListJobsOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if second.count() != 0 {
		t.Errorf("request went on to the second host after the caller gave up")
	}
}

// deadlineTransport records the deadline of each request instead of sending
// it.
type deadlineTransport struct {
	deadlines []time.Duration
}

func (d *deadlineTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	left := time.Duration(-1)
	if dl, ok := r.Context().Deadline(); ok {
		left = time.Until(dl)
	}
	d.deadlines = append(d.deadlines, left)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(`{}`)), Header: http.Header{}, Request: r}, nil
}

func TestBlockingQueriesOutliveTheTimeout(t *testing.T) {
	rt := &deadlineTransport{}
	c := newClient(t, []string{"h:1"}, WithTimeout(time.Second), WithHTTPClient(&http.Client{Transport: rt, Timeout: 2 * time.Second}))
	if _, err := c.Compute().WatchExecutions(context.Background(), "c1", 3, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Jobs().History(context.Background(), "j-1", HistoryOptions{WaitIndex: 3, WaitTime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Jobs().List(context.Background(), ListJobsOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(rt.deadlines) != 3 {
		t.Fatalf("%d requests", len(rt.deadlines))
	}
	for i, left := range rt.deadlines[:2] {
		if left <= time.Minute {
			t.Errorf("blocking query %d may last %v, less than its wait", i, left)
		}
	}
	if left := rt.deadlines[2]; left < 0 || left > time.Second {
		t.Errorf("plain query may last %v, want at most the timeout", left)
	}
}

func TestBlockingQueryAgainstAServer(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		time.Sleep(300 * time.Millisecond) // longer than the client's timeout
		_, _ = io.WriteString(w, `{"Index":4}`)
	})
	c := newClient(t, []string{srv.URL}, WithTimeout(50*time.Millisecond))
	out, err := c.Compute().WatchExecutions(context.Background(), "c1", 3, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if out.Index != 4 {
		t.Errorf("index %d", out.Index)
	}
}

func TestHostsFunc(t *testing.T) {
	static := newRecorder(t, nil)
	dynamic := newRecorder(t, nil)
	var list []string
	c := newClient(t, []string{static.URL}, WithHostsFunc(func() []string { return list }))

	list = []string{"::bad::", strings.TrimPrefix(dynamic.URL, "http://")}
	if _, meta, err := c.Agent().Alive(context.Background()); err != nil || meta.Host != dynamic.URL {
		t.Fatalf("answered by %v: %v", meta, err)
	}
	list = nil // nothing known: back to the hosts given to New
	if _, meta, err := c.Agent().Alive(context.Background()); err != nil || meta.Host != static.URL {
		t.Fatalf("answered by %v: %v", meta, err)
	}

	onlyDynamic := newClient(t, nil, WithHostsFunc(func() []string { return nil }))
	if _, _, err := onlyDynamic.Agent().Alive(context.Background()); !errors.Is(err, api.ErrUnavailable) {
		t.Errorf("no hosts: %v", err)
	}
}

func TestNormalizeHost(t *testing.T) {
	cases := []struct{ in, want string }{
		{"127.0.0.1:1234", "http://127.0.0.1:1234"},
		{" localhost:1234 ", "http://localhost:1234"},
		{"http://10.0.0.1:1234/", "http://10.0.0.1:1234"},
		{"https://shoal.example.com", "https://shoal.example.com"},
		{"http://proxy/shoal/", "http://proxy/shoal"},
		{"0.0.0.0:1234", "http://127.0.0.1:1234"},
		{"[::]:1234", "http://[::1]:1234"},
		{"", ""},
		{"ftp://x:1", ""},
		{"http://", ""},
		{"http://:1234", ""},
	}
	for _, tc := range cases {
		got, err := NormalizeHost(tc.in)
		if tc.want == "" {
			if err == nil || !errors.Is(err, api.ErrBadRequest) {
				t.Errorf("NormalizeHost(%q) = %q, %v; want an error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeHost(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(nil); !errors.Is(err, api.ErrBadRequest) {
		t.Errorf("no hosts: %v", err)
	}
	if _, err := New([]string{"ok:1", "ftp://bad"}); !errors.Is(err, api.ErrBadRequest) {
		t.Errorf("bad host: %v", err)
	}
}

func TestDo(t *testing.T) {
	srv := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set(api.HeaderIndex, "11")
		_, _ = w.Write(body) // echo
	})
	c := newClient(t, []string{srv.URL})
	ctx := context.Background()

	var out map[string]int
	meta, err := c.Do(ctx, "post", "/x", map[string][]string{"a": {"1"}}, map[string]int{"n": 2}, &out)
	if err != nil || out["n"] != 2 || meta.Index != 11 {
		t.Fatalf("JSON round trip: %v %v %+v", out, err, meta)
	}
	if got := srv.last(t); got.Method != "POST" || got.Path != "/x" || got.Query["a"][0] != "1" {
		t.Errorf("request %+v", got)
	}

	var raw strings.Builder
	if _, err := c.Do(ctx, "PUT", "/raw", nil, []byte(`{"not":"decoded"`), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.String() != `{"not":"decoded"` {
		t.Errorf("raw answer %q", raw.String())
	}

	var bad map[string]int
	if _, err := c.Do(ctx, "PUT", "/raw", nil, []byte(`nope`), &bad); err == nil {
		t.Error("an undecodable answer is not an error")
	}
}
