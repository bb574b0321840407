package api

import (
	"encoding/json"
	"fmt"
	"strings"
)

// State is a state value with an optional human message, as upstream's
// generic models.State[T].
type State[T any] struct {
	StateType T      `json:"StateType"`
	Message   string `json:"Message"`
}

// StateChange records a transition in a history event.
type StateChange[T any] struct {
	Previous T `json:"Previous"`
	New      T `json:"New"`
}

// JobStateType is serialized as a string (Pending, Running, ...), the
// v1.1–v1.3 set that the spec page shows.
type JobStateType int

const (
	JobStateTypeUndefined JobStateType = iota
	JobStateTypePending
	JobStateTypeRunning
	JobStateTypeCompleted
	JobStateTypeFailed
	JobStateTypeStopped
)

var jobStateNames = [...]string{"Undefined", "Pending", "Running", "Completed", "Failed", "Stopped"}

func (s JobStateType) String() string {
	if s < 0 || int(s) >= len(jobStateNames) {
		return fmt.Sprintf("JobStateType(%d)", int(s))
	}
	return jobStateNames[s]
}

// IsTerminal reports whether a job in this state will never change again.
func (s JobStateType) IsTerminal() bool {
	return s == JobStateTypeCompleted || s == JobStateTypeFailed || s == JobStateTypeStopped
}

func (s JobStateType) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText is case-insensitive; unknown names decode to Undefined, as
// upstream does.
func (s *JobStateType) UnmarshalText(b []byte) error {
	*s = ParseJobStateType(string(b))
	return nil
}

// ParseJobStateType maps a name to its state, Undefined when unknown.
func ParseJobStateType(name string) JobStateType {
	for i, n := range jobStateNames {
		if strings.EqualFold(n, strings.TrimSpace(name)) {
			return JobStateType(i)
		}
	}
	return JobStateTypeUndefined
}

// ExecutionStateType is the compute-side state of an execution, serialized as
// a number with upstream's v1.1–v1.5.1 numbering.
type ExecutionStateType int

const (
	ExecutionStateUndefined ExecutionStateType = iota
	ExecutionStateNew
	ExecutionStateAskForBid
	ExecutionStateAskForBidAccepted
	ExecutionStateAskForBidRejected
	ExecutionStateBidAccepted
	ExecutionStateBidRejected
	ExecutionStateCompleted
	ExecutionStateFailed
	ExecutionStateCancelled
)

var executionStateNames = [...]string{"Undefined", "New", "AskForBid", "AskForBidAccepted",
	"AskForBidRejected", "BidAccepted", "BidRejected", "Completed", "Failed", "Cancelled"}

func (s ExecutionStateType) String() string {
	if s < 0 || int(s) >= len(executionStateNames) {
		return fmt.Sprintf("ExecutionStateType(%d)", int(s))
	}
	return executionStateNames[s]
}

// ParseExecutionStateType maps a name (case-insensitive) to its state.
func ParseExecutionStateType(name string) (ExecutionStateType, bool) {
	for i, n := range executionStateNames {
		if strings.EqualFold(n, strings.TrimSpace(name)) {
			return ExecutionStateType(i), true
		}
	}
	return ExecutionStateUndefined, false
}

// IsTerminal reports whether the compute side is done with the execution.
func (s ExecutionStateType) IsTerminal() bool {
	switch s {
	case ExecutionStateCompleted, ExecutionStateFailed, ExecutionStateCancelled,
		ExecutionStateAskForBidRejected, ExecutionStateBidRejected:
		return true
	}
	return false
}

// IsDiscarded reports whether the execution ended without a usable result.
func (s ExecutionStateType) IsDiscarded() bool {
	switch s {
	case ExecutionStateAskForBidRejected, ExecutionStateBidRejected,
		ExecutionStateCancelled, ExecutionStateFailed:
		return true
	}
	return false
}

// ExecutionDesiredStateType is what the orchestrator wants of an execution,
// serialized as a number: 0 Pending, 1 Running, 2 Stopped.
type ExecutionDesiredStateType int

const (
	ExecutionDesiredStatePending ExecutionDesiredStateType = iota
	ExecutionDesiredStateRunning
	ExecutionDesiredStateStopped
)

var desiredStateNames = [...]string{"Pending", "Running", "Stopped"}

func (s ExecutionDesiredStateType) String() string {
	if s < 0 || int(s) >= len(desiredStateNames) {
		return fmt.Sprintf("ExecutionDesiredStateType(%d)", int(s))
	}
	return desiredStateNames[s]
}

// JobHistoryType says whether a history event is about the job or one of its
// executions; serialized as a string.
type JobHistoryType int

const (
	JobHistoryTypeUndefined JobHistoryType = iota
	JobHistoryTypeJobLevel
	JobHistoryTypeExecutionLevel
)

var historyTypeNames = [...]string{"Undefined", "JobLevel", "ExecutionLevel"}

func (t JobHistoryType) String() string {
	if t < 0 || int(t) >= len(historyTypeNames) {
		return "Undefined"
	}
	return historyTypeNames[t]
}

func (t JobHistoryType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

func (t *JobHistoryType) UnmarshalText(b []byte) error {
	*t = JobHistoryTypeUndefined
	for i, n := range historyTypeNames {
		if strings.EqualFold(n, string(b)) {
			*t = JobHistoryType(i)
		}
	}
	return nil
}

// NodeType is serialized as a string: Requester or Compute.
type NodeType int

const (
	NodeTypeUndefined NodeType = iota
	NodeTypeRequester
	NodeTypeCompute
)

func (t NodeType) String() string {
	switch t {
	case NodeTypeRequester:
		return "Requester"
	case NodeTypeCompute:
		return "Compute"
	}
	return "nodeTypeUndefined"
}

func (t NodeType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

func (t *NodeType) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "requester":
		*t = NodeTypeRequester
	case "compute":
		*t = NodeTypeCompute
	default:
		*t = NodeTypeUndefined
	}
	return nil
}

// Network is a task's network mode, serialized as None, Full or HTTP. An
// unknown name is a decode error, as upstream.
type Network int

const (
	NetworkNone Network = iota
	NetworkFull
	NetworkHTTP
)

func (n Network) String() string {
	switch n {
	case NetworkFull:
		return "Full"
	case NetworkHTTP:
		return "HTTP"
	}
	return "None"
}

func (n Network) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

func (n *Network) UnmarshalText(b []byte) error {
	switch strings.ToLower(strings.TrimSpace(string(b))) {
	case "none", "":
		*n = NetworkNone
	case "full", "host":
		*n = NetworkFull
	case "http":
		*n = NetworkHTTP
	default:
		return fmt.Errorf("invalid network type %q: want None, Full or HTTP", string(b))
	}
	return nil
}

// UnmarshalJSON accepts upstream's number and, for hand-written specs, the
// state's name.
func (s *ExecutionStateType) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*s = ExecutionStateType(n)
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return fmt.Errorf("execution state: %w", err)
	}
	st, ok := ParseExecutionStateType(name)
	if !ok {
		return fmt.Errorf("unknown execution state %q", name)
	}
	*s = st
	return nil
}
