package api

// Request and response bodies of the Orchestrator API. Field order follows
// the spec page's examples.

// PutJobRequest is the body of PUT /api/v1/orchestrator/jobs. Upstream
// clients also send Namespace and Credential; Shoal honours IdempotencyToken.
type PutJobRequest struct {
	Job              *Job   `json:"Job"`
	IdempotencyToken string `json:"IdempotencyToken,omitempty"`
	Namespace        string `json:"Namespace,omitempty"`
}

// PutJobResponse answers a create.
type PutJobResponse struct {
	JobID        string   `json:"JobID"`
	EvaluationID string   `json:"EvaluationID"`
	Warnings     []string `json:"Warnings"`
}

// GetJobResponse answers a describe; History and Executions only when asked
// for with include=.
type GetJobResponse struct {
	Job        *Job                       `json:"Job"`
	History    *ListJobHistoryResponse    `json:"History,omitempty"`
	Executions *ListJobExecutionsResponse `json:"Executions,omitempty"`
}

// ListJobsResponse answers GET /jobs.
type ListJobsResponse struct {
	Jobs      []*Job `json:"Jobs"`
	NextToken string `json:"NextToken"`
}

// StopJobRequest is the optional body of DELETE /jobs/:id (lowercase
// "reason", as upstream clients send it).
type StopJobRequest struct {
	Reason string `json:"reason"`
}

// StopJobResponse answers a stop.
type StopJobResponse struct {
	EvaluationID string `json:"EvaluationID"`
}

// ListJobHistoryResponse answers GET /jobs/:id/history.
type ListJobHistoryResponse struct {
	NextToken string        `json:"NextToken"`
	History   []*JobHistory `json:"History"`
}

// ListJobExecutionsResponse answers GET /jobs/:id/executions.
type ListJobExecutionsResponse struct {
	NextToken  string       `json:"NextToken"`
	Executions []*Execution `json:"Executions"`
}

// ListJobResultsResponse answers GET /jobs/:id/results.
type ListJobResultsResponse struct {
	NextToken string        `json:"NextToken"`
	Results   []*SpecConfig `json:"Results"`
}

// GetNodeResponse answers GET /nodes/:id.
type GetNodeResponse struct {
	Node *NodeInfo `json:"Node"`
}

// ListNodesResponse answers GET /nodes.
type ListNodesResponse struct {
	NextToken string      `json:"NextToken"`
	Nodes     []*NodeInfo `json:"Nodes"`
}

// IsAliveResponse answers GET /api/v1/agent/alive.
type IsAliveResponse struct {
	Status string `json:"Status"`
}

// ExecutionLog is one frame of the logs websocket: {"value":{…}}.
type ExecutionLog struct {
	Type int    `json:"Type"` // 1 stdout, 2 stderr
	Line string `json:"Line"`
}

// Log stream types.
const (
	LogTypeStdout = 1
	LogTypeStderr = 2
)

// ExecutionLogFrame wraps a log line or an error on the logs websocket.
type ExecutionLogFrame struct {
	Value *ExecutionLog `json:"value,omitempty"`
	Error string        `json:"error,omitempty"`
}

// RaftServer is one member of the Raft configuration.
type RaftServer struct {
	ID      string `json:"ID"`
	Address string `json:"Address"`
	Voter   bool   `json:"Voter"`
	Leader  bool   `json:"Leader"`
	// Gossip is how the answering replica's gossip sees the member: alive,
	// suspect, dead or left ("" when it has not heard of it).
	Gossip string `json:"Gossip,omitempty"`
}

// RaftConfigurationResponse answers GET /api/v1/operator/raft.
type RaftConfigurationResponse struct {
	Leader  string       `json:"Leader"`
	Index   uint64       `json:"Index"`
	Servers []RaftServer `json:"Servers"`
	// Term and State are the answering replica's own Raft term and role
	// (Leader, Follower, Candidate, Shutdown), read together: the chaos
	// suite checks from them that no term ever has two leaders.
	Term  uint64 `json:"Term,omitempty"`
	State string `json:"State,omitempty"`
}

// DigestResponse answers GET /api/v1/operator/digest: a hash of the whole
// replicated state at the applied index.
type DigestResponse struct {
	Index  uint64 `json:"Index"`
	Digest string `json:"Digest"`
}

// JobGCRequest is the optional body of POST /api/v1/operator/gc: terminal
// jobs older than Age (a Go duration such as "72h"; "0s" means every
// terminal job) are removed. Without it the replicas' --job-gc-age applies.
type JobGCRequest struct {
	Age string `json:"Age,omitempty"`
}

// JobGCResponse answers POST /api/v1/operator/gc: how many terminal jobs
// the pass removed (with their executions, history and evaluations) and the
// state index after it. More says the pass stopped to answer within the
// request's time while old terminal jobs remain: ask again to go on.
type JobGCResponse struct {
	JobsRemoved int    `json:"JobsRemoved"`
	More        bool   `json:"More,omitempty"`
	Index       uint64 `json:"Index"`
}
