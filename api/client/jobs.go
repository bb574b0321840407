package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-io/shoal/api"
)

// API paths.
const (
	jobsPath         = "/api/v1/orchestrator/jobs"
	nodesPath        = "/api/v1/orchestrator/nodes"
	agentPath        = "/api/v1/agent"
	operatorPath     = "/api/v1/operator"
	computeNodesPath = "/api/v1/compute/nodes"
)

// JobsAPI submits, reads and stops jobs.
type JobsAPI struct{ c *Client }

// Put submits a job (PUT /api/v1/orchestrator/jobs). When req carries no
// IdempotencyToken, Put sets a random one on req before sending, so that a
// retry on another replica after an unknown outcome never creates the job
// twice, and a caller that retries with the same req is just as safe.
func (a *JobsAPI) Put(ctx context.Context, req *api.PutJobRequest) (*api.PutJobResponse, *Meta, error) {
	if req == nil || req.Job == nil {
		return nil, nil, api.BadRequestf("missing job")
	}
	if req.IdempotencyToken == "" {
		req.IdempotencyToken = uuid.NewString()
	}
	var out api.PutJobResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodPut, path: jobsPath, json: req, idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// GetJobOptions tunes Get.
type GetJobOptions struct {
	// Include names what to return with the job: "history", "executions".
	Include []string
	// Linearizable reads only after the replica has applied everything the
	// leader committed.
	Linearizable bool
	// WaitIndex and WaitTime make a blocking query: the answer comes once
	// the job, its executions or its history changed after WaitIndex, or
	// after WaitTime.
	WaitIndex uint64
	WaitTime  time.Duration
}

// Get describes a job by full ID or unique prefix
// (GET /api/v1/orchestrator/jobs/:id).
func (a *JobsAPI) Get(ctx context.Context, id string, opts GetJobOptions) (*api.GetJobResponse, *Meta, error) {
	path, err := jobPath(id, "")
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if len(opts.Include) > 0 {
		q.Set("include", strings.Join(opts.Include, ","))
	}
	linearizable(q, opts.Linearizable)
	blocking(q, opts.WaitIndex, opts.WaitTime)
	var out api.GetJobResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: path, query: q, idempotent: true, wait: opts.WaitTime}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// ListJobsOptions filters and pages a job list.
type ListJobsOptions struct {
	Namespace    string   // "" or "*": every namespace
	Labels       []string // label selectors, all of which must match
	Limit        int      // 0: the server's default
	NextToken    string
	OrderBy      string // "create_time" (default), "modify_time", "id"
	Reverse      bool
	Linearizable bool
}

// List lists jobs (GET /api/v1/orchestrator/jobs).
func (a *JobsAPI) List(ctx context.Context, opts ListJobsOptions) (*api.ListJobsResponse, *Meta, error) {
	q := url.Values{}
	setString(q, "namespace", opts.Namespace)
	for _, l := range opts.Labels {
		q.Add("labels", l)
	}
	setPaging(q, opts.Limit, opts.NextToken, opts.OrderBy, opts.Reverse)
	linearizable(q, opts.Linearizable)
	var out api.ListJobsResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: jobsPath, query: q, idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// Stop stops a job (DELETE /api/v1/orchestrator/jobs/:id with body
// {"reason":…}). Stopping is idempotent, so an unknown outcome is retried on
// another replica.
func (a *JobsAPI) Stop(ctx context.Context, id, reason string) (*api.StopJobResponse, *Meta, error) {
	path, err := jobPath(id, "")
	if err != nil {
		return nil, nil, err
	}
	var out api.StopJobResponse
	r := &request{method: http.MethodDelete, path: path, json: api.StopJobRequest{Reason: reason}, idempotent: true}
	meta, err := a.c.call(ctx, r, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// HistoryOptions filters, pages and blocks a history query.
type HistoryOptions struct {
	Since       int64  // Unix seconds; older events are left out
	EventType   string // "all" (default), "job", "execution"
	ExecutionID string // prefix
	NodeID      string // prefix
	Limit       int
	NextToken   string
	// WaitIndex and WaitTime make a blocking query: the answer comes once
	// the state index passes WaitIndex, or after WaitTime.
	WaitIndex uint64
	WaitTime  time.Duration
}

// History lists a job's events (GET /api/v1/orchestrator/jobs/:id/history).
func (a *JobsAPI) History(ctx context.Context, id string, opts HistoryOptions) (*api.ListJobHistoryResponse, *Meta, error) {
	path, err := jobPath(id, "/history")
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if opts.Since > 0 {
		q.Set("since", strconv.FormatInt(opts.Since, 10))
	}
	setString(q, "event_type", opts.EventType)
	setString(q, "execution_id", opts.ExecutionID)
	setString(q, "node_id", opts.NodeID)
	setPaging(q, opts.Limit, opts.NextToken, "", false)
	blocking(q, opts.WaitIndex, opts.WaitTime)
	var out api.ListJobHistoryResponse
	r := &request{method: http.MethodGet, path: path, query: q, idempotent: true, wait: opts.WaitTime}
	meta, err := a.c.call(ctx, r, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// ExecutionsOptions pages and orders a job's executions.
type ExecutionsOptions struct {
	Limit     int
	NextToken string
	OrderBy   string
	Reverse   bool
}

// Executions lists a job's executions
// (GET /api/v1/orchestrator/jobs/:id/executions).
func (a *JobsAPI) Executions(ctx context.Context, id string, opts ExecutionsOptions) (*api.ListJobExecutionsResponse, *Meta, error) {
	path, err := jobPath(id, "/executions")
	if err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	setPaging(q, opts.Limit, opts.NextToken, opts.OrderBy, opts.Reverse)
	var out api.ListJobExecutionsResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: path, query: q, idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// Results lists what a job's completed executions published
// (GET /api/v1/orchestrator/jobs/:id/results).
func (a *JobsAPI) Results(ctx context.Context, id string) (*api.ListJobResultsResponse, *Meta, error) {
	path, err := jobPath(id, "/results")
	if err != nil {
		return nil, nil, err
	}
	var out api.ListJobResultsResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: path, idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

func jobPath(id, sub string) (string, error) {
	escaped, err := escapeID("job", id)
	if err != nil {
		return "", err
	}
	return jobsPath + "/" + escaped + sub, nil
}

func setString(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

func setPaging(q url.Values, limit int, nextToken, orderBy string, reverse bool) {
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	setString(q, "next_token", nextToken)
	setString(q, "order_by", orderBy)
	if reverse {
		q.Set("reverse", "true")
	}
}

func linearizable(q url.Values, on bool) {
	if on {
		q.Set(api.QueryConsistency, api.ConsistencyLinearizable)
	}
}

func blocking(q url.Values, index uint64, wait time.Duration) {
	if index > 0 {
		q.Set(api.QueryIndex, strconv.FormatUint(index, 10))
	}
	if wait > 0 {
		q.Set(api.QueryWait, wait.String())
	}
}
