package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shoal-io/shoal/api"
)

// ComputeAPI is how a compute node talks to the orchestrators. Every call is
// idempotent (a registration replaces the node's description; reporting a
// state the execution is already in changes nothing), so each is retried on
// another replica whatever went wrong.
type ComputeAPI struct{ c *Client }

// Register announces the node or updates its description
// (PUT /api/v1/compute/nodes/:id).
func (a *ComputeAPI) Register(ctx context.Context, node *api.NodeInfo) (*api.RegisterNodeResponse, error) {
	if node == nil {
		return nil, api.BadRequestf("missing node")
	}
	path, err := computeNodePath(node.NodeID, "")
	if err != nil {
		return nil, err
	}
	var out api.RegisterNodeResponse
	r := &request{method: http.MethodPut, path: path, json: api.RegisterNodeRequest{Node: node}, idempotent: true}
	if _, err := a.c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WatchExecutions returns the node's executions modified after index, once
// there are some or after wait (a blocking query:
// GET /api/v1/compute/nodes/:id/executions?index=N&wait=30s). The request is
// given wait on top of the client's timeout, so it is never cut short by it.
func (a *ComputeAPI) WatchExecutions(ctx context.Context, nodeID string, index uint64, wait time.Duration) (*api.NodeExecutionsResponse, error) {
	path, err := computeNodePath(nodeID, "/executions")
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set(api.QueryIndex, strconv.FormatUint(index, 10))
	if wait > 0 {
		q.Set(api.QueryWait, wait.String())
	}
	var out api.NodeExecutionsResponse
	r := &request{method: http.MethodGet, path: path, query: q, idempotent: true, wait: wait}
	if _, err := a.c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Report sends a batch of execution state changes
// (POST /api/v1/compute/nodes/:id/executions).
func (a *ComputeAPI) Report(ctx context.Context, nodeID string, req *api.UpdateExecutionsRequest) (*api.UpdateExecutionsResponse, error) {
	if req == nil {
		return nil, api.BadRequestf("missing execution updates")
	}
	path, err := computeNodePath(nodeID, "/executions")
	if err != nil {
		return nil, err
	}
	var out api.UpdateExecutionsResponse
	r := &request{method: http.MethodPost, path: path, json: req, idempotent: true}
	if _, err := a.c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func computeNodePath(nodeID, sub string) (string, error) {
	escaped, err := escapeID("node", nodeID)
	if err != nil {
		return "", err
	}
	return computeNodesPath + "/" + escaped + sub, nil
}
