package compute

import (
	"context"
	"time"

	"github.com/shoal-io/shoal/api"
)

// Orchestrator is how a compute node talks to the replicas (any replica; the
// client fails over between them). *client.ComputeAPI from api/client
// satisfies it.
//
// A call that fails because the cluster does not know the node must return
// an error matching api.ErrNotFound: the node then registers again.
type Orchestrator interface {
	Register(ctx context.Context, node *api.NodeInfo) (*api.RegisterNodeResponse, error)
	WatchExecutions(ctx context.Context, nodeID string, index uint64, wait time.Duration) (*api.NodeExecutionsResponse, error)
	Report(ctx context.Context, nodeID string, req *api.UpdateExecutionsRequest) (*api.UpdateExecutionsResponse, error)
}
