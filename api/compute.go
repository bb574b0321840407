package api

// Wire types between compute nodes and orchestrator replicas. They travel over
// the same HTTP API under /api/v1/compute; any replica answers reads, writes
// go to the leader.

// RegisterNodeRequest is the body of PUT /api/v1/compute/nodes/:id: a compute
// node's full description, sent when it starts and whenever it changes.
type RegisterNodeRequest struct {
	Node *NodeInfo `json:"Node"`
}

// RegisterNodeResponse answers a registration.
type RegisterNodeResponse struct {
	Index uint64 `json:"Index"`
}

// AssignedExecution is an execution placed on a node together with the job it
// belongs to, so the node can run it without another request.
type AssignedExecution struct {
	Execution *Execution `json:"Execution"`
	Job       *Job       `json:"Job"`
}

// NodeExecutionsResponse answers the blocking query
// GET /api/v1/compute/nodes/:id/executions?index=N&wait=30s: every execution
// of the node modified after index N (all non-terminal ones when N is 0), and
// the state index it reflects, to pass as index= next time.
type NodeExecutionsResponse struct {
	Index      uint64               `json:"Index"`
	Executions []*AssignedExecution `json:"Executions"`
}

// ExecutionUpdate is one state change a compute node reports. Reports are
// idempotent: reporting a state the execution is already in changes nothing.
type ExecutionUpdate struct {
	ExecutionID     string             `json:"ExecutionID"`
	ComputeState    ExecutionStateType `json:"ComputeState"`
	Message         string             `json:"Message,omitempty"`
	RunOutput       *RunCommandResult  `json:"RunOutput,omitempty"`
	PublishedResult *SpecConfig        `json:"PublishedResult,omitempty"`
}

// UpdateExecutionsRequest is the body of
// POST /api/v1/compute/nodes/:id/executions: a batch of state changes. A
// node's available capacity is not reported: the orchestrator derives it from
// the executions it placed there, so it never lags a report.
type UpdateExecutionsRequest struct {
	Updates []ExecutionUpdate `json:"Updates"`
}

// UpdateExecutionsResponse answers a report.
type UpdateExecutionsResponse struct {
	Index uint64 `json:"Index"`
}
