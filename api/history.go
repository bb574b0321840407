package api

import "time"

// JobHistory is one event in a job's life: a job state change or an
// execution state change. The shape is the spec page's: both state fields are
// present, the one that does not apply is null.
type JobHistory struct {
	Type           JobHistoryType                   `json:"Type"`
	JobID          string                           `json:"JobID"`
	NodeID         string                           `json:"NodeID"`
	ExecutionID    string                           `json:"ExecutionID"`
	JobState       *StateChange[JobStateType]       `json:"JobState"`
	ExecutionState *StateChange[ExecutionStateType] `json:"ExecutionState"`
	NewRevision    uint64                           `json:"NewRevision"`
	Comment        string                           `json:"Comment"`
	Time           time.Time                        `json:"Time"`
}
