package server

import (
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// decodeReport turns a compute node's report body (POST
// /api/v1/compute/nodes/{id}/executions) into the command Raft applies, or a
// 400. It is the only code between a node's bytes and the state machine, and
// is fuzzed (FuzzComputeReport) with the Apply that follows it.
func decodeReport(nodeID string, body []byte, now int64) (*fsm.ExecutionReportRequest, error) {
	var req api.UpdateExecutionsRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return nil, err
	}
	for _, u := range req.Updates {
		if u.ExecutionID == "" {
			return nil, api.BadRequestf("an update has no ExecutionID")
		}
	}
	return &fsm.ExecutionReportRequest{NodeID: nodeID, Updates: req.Updates, Now: now}, nil
}
