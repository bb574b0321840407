package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/shoal-io/shoal/api"
)

// Target is a replica the workload can send requests to.
type Target struct {
	Name string
	URL  string // base URL, http://host:port
}

// DefaultAttemptTimeout bounds one request when Client.Timeout is zero. It
// is longer than a replica's default --leader-wait (10s), so a replica
// without a leader answers 503 NoLeader before the client gives up.
const DefaultAttemptTimeout = 20 * time.Second

// Client sends operations and records each one. Clients are cheap; give
// every concurrent worker its own ID so the history says who did what.
type Client struct {
	ID      int
	Rec     *Recorder
	HTTP    *http.Client  // default: a shared keep-alive client
	Timeout time.Duration // per attempt; DefaultAttemptTimeout when zero
}

var sharedHTTP = &http.Client{Transport: &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	MaxIdleConns:        256,
	MaxIdleConnsPerHost: 64,
	IdleConnTimeout:     30 * time.Second,
}}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return sharedHTTP
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultAttemptTimeout
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// sentError is a transport error after the request was written at least
// once. Go's transport replays a request that carries an Idempotency-Key
// when a kept-alive connection breaks, so the error it finally returns
// (a refused dial, say) can hide an attempt that reached the server.
type sentError struct{ err error }

func (e *sentError) Error() string { return e.err.Error() + " (after the request was sent)" }
func (e *sentError) Unwrap() error { return e.err }

func (c *Client) do(ctx context.Context, t Target, method, path string, body []byte, header http.Header) (a *answer, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	})
	defer func() {
		if err != nil && wrote.Load() {
			err = &sentError{err}
		}
	}()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.URL+path, rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// record fills in the answer; the caller decodes the body and adds the op.
func (c *Client) record(op Op, a *answer, err error) Op {
	op.Return = time.Now()
	if err != nil {
		op.Outcome, _ = Classify(0, nil, err)
		op.Err = err.Error()
		return op
	}
	op.Status = a.status
	op.Outcome, op.Code = Classify(a.status, a.body, nil)
	op.Index, _ = strconv.ParseUint(a.header.Get(api.HeaderIndex), 10, 64)
	if op.Outcome != OK {
		var e api.APIError
		if json.Unmarshal(a.body, &e) == nil && e.Message != "" {
			op.Err = e.Message
		} else {
			op.Err = truncate(a.body)
		}
	}
	return op
}

// Create sends one create attempt with the idempotency token in the body
// and the Idempotency-Key header.
func (c *Client) Create(ctx context.Context, t Target, token string, job *api.Job, attempt int) Op {
	return c.create(ctx, t, token, job, attempt, true)
}

// CreateWithoutToken sends one create attempt with no idempotency token;
// token only names the job in the history (and its label). Such a create
// must not be retried once its outcome is unknown.
func (c *Client) CreateWithoutToken(ctx context.Context, t Target, token string, job *api.Job, attempt int) Op {
	return c.create(ctx, t, token, job, attempt, false)
}

func (c *Client) create(ctx context.Context, t Target, token string, job *api.Job, attempt int, idempotent bool) Op {
	op := Op{Client: c.ID, Kind: KindCreate, Target: t.Name, Token: token, Attempt: attempt, NoToken: !idempotent}
	req := &api.PutJobRequest{Job: job}
	header := http.Header{}
	if idempotent {
		req.IdempotencyToken = token
		header.Set("Idempotency-Key", token)
	}
	body, err := json.Marshal(req)
	if err != nil {
		op.Call, op.Return, op.Outcome, op.Err = time.Now(), time.Now(), Failed, err.Error()
		return c.Rec.Add(op)
	}
	op.Call = time.Now()
	a, err := c.do(ctx, t, http.MethodPut, "/api/v1/orchestrator/jobs", body, header)
	op = c.record(op, a, err)
	if err == nil && op.Outcome == OK {
		var out api.PutJobResponse
		if jerr := json.Unmarshal(a.body, &out); jerr != nil || out.JobID == "" {
			// An acknowledgement without a job ID is a product bug; keep it
			// visible rather than guessing.
			op.Err = fmt.Sprintf("create answered %d without a job ID: %s", a.status, truncate(a.body))
		}
		op.JobID = out.JobID
	}
	return c.Rec.Add(op)
}

