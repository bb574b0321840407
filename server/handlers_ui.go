package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
	"github.com/shoal-io/shoal/series"
	"github.com/shoal-io/shoal/ui"
	"sigs.k8s.io/yaml"
)

// The web UI (package ui) is static files; what it needs beyond the public
// API lives under /api/v1/ui: the cluster overview gathered from every
// replica, the live-chart series each replica keeps, a node's executions, and
// YAML-to-JSON for pasted job specs.

// uiState is what a replica keeps for its UI.
type uiState struct {
	live   *series.Recorder
	digest digestCache
	counts jobCountCache
}

func newUIState() *uiState { return &uiState{live: series.NewRecorder()} }

// uiRoutes adds the UI's own API routes.
func (s *Server) uiRoutes(r chi.Router) {
	r.Route("/api/v1/ui", func(r chi.Router) {
		r.Get("/overview", s.handleUIOverview)
		r.Get("/jobs", s.handleUIListJobs)
		r.Get("/replica", s.handleUIReplica)
		r.Get("/nodes/{id}/executions", s.handleUINodeExecutions)
		r.Post("/jobspec", s.handleUIJobSpec)
	})
}

// withUI serves the web app's static files under /ui/ before the API's
// middleware: the files hold no data, and the app must load before it can
// ask for a token. Every data request it makes goes through the API.
func (s *Server) withUI(api http.Handler) http.Handler {
	app := ui.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ui.Prefix || strings.HasPrefix(r.URL.Path, ui.Prefix+"/") {
			app.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// observeSchedulingLag is called by the planner before it submits a plan; the
// function it returns, called with the submission's error, records how long
// the plan's evaluation waited from becoming ready to its plan committing.
// Evaluations that were blocked (waiting for room on the nodes) are left
// out: their wait is the cluster's capacity, not the scheduler's lag.
func (s *Server) observeSchedulingLag(plan *fsm.Plan) func(error) {
	eval, err := s.fsm.State().Txn().Eval(plan.EvalID)
	if err != nil || eval == nil || eval.Status != api.EvalStatusPending {
		return func(error) {}
	}
	ready := max(eval.CreateTime, eval.WaitUntil)
	return func(err error) {
		if err == nil && ready > 0 {
			s.ui.live.ObserveLag(time.Duration(now() - ready))
		}
	}
}

// maxNodeExecutions bounds the executions a node's page lists.
const maxNodeExecutions = 200

// handleUINodeExecutions lists the executions placed on a node (full ID or
// unique prefix), the active ones first, then the most recently changed.
func (s *Server) handleUINodeExecutions(w http.ResponseWriter, r *http.Request) {
	txn, err := s.readTxn(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	node, err := txn.ResolveNode(chi.URLParam(r, "id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	execs, err := txn.ExecutionsByNode(node.NodeID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	execs = slices.Clone(execs)
	slices.SortStableFunc(execs, func(a, b *api.Execution) int {
		at, bt := a.ComputeState.StateType.IsTerminal(), b.ComputeState.StateType.IsTerminal()
		if at != bt {
			if at {
				return 1
			}
			return -1
		}
		return cmpInt64(b.ModifyTime, a.ModifyTime)
	})
	next := ""
	if len(execs) > maxNodeExecutions {
		execs, next = execs[:maxNodeExecutions], "truncated"
	}
	writeJSON(w, http.StatusOK, txn.Index(), &api.ListJobExecutionsResponse{Executions: nonNil(execs), NextToken: next})
}

// handleUIJobSpec turns a job spec pasted as YAML or JSON, bare or wrapped
// as {Job: …}, into the body PUT /jobs takes. It only converts: the create
// call validates, so the UI shows the API's own messages.
func (s *Server) handleUIJobSpec(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if isBlank(body) {
		s.writeError(w, r, api.BadRequestf("the job spec is empty: paste a job in YAML or JSON"))
		return
	}
	raw, err := yaml.YAMLToJSON(body)
	if err != nil {
		s.writeError(w, r, api.BadRequestf("not valid YAML or JSON: %s", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")))
		return
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		s.writeError(w, r, api.BadRequestf("want an object: a job (Type, Tasks, …) or {Job: …}"))
		return
	}
	var wrapped json.RawMessage
	for k, v := range top {
		if strings.EqualFold(k, "Job") && !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			wrapped = v
		}
	}
	out := map[string]json.RawMessage{"Job": raw}
	if wrapped != nil {
		out = top
	}
	writeJSON(w, http.StatusOK, 0, out)
}

// uiMaxScan bounds the jobs one filtered list request reads: past it, the
// page comes back short, with a token to carry on from.
const uiMaxScan = 20000

// handleUIListJobs is GET /jobs with one more filter, state (a job state
// name, or several separated by commas), which upstream's list lacks. It
// reads the same ordered pages the public list does, so its next_token is
// the public list's own and the two can be mixed.
func (s *Server) handleUIListJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	want := map[api.JobStateType]bool{}
	for _, name := range queryList(q, "state") {
		st := api.ParseJobStateType(name)
		if st == api.JobStateTypeUndefined {
			s.writeError(w, r, api.BadRequestf("invalid state %q: use Pending, Running, Completed, Failed or Stopped", name))
			return
		}
		want[st] = true
	}
	if len(want) == 0 {
		s.handleListJobs(w, r)
		return
	}
	query, txn, err := s.jobListQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := max(query.Limit, 1)
	out := []*api.Job{}
	for scanned := 0; ; {
		// Ask for no more rows than could still match, so the page ends
		// exactly at the last job it returns and the token resumes there.
		query.Limit = limit - len(out)
		jobs, next, err := txn.ListJobs(query)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		scanned += len(jobs)
		for _, j := range jobs {
			if want[j.State.StateType] {
				out = append(out, j)
			}
		}
		query.After = next
		if next == "" || len(out) >= limit || scanned >= uiMaxScan {
			break
		}
	}
	writeJSON(w, http.StatusOK, txn.Index(), &api.ListJobsResponse{Jobs: out, NextToken: query.After})
}
