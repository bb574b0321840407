package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/shoal-io/shoal/api"
)

// NodesAPI reads the nodes of the cluster.
type NodesAPI struct{ c *Client }

// Get describes a node by full ID or unique prefix
// (GET /api/v1/orchestrator/nodes/:id).
func (a *NodesAPI) Get(ctx context.Context, id string) (*api.GetNodeResponse, *Meta, error) {
	escaped, err := escapeID("node", id)
	if err != nil {
		return nil, nil, err
	}
	var out api.GetNodeResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: nodesPath + "/" + escaped, idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// ListNodesOptions filters, pages and orders a node list.
type ListNodesOptions struct {
	Labels    []string // label selectors, all of which must match
	Limit     int
	NextToken string
	OrderBy   string // id (default), type, available_cpu, available_memory, available_disk, available_gpu
	Reverse   bool
}

// List lists nodes (GET /api/v1/orchestrator/nodes).
func (a *NodesAPI) List(ctx context.Context, opts ListNodesOptions) (*api.ListNodesResponse, *Meta, error) {
	q := url.Values{}
	for _, l := range opts.Labels {
		q.Add("labels", l)
	}
	setPaging(q, opts.Limit, opts.NextToken, opts.OrderBy, opts.Reverse)
	var out api.ListNodesResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: nodesPath, query: q, idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}