// CreateUntilDone sends a create, with the same token, until it is
// acknowledged, refused with a 4xx, or ctx ends. Attempts go to the targets
// in turn starting at first, as a client with several addresses does when
// one does not answer. It returns the last attempt.
func (c *Client) CreateUntilDone(ctx context.Context, targets func() []Target, first int, token string, job *api.Job) Op {
	return c.createUntilDone(ctx, targets, first, token, job, true)
}

// CreateWithoutTokenUntilDone is CreateUntilDone without an idempotency
// token, as a careful client without one must behave: it retries only what
// certainly failed, and gives up once an outcome is unknown.
func (c *Client) CreateWithoutTokenUntilDone(ctx context.Context, targets func() []Target, first int, token string, job *api.Job) Op {
	return c.createUntilDone(ctx, targets, first, token, job, false)
}

func (c *Client) createUntilDone(ctx context.Context, targets func() []Target, first int, token string, job *api.Job, idempotent bool) Op {
	var last Op
	for attempt := 1; ; attempt++ {
		ts := targets()
		if len(ts) == 0 {
			last = Op{Client: c.ID, Kind: KindCreate, Token: token, Call: time.Now(), Return: time.Now(),
				Outcome: Failed, Err: "no target"}
		} else {
			last = c.create(ctx, ts[(first+attempt-1)%len(ts)], token, job, attempt, idempotent)
		}
		if last.Outcome == OK || (last.Status >= 400 && last.Status < 500) || (!idempotent && last.Outcome == Unknown) {
			return last
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(backoff(attempt)):
		}
	}
}

func backoff(attempt int) time.Duration {
	return min(50*time.Millisecond<<min(attempt, 4), 500*time.Millisecond)
}

// Stop sends DELETE /jobs/:id. A 404 is recorded as Failed with Status 404
// and Found false: it says the job did not exist.
func (c *Client) Stop(ctx context.Context, t Target, token, jobID string) Op {
	op := Op{Client: c.ID, Kind: KindStop, Target: t.Name, Token: token, JobID: jobID, Call: time.Now()}
	body := []byte(`{"reason":"workload stop"}`)
	a, err := c.do(ctx, t, http.MethodDelete, "/api/v1/orchestrator/jobs/"+url.PathEscape(jobID), body, nil)
	op = c.record(op, a, err)
	op.Found = op.Outcome == OK
	return c.Rec.Add(op)
}

// Describe sends GET /jobs/:id, with consistency=linearizable when asked. A
// 404 is an answer (OK, Found false), not a failure.
func (c *Client) Describe(ctx context.Context, t Target, token, jobID string, linearizable bool) Op {
	op := Op{Client: c.ID, Kind: KindDescribe, Target: t.Name, Token: token, JobID: jobID, Linearizable: linearizable}
	path := "/api/v1/orchestrator/jobs/" + url.PathEscape(jobID)
	if linearizable {
		path += "?" + api.QueryConsistency + "=" + api.ConsistencyLinearizable
	}
	op.Call = time.Now()
	a, err := c.do(ctx, t, http.MethodGet, path, nil, nil)
	op = c.record(op, a, err)
	if err != nil {
		return c.Rec.Add(op)
	}
	switch {
	case op.Outcome == OK:
		var out api.GetJobResponse
		if jerr := json.Unmarshal(a.body, &out); jerr != nil || out.Job == nil {
			op.Outcome, op.Err = Unknown, fmt.Sprintf("undecodable describe answer: %s", truncate(a.body))
			break
		}
		op.Found, op.JobState = true, out.Job.State.StateType
	case a.status == http.StatusNotFound && op.Code == api.CodeNotFound:
		op.Outcome, op.Found, op.Err = OK, false, ""
	}
	return c.Rec.Add(op)
}

// GetJSON reads a path from a target into out, unrecorded (for checks after
// the run). A non-2xx answer is an *api.APIError.
func GetJSON(ctx context.Context, t Target, path string, out any) (uint64, error) {
	c := &Client{Rec: NewRecorder()}
	a, err := c.do(ctx, t, http.MethodGet, path, nil, nil)
	if err != nil {
		return 0, err
	}
	index, _ := strconv.ParseUint(a.header.Get(api.HeaderIndex), 10, 64)
	if a.status != http.StatusOK {
		e := &api.APIError{Status: a.status}
		_ = json.Unmarshal(a.body, e)
		if e.Message == "" {
			e.Message = fmt.Sprintf("GET %s on %s: %d %s", path, t.Name, a.status, truncate(a.body))
		}
		return index, e
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return index, fmt.Errorf("decode GET %s on %s: %w", path, t.Name, err)
	}
	return index, nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
