package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// defaultStopReason is recorded when a stop gives no reason.
const defaultStopReason = "Stopped at user request"

// hasIdempotencyToken reports whether a create may be retried safely.
func hasIdempotencyToken(r *http.Request, body []byte) bool {
	if r.Header.Get(headerIdempotencyKey) != "" {
		return true
	}
	var probe struct{ IdempotencyToken string }
	return json.Unmarshal(body, &probe) == nil && probe.IdempotencyToken != ""
}

func (s *Server) createJob(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	var req api.PutJobRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return 0, nil, 0, err
	}
	job := req.Job
	if job == nil {
		return 0, nil, 0, api.ValidationErrorf("empty/nil job: the body must be {\"Job\": {...}}")
	}
	job.Normalize()
	if err := job.ValidateSubmission(); err != nil {
		return 0, nil, 0, err
	}
	warnings := job.SanitizeSubmission()
	t := now()
	if job.ID == "" {
		job.ID = api.NewJobID()
	}
	if job.Name == "" {
		job.Name = job.ID
	}
	job.ApplyDefaults(s.cfg.JobDefaults)
	job.Meta[api.MetaRequesterID] = s.cfg.NodeID
	job.State = api.State[api.JobStateType]{StateType: api.JobStateTypePending}
	job.Version, job.Revision = 0, 1
	job.CreateTime, job.ModifyTime = t, t
	if err := job.Validate(); err != nil {
		return 0, nil, 0, err
	}
	token := req.IdempotencyToken
	if token == "" {
		token = r.Header.Get(headerIdempotencyKey)
	}
	res, index, err := applyAs[*fsm.JobRegisterResult](ctx, s, &fsm.JobRegisterRequest{
		Job:              job,
		EvalID:           api.NewEvalID(),
		IdempotencyToken: token,
		TokenExpiry:      t + s.cfg.IdempotencyWindow.Nanoseconds(),
		Now:              t,
	})
	if err != nil {
		return 0, nil, index, err
	}
	return http.StatusOK, &api.PutJobResponse{JobID: res.JobID, EvaluationID: res.EvalID, Warnings: warnings}, index, nil
}

func (s *Server) stopJob(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	var req api.StopJobRequest
	if err := decodeJSON(body, &req, true); err != nil {
		return 0, nil, 0, err
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		reason = strings.TrimSpace(r.URL.Query().Get("reason"))
	}
	if reason == "" {
		reason = defaultStopReason
	}
	job, err := s.fsm.State().Txn().ResolveJob(chi.URLParam(r, "id"))
	if err != nil {
		return 0, nil, 0, err
	}
	res, index, err := applyAs[*fsm.JobStopResult](ctx, s, &fsm.JobStopRequest{
		JobID: job.ID, Reason: reason, EvalID: api.NewEvalID(), Now: now(),
	})
	if err != nil {
		return 0, nil, index, err
	}
	return http.StatusOK, &api.StopJobResponse{EvaluationID: res.EvalID}, index, nil
}

func (s *Server) handleGetJob(w http.ResponseWriter, r *http.Request) {
	txn, job, err := s.readJob(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := &api.GetJobResponse{Job: job}
	for _, inc := range queryList(r.URL.Query(), "include") {
		switch inc {
		case "history":
			history, next, err := txn.History(job.ID, fsm.HistoryQuery{})
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			resp.History = &api.ListJobHistoryResponse{NextToken: next, History: nonNil(history)}
		case "executions":
			execs, err := txn.ExecutionsByJob(job.ID)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			resp.Executions = &api.ListJobExecutionsResponse{Executions: nonNil(execs)}
		}
	}
	writeJSON(w, http.StatusOK, txn.Index(), resp)
}

// jobListQuery reads GET /jobs's parameters (limit, reverse, labels,
// namespace, order_by, next_token) and opens the read the request asked for.
func (s *Server) jobListQuery(r *http.Request) (fsm.JobQuery, *fsm.ReadTxn, error) {
	q := r.URL.Query()
	limit, err := queryInt(q, "limit", 10)
	if err != nil {
		return fsm.JobQuery{}, nil, err
	}
	reverse, err := queryBool(q, "reverse")
	if err != nil {
		return fsm.JobQuery{}, nil, err
	}
	selector, err := api.ParseSelector(q["labels"]...)
	if err != nil {
		return fsm.JobQuery{}, nil, err
	}
	txn, err := s.readTxn(r)
	if err != nil {
		return fsm.JobQuery{}, nil, err
	}
	return fsm.JobQuery{
		Namespace: q.Get("namespace"),
		Selector:  selector,
		OrderBy:   q.Get("order_by"),
		Reverse:   reverse,
		Limit:     limit,
		After:     q.Get("next_token"),
	}, txn, nil
}

func (s *Server) handleListJobs(w http.ResponseWriter, r *http.Request) {
	query, txn, err := s.jobListQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	jobs, next, err := txn.ListJobs(query)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, txn.Index(), &api.ListJobsResponse{Jobs: nonNil(jobs), NextToken: next})
}

