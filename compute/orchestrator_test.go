package compute

import "github.com/shoal-io/shoal/api/client"

// The Go client is what real nodes use to reach the replicas.
var _ Orchestrator = (*client.ComputeAPI)(nil)
