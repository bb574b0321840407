package server

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
)

// handleExecutionResult streams the archive an execution published with the
// local publisher, fetched from the compute node that serves it. Compute
// nodes are often reachable only inside the cluster's network (containers,
// private subnets); any replica relays, so a client that can reach the API
// can download results. An extension of upstream's API:
// GET /api/v1/orchestrator/jobs/:id/executions/:execution/result.
func (s *Server) handleExecutionResult(w http.ResponseWriter, r *http.Request) {
	txn, job, err := s.readJob(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	exec, err := pickExecution(txn, job.ID, chi.URLParam(r, "execution"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := exec.PublishedResult
	if exec.ComputeState.StateType != api.ExecutionStateCompleted || res == nil || !strings.EqualFold(res.Type, api.StorageURLDownload) {
		s.writeError(w, r, api.NotFoundf(api.ComponentJobStore, "execution %s published no downloadable result", exec.ID))
		return
	}
	raw, _ := res.Params["URL"].(string)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		s.writeError(w, r, api.NotFoundf(api.ComponentJobStore, "execution %s published an unusable result URL %q", exec.ID, raw))
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := s.nodes.Do(req)
	if err != nil {
		s.writeError(w, r, api.NewError(api.ErrUnavailable, api.CodeServiceUnavailable, api.ComponentAPI,
			"node %s, which holds the result of %s, cannot be reached: %v", exec.NodeID, exec.ID, err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.writeError(w, r, api.NewError(api.ErrUnavailable, api.CodeServiceUnavailable, api.ComponentAPI,
			"node %s answered %s for the result of %s", exec.NodeID, resp.Status, exec.ID))
		return
	}
	for _, h := range []string{"Content-Type", "Content-Length"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", exec.ID+".tar.gz"))
	w.Header().Set(headerIndex, fmt.Sprint(txn.Index()))
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, resp.Body)
}
