package fsm

import (
	"encoding/binary"
	"fmt"
	json "github.com/goccy/go-json"

	"github.com/shoal-io/shoal/api"
)

// MessageType is the first byte of every Raft log entry Shoal writes. New
// types are only ever appended: a replica must decode every entry in its log.
type MessageType uint8

const (
	// MsgBatch holds several commands applied in order within one entry, so
	// concurrent writes share one disk sync.
	MsgBatch MessageType = iota + 1
	MsgJobRegister
	MsgJobStop
	MsgPlanApply
	MsgExecutionReport
	MsgNodeRegister
	MsgNodeStatus
	MsgEvalUpdate
	MsgIdempotencyPrune
	MsgEvalGC
	// MsgJobGC is numbered explicitly: types 11..19 belong to the state
	// store's housekeeping, 20 and up to other parts.
	MsgJobGC MessageType = 11
)

func (t MessageType) String() string {
	switch t {
	case MsgBatch:
		return "Batch"
	case MsgJobRegister:
		return "JobRegister"
	case MsgJobStop:
		return "JobStop"
	case MsgPlanApply:
		return "PlanApply"
	case MsgExecutionReport:
		return "ExecutionReport"
	case MsgNodeRegister:
		return "NodeRegister"
	case MsgNodeStatus:
		return "NodeStatus"
	case MsgEvalUpdate:
		return "EvalUpdate"
	case MsgIdempotencyPrune:
		return "IdempotencyPrune"
	case MsgEvalGC:
		return "EvalGC"
	case MsgJobGC:
		return "JobGC"
	}
	if name := aclMessageName(t); name != "" {
		return name
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// Command is the payload of one typed entry. Every field Apply needs is in
// the command: the leader chooses IDs, times and defaults, so every replica
// applies the same bytes to the same state.
type Command interface {
	MessageType() MessageType
	// IssuedAt is the leader's clock when it made the command: Apply takes
	// every time it writes from here, never from its own clock.
	IssuedAt() int64
}

// JobRegisterRequest creates a job with its first evaluation and its
// "Job created" history event. Job is fully normalized: ID, Namespace,
// CreateTime and ModifyTime (= Now), State Pending and Revision 1 are set.
type JobRegisterRequest struct {
	Job *api.Job `json:"Job"`
	// EvalID is the ID of the job-register evaluation.
	EvalID string `json:"EvalID"`
	// IdempotencyToken, when set, makes a repeated create with the same token
	// return the first job's IDs instead of creating another, until
	// TokenExpiry (Unix ns).
	IdempotencyToken string `json:"IdempotencyToken,omitempty"`
	TokenExpiry      int64  `json:"TokenExpiry,omitempty"`
	Now              int64  `json:"Now"`
}

// JobRegisterResult is Apply's answer to a JobRegisterRequest.
type JobRegisterResult struct {
	JobID  string
	EvalID string
	// Deduplicated is true when the token matched an earlier create and
	// nothing was written.
	Deduplicated bool
}

// JobStopRequest moves a job to Stopped and raises a job-cancel evaluation
// that stops its executions. Stopping a Stopped job changes nothing and
// answers an empty EvalID; stopping a Completed or Failed job is a conflict.
type JobStopRequest struct {
	JobID  string `json:"JobID"`
	Reason string `json:"Reason"`
	EvalID string `json:"EvalID"`
	Now    int64  `json:"Now"`
}

// JobStopResult is Apply's answer to a JobStopRequest.
type JobStopResult struct {
	EvalID string
}

// Plan is a scheduler's decision for one evaluation. Apply re-checks it
// against the state it lands on and commits what still holds: a placement on
// a node that is gone, disconnected or full is dropped, and an update to an
// execution whose compute state moved on is skipped. The result says what was
// dropped so the scheduler can try again.
type Plan struct {
	EvalID string `json:"EvalID"`
	JobID  string `json:"JobID"`
	// JobRevision is the job revision the scheduler planned against. When the
	// job has changed since (stopped meanwhile), nothing of the plan is
	// applied except the evaluation statuses, and the result is Stale.
	JobRevision uint64 `json:"JobRevision"`

	// NewExecutions are placements. Each carries its node, its allocated
	// resources, its desired state and the compute state it should start in:
	// AskForBid for batch and service (the node is asked for a bid),
	// BidAccepted for ops and daemon (the node runs it at once). Apply records
	// New→New and then New→that state as history.
	NewExecutions []*api.Execution `json:"NewExecutions,omitempty"`
	// ExecutionUpdates change desired and/or compute states of existing
	// executions (approve a bid, reject one, cancel, stop).
	ExecutionUpdates []*ExecutionUpdate `json:"ExecutionUpdates,omitempty"`
	// JobState, when set, moves the job to this state (with a history event
	// and a new revision) or, when only the message differs, updates the
	// message.
	JobState *api.State[api.JobStateType] `json:"JobState,omitempty"`
	// NewEvals are follow-up evaluations, such as a delayed one that fails the
	// job when its queue timeout passes.
	NewEvals []*api.Evaluation `json:"NewEvals,omitempty"`

	// EvalStatus is the status EvalID (and every ID in CoalescedEvalIDs) ends
	// in: complete, or blocked when the job waits for room on the nodes. It
	// is recorded only when the plan lands whole (not stale, nothing dropped
	// or skipped), so an evaluation whose plan was cut short stays open.
	EvalStatus       string   `json:"EvalStatus"`
	EvalComment      string   `json:"EvalComment,omitempty"`
	CoalescedEvalIDs []string `json:"CoalescedEvalIDs,omitempty"`

	Now int64 `json:"Now"`
}

// ExecutionUpdate is one change to an existing execution in a plan.
type ExecutionUpdate struct {
	ExecutionID string `json:"ExecutionID"`
	// ExpectedComputeState is the compute state the scheduler saw. When the
	// execution is no longer in it, the update is skipped.
	ExpectedComputeState api.ExecutionStateType                    `json:"ExpectedComputeState"`
	DesiredState         *api.State[api.ExecutionDesiredStateType] `json:"DesiredState,omitempty"`
	ComputeState         *api.State[api.ExecutionStateType]        `json:"ComputeState,omitempty"`
}

// PlanResult is Apply's answer to a Plan.
type PlanResult struct {
	// Stale is true when the job changed since the scheduler's snapshot and
	// the plan's changes were not applied.
	Stale bool
	// RejectedPlacements are the IDs of NewExecutions not committed, with the
	// reason for each.
	RejectedPlacements map[string]string
	// SkippedUpdates are the IDs of ExecutionUpdates not applied because the
	// execution moved on.
	SkippedUpdates []string
}

// Refresh reports whether the scheduler should plan again on newer state.
func (r *PlanResult) Refresh() bool {
	return r.Stale || len(r.RejectedPlacements) > 0 || len(r.SkippedUpdates) > 0
}

// ExecutionReportRequest carries a compute node's reports about its
// executions. Each applied state change is a
// history event and raises an exec-update evaluation for the job (one per
// job per request). Reports of a state the execution is already in, of an
// execution on another node, or of one already terminal change nothing.
type ExecutionReportRequest struct {
	NodeID  string                `json:"NodeID"`
	Updates []api.ExecutionUpdate `json:"Updates"`
	Now     int64                 `json:"Now"`
}

// ExecutionReportResult is Apply's answer to an ExecutionReportRequest.
type ExecutionReportResult struct {
	Applied int
	// Ignored lists reports that changed nothing, with the reason for each.
	Ignored map[string]string
	EvalIDs []string
}

// NodeRegisterRequest creates or replaces a compute node's description and
// marks it connected. A node that is new or comes back raises an evaluation
// for every active daemon job, so daemons reach it.
type NodeRegisterRequest struct {
	Node *api.NodeInfo `json:"Node"`
	Now  int64         `json:"Now"`
}

// NodeRegisterResult is Apply's answer to a NodeRegisterRequest.
type NodeRegisterResult struct {
	EvalIDs []string
}

// NodeStatusRequest marks a node connected or disconnected (lost). Losing a
// node fails its active executions with a history event ("node lost") and
// raises a node-lost evaluation for each job that had one there.
type NodeStatusRequest struct {
	NodeID     string `json:"NodeID"`
	Connection string `json:"Connection"`
	Reason     string `json:"Reason,omitempty"`
	Now        int64  `json:"Now"`
}

// NodeStatusResult is Apply's answer to a NodeStatusRequest.
type NodeStatusResult struct {
	EvalIDs []string
}

// EvalUpdateRequest creates or replaces evaluations: new delayed ones, or
// status changes decided by the broker (failed after too many deliveries).
type EvalUpdateRequest struct {
	Evals []*api.Evaluation `json:"Evals"`
	Now   int64             `json:"Now"`
}

// EvalGCRequest deletes finished evaluations (complete, failed, canceled)
// created before Before (Unix ns), at most Limit of them: every report
// raises one, and they are only needed while open. Open ones are never
// deleted.
type EvalGCRequest struct {
	Before int64 `json:"Before"`
	Limit  int   `json:"Limit"`
	Now    int64 `json:"Now"`
}

// EvalGCResult is Apply's answer to an EvalGCRequest.
type EvalGCResult struct {
	Deleted int
	// More is true when Limit stopped the sweep early.
	More bool
}

// JobGCRequest deletes terminal jobs (Completed, Failed, Stopped) whose last
// change is before Before (Unix ns), oldest first, with their executions,
// history and evaluations: at most Limit jobs, so one entry stays small. A
// terminal job that still has an active execution or an open evaluation is
// kept for a later pass. Idempotency tokens are left to their own expiry.
type JobGCRequest struct {
	Before int64 `json:"Before"`
	Limit  int   `json:"Limit"`
	Now    int64 `json:"Now"`
}

// JobGCResult is Apply's answer to a JobGCRequest.
type JobGCResult struct {
	JobsRemoved int
	// More is true when Limit stopped the sweep early.
	More bool
}

// IdempotencyPruneRequest forgets idempotency tokens that expired before
// Now.
type IdempotencyPruneRequest struct {
	Now int64 `json:"Now"`
}

func (*JobRegisterRequest) MessageType() MessageType      { return MsgJobRegister }
func (*JobStopRequest) MessageType() MessageType          { return MsgJobStop }
func (*Plan) MessageType() MessageType                    { return MsgPlanApply }
func (*ExecutionReportRequest) MessageType() MessageType  { return MsgExecutionReport }
func (*NodeRegisterRequest) MessageType() MessageType     { return MsgNodeRegister }
func (*NodeStatusRequest) MessageType() MessageType       { return MsgNodeStatus }
func (*EvalUpdateRequest) MessageType() MessageType       { return MsgEvalUpdate }
func (*IdempotencyPruneRequest) MessageType() MessageType { return MsgIdempotencyPrune }
func (*EvalGCRequest) MessageType() MessageType           { return MsgEvalGC }
func (*JobGCRequest) MessageType() MessageType            { return MsgJobGC }

func (c *JobRegisterRequest) IssuedAt() int64      { return c.Now }
func (c *JobStopRequest) IssuedAt() int64          { return c.Now }
func (c *Plan) IssuedAt() int64                    { return c.Now }
func (c *ExecutionReportRequest) IssuedAt() int64  { return c.Now }
func (c *NodeRegisterRequest) IssuedAt() int64     { return c.Now }
func (c *NodeStatusRequest) IssuedAt() int64       { return c.Now }
func (c *EvalUpdateRequest) IssuedAt() int64       { return c.Now }
func (c *IdempotencyPruneRequest) IssuedAt() int64 { return c.Now }
func (c *EvalGCRequest) IssuedAt() int64           { return c.Now }
func (c *JobGCRequest) IssuedAt() int64            { return c.Now }

// Encode writes a command as one log entry: its type byte, then its payload.
func Encode(cmd Command) ([]byte, error) {
	payload, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", cmd.MessageType(), err)
	}
	buf := make([]byte, 0, 1+len(payload))
	buf = append(buf, byte(cmd.MessageType()))
	return append(buf, payload...), nil
}

// EncodeBatch joins encoded commands into one MsgBatch entry: the type byte,
// then each command as a uvarint length and its bytes.
func EncodeBatch(entries [][]byte) []byte {
	size := 1
	for _, e := range entries {
		size += binary.MaxVarintLen64 + len(e)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, byte(MsgBatch))
	for _, e := range entries {
		buf = binary.AppendUvarint(buf, uint64(len(e)))
		buf = append(buf, e...)
	}
	return buf
}

// Decode reads one encoded (non-batch) command. An unknown type is an error:
// skipping it would let replicas diverge silently.
func Decode(entry []byte) (Command, error) {
	if len(entry) == 0 {
		return nil, fmt.Errorf("%w: empty entry", ErrUnknownCommand)
	}
	var cmd Command
	switch t := MessageType(entry[0]); t {
	case MsgJobRegister:
		cmd = new(JobRegisterRequest)
	case MsgJobStop:
		cmd = new(JobStopRequest)
	case MsgPlanApply:
		cmd = new(Plan)
	case MsgExecutionReport:
		cmd = new(ExecutionReportRequest)
	case MsgNodeRegister:
		cmd = new(NodeRegisterRequest)
	case MsgNodeStatus:
		cmd = new(NodeStatusRequest)
	case MsgEvalUpdate:
		cmd = new(EvalUpdateRequest)
	case MsgIdempotencyPrune:
		cmd = new(IdempotencyPruneRequest)
	case MsgEvalGC:
		cmd = new(EvalGCRequest)
	case MsgJobGC:
		cmd = new(JobGCRequest)
	default:
		if cmd = newACLCommand(t); cmd == nil {
			return nil, fmt.Errorf("%w: type %d", ErrUnknownCommand, uint8(t))
		}
	}
	if err := api.UnmarshalJSON(entry[1:], cmd); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", ErrUnknownCommand, cmd.MessageType(), err)
	}
	return cmd, nil
}

// SplitBatch returns the encoded commands inside a MsgBatch entry.
func SplitBatch(entry []byte) ([][]byte, error) {
	if len(entry) == 0 || MessageType(entry[0]) != MsgBatch {
		return nil, fmt.Errorf("%w: not a batch", ErrUnknownCommand)
	}
	var out [][]byte
	rest := entry[1:]
	for len(rest) > 0 {
		n, k := binary.Uvarint(rest)
		if k <= 0 || uint64(len(rest)-k) < n {
			return nil, fmt.Errorf("%w: truncated batch", ErrUnknownCommand)
		}
		out = append(out, rest[k:k+int(n)])
		rest = rest[k+int(n):]
	}
	return out, nil
}
