package server

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// The compute endpoints are how compute nodes register, learn what to run
// and report back. Registration and reports are writes (forwarded to the
// leader, idempotent, so they are retried safely); the watch is a blocking
// read any replica answers, so a node keeps working while leadership moves.

func (s *Server) registerNode(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	var req api.RegisterNodeRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return 0, nil, 0, err
	}
	id := chi.URLParam(r, "id")
	switch {
	case req.Node == nil:
		return 0, nil, 0, api.BadRequestf("missing Node in the request body")
	case req.Node.NodeID == "":
		req.Node.NodeID = id
	case req.Node.NodeID != id:
		return 0, nil, 0, api.BadRequestf("node ID %q in the body does not match %q in the path", req.Node.NodeID, id)
	}
	if req.Node.NodeType != api.NodeTypeCompute || req.Node.ComputeNodeInfo == nil {
		return 0, nil, 0, api.BadRequestf("only compute nodes register: NodeType must be Compute with ComputeNodeInfo")
	}
	if req.Node.Labels == nil {
		req.Node.Labels = map[string]string{}
	}
	if req.Node.PeerInfo == nil {
		req.Node.PeerInfo = &api.PeerInfo{ID: id, Addrs: []string{}}
	}
	_, index, err := applyAs[*fsm.NodeRegisterResult](ctx, s, &fsm.NodeRegisterRequest{Node: req.Node, Now: now()})
	if err != nil {
		return 0, nil, index, err
	}
	return http.StatusOK, &api.RegisterNodeResponse{Index: index}, index, nil
}

func (s *Server) reportExecutions(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	cmd, err := decodeReport(chi.URLParam(r, "id"), body, now())
	if err != nil {
		return 0, nil, 0, err
	}
	_, index, err := applyAs[*fsm.ExecutionReportResult](ctx, s, cmd)
	if err != nil {
		return 0, nil, index, err
	}
	return http.StatusOK, &api.UpdateExecutionsResponse{Index: index}, index, nil
}

// handleWatchExecutions answers a compute node's long poll: its executions
// changed after ?index=, waiting up to ?wait= for the first change.
func (s *Server) handleWatchExecutions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := queryUint(q, "index")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wait, err := queryWait(q, defaultComputeWait)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nodeID := chi.URLParam(r, "id")
	ctx, cancel := s.blockingContext(r, wait)
	defer cancel()
	timedOut := false
	for {
		txn := s.fsm.State().Txn()
		if _, err := txn.Node(nodeID); err != nil {
			s.writeError(w, r, err)
			return
		}
		ws := memtab.NewWatchSet()
		execs, err := txn.ExecutionsByNodeSince(nodeID, since, ws)
		if err != nil {
			txn.ReleaseWatches(ws)
			s.writeError(w, r, err)
			return
		}
		// A first watch (index 0) answers at once, even with nothing to do:
		// a node that just started must learn what it was running before any
		// new work arrives. A watch that timed out answers with what there is.
		if since == 0 || len(execs) > 0 || timedOut {
			txn.ReleaseWatches(ws)
			resp, err := assigned(txn, execs)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, txn.Index(), resp)
			return
		}
		// Wait drops txn (a 30 s poll would keep its version of the state
		// alive): the answer is read afresh.
		timedOut = txn.Wait(ctx, ws) != nil
	}
}

func assigned(txn *fsm.ReadTxn, execs []*api.Execution) (*api.NodeExecutionsResponse, error) {
	resp := &api.NodeExecutionsResponse{Index: txn.Index(), Executions: make([]*api.AssignedExecution, 0, len(execs))}
	jobs := map[string]*api.Job{}
	for _, e := range execs {
		job, ok := jobs[e.JobID]
		if !ok {
			var err error
			if job, err = txn.Job(e.JobID); err != nil {
				return nil, err
			}
			jobs[e.JobID] = job
		}
		resp.Executions = append(resp.Executions, &api.AssignedExecution{Execution: e, Job: job})
	}
	return resp, nil
}
