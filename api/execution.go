package api

import (
	"maps"
	"slices"
	"strings"
)

// Execution is one attempt to run a job's task on one node.
type Execution struct {
	ID                 string                           `json:"ID"`
	Namespace          string                           `json:"Namespace"`
	EvalID             string                           `json:"EvalID"`
	Name               string                           `json:"Name"`
	NodeID             string                           `json:"NodeID"`
	JobID              string                           `json:"JobID"`
	AllocatedResources *AllocatedResources              `json:"AllocatedResources"`
	DesiredState       State[ExecutionDesiredStateType] `json:"DesiredState"`
	ComputeState       State[ExecutionStateType]        `json:"ComputeState"`
	PublishedResult    *SpecConfig                      `json:"PublishedResult"`
	RunOutput          *RunCommandResult                `json:"RunOutput"`
	PreviousExecution  string                           `json:"PreviousExecution"`
	NextExecution      string                           `json:"NextExecution"`
	FollowupEvalID     string                           `json:"FollowupEvalID"`
	Revision           uint64                           `json:"Revision"`
	CreateTime         int64                            `json:"CreateTime"`
	ModifyTime         int64                            `json:"ModifyTime"`
}

// AllocatedResources holds the resources reserved for each task, by task
// name.
type AllocatedResources struct {
	Tasks map[string]*Resources `json:"Tasks"`
}

// Total sums the resources of every task, in task-name order: float sums
// depend on order, and every replica must reach the same total.
func (a *AllocatedResources) Total() Resources {
	var r Resources
	if a == nil {
		return r
	}
	for _, name := range slices.Sorted(maps.Keys(a.Tasks)) {
		if t := a.Tasks[name]; t != nil {
			r = r.Add(*t)
		}
	}
	return r
}

// RunCommandResult is what a task printed and how it ended. The keys are the
// spec page's, lowercase.
type RunCommandResult struct {
	STDOUT          string `json:"stdout"`
	StdoutTruncated bool   `json:"stdouttruncated"`
	STDERR          string `json:"stderr"`
	StderrTruncated bool   `json:"stderrtruncated"`
	ExitCode        int    `json:"exitCode"`
	ErrorMsg        string `json:"runnerError"`
}

// IsActive reports whether the execution holds (or may soon hold) resources
// on its node: it is not terminal on the compute side.
func (e *Execution) IsActive() bool {
	return !e.ComputeState.StateType.IsTerminal()
}

// IsTerminal reports whether the compute side is done with the execution.
func (e *Execution) IsTerminal() bool { return e.ComputeState.StateType.IsTerminal() }

// NodeLostMessage is the compute-state message of an execution failed
// because the leader declared its node lost. FailedWithNodeLoss recognises
// it; both sides use these two so the convention lives in one place.
func NodeLostMessage(nodeID, reason string) string {
	msg := "node " + nodeID + " lost"
	if reason != "" {
		msg += ": " + reason
	}
	return msg
}

// FailedWithNodeLoss reports whether the execution failed because its node
// was lost rather than for the job's own reasons.
func (e *Execution) FailedWithNodeLoss() bool {
	return e.ComputeState.StateType == ExecutionStateFailed &&
		strings.HasPrefix(e.ComputeState.Message, NodeLostMessage(e.NodeID, ""))
}
