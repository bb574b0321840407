package client

import (
	"context"
	"net/http"

	"github.com/shoal-io/shoal/api"
)

// AgentAPI asks the replica that answers about itself.
type AgentAPI struct{ c *Client }

// Alive checks that a replica answers (GET /api/v1/agent/alive).
func (a *AgentAPI) Alive(ctx context.Context) (*api.IsAliveResponse, *Meta, error) {
	var out api.IsAliveResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: agentPath + "/alive", idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// Version returns the build of the replica that answers
// (GET /api/v1/agent/version).
func (a *AgentAPI) Version(ctx context.Context) (*api.BuildVersionInfo, *Meta, error) {
	var out api.BuildVersionInfo
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: agentPath + "/version", idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// Node returns the description of the node that answers
// (GET /api/v1/agent/node).
func (a *AgentAPI) Node(ctx context.Context) (*api.NodeInfo, *Meta, error) {
	var out api.NodeInfo
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: agentPath + "/node", idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}