func (s *Server) handleJobHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := queryInt64(q, "since")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit, err := queryInt(q, "limit", 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	eventType := strings.ToLower(q.Get("event_type"))
	switch eventType {
	case "", "all", "job", "execution":
	default:
		s.writeError(w, r, api.BadRequestf("invalid event_type %q: use job, execution or all", q.Get("event_type")))
		return
	}
	txn, job, err := s.readJob(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nodeID, err := nodeIDFilter(txn, q.Get("node_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	history, next, err := txn.History(job.ID, fsm.HistoryQuery{
		Since:       since,
		EventType:   eventType,
		ExecutionID: q.Get("execution_id"),
		NodeID:      nodeID,
		Limit:       limit,
		After:       q.Get("next_token"),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, txn.Index(), &api.ListJobHistoryResponse{NextToken: next, History: nonNil(history)})
}

// executionOrders are the executions list's order_by values, each with its
// comparison; the default is modify_time, as the page says.
var executionOrders = map[string]func(a, b *api.Execution) int{
	"modify_time": func(a, b *api.Execution) int { return cmpInt64(a.ModifyTime, b.ModifyTime) },
	"create_time": func(a, b *api.Execution) int { return cmpInt64(a.CreateTime, b.CreateTime) },
	"id":          func(a, b *api.Execution) int { return strings.Compare(a.ID, b.ID) },
	"state": func(a, b *api.Execution) int {
		return cmpInt64(int64(a.ComputeState.StateType), int64(b.ComputeState.StateType))
	},
}

func (s *Server) handleJobExecutions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tok, err := listToken(q, "executions", "modify_time")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cmp, ok := executionOrders[tok.OrderBy]
	if !ok {
		s.writeError(w, r, api.BadRequestf("invalid order_by %q: use modify_time, create_time, id or state", tok.OrderBy))
		return
	}
	txn, job, err := s.readJob(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	execs, err := txn.ExecutionsByJob(job.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, next := sortPage(execs, tok, cmp, func(e *api.Execution) string { return e.ID })
	writeJSON(w, http.StatusOK, txn.Index(), &api.ListJobExecutionsResponse{NextToken: next, Executions: items})
}

func (s *Server) handleJobResults(w http.ResponseWriter, r *http.Request) {
	txn, job, err := s.readJob(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if job.IsLongRunning() {
		s.writeError(w, r, api.BadRequestf("job type %s does not support results: only batch and ops jobs publish results", job.Type))
		return
	}
	execs, err := txn.ExecutionsByJob(job.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	results := []*api.SpecConfig{}
	for _, e := range execs {
		if e.ComputeState.StateType == api.ExecutionStateCompleted && e.PublishedResult != nil && e.PublishedResult.Type != "" {
			results = append(results, e.PublishedResult)
		}
	}
	writeJSON(w, http.StatusOK, txn.Index(), &api.ListJobResultsResponse{Results: results})
}

// listToken reads limit, order_by, reverse and next_token; a token carries
// its own order and limit, as upstream's do.
func listToken(q map[string][]string, list, defaultOrder string) (offsetToken, error) {
	if t := first(q["next_token"]); t != "" {
		return decodeOffsetToken(t, list)
	}
	limit, err := queryInt(q, "limit", 0)
	if err != nil {
		return offsetToken{}, err
	}
	reverse, err := queryBool(q, "reverse")
	if err != nil {
		return offsetToken{}, err
	}
	order := strings.ToLower(first(q["order_by"]))
	if order == "" {
		order = defaultOrder
	}
	return offsetToken{List: list, OrderBy: order, Reverse: reverse, Limit: limit}, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// nonNil makes empty lists serialize as [] rather than null.
func nonNil[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}
