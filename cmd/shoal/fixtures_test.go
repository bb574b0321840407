package main

import (
	"github.com/shoal-io/shoal/api"
)

const (
	fixJobID   = "j-450196c5-9022-4df3-b5e1-6d2cd6b15223"
	fixExecID  = "e-5b1c7b48-fae1-45f1-bb7c-2fab91a95660"
	fixExec2ID = "e-c6512bba-4d3a-4e83-9f9a-4c6e94683e6a"
	fixNodeID  = "n-3f2a1b4c-0d1e-4f5a-8b6c-7d8e9f0a1b2c"
)

// fixJob is a completed wasm batch job, as upstream's recorded describe.
func fixJob(state api.JobStateType, message string) *api.Job {
	return &api.Job{
		ID: fixJobID, Name: "wasm-url-hello", Namespace: "default", Type: "batch", Count: 1,
		Constraints: []*api.LabelSelectorRequirement{}, Meta: map[string]string{}, Labels: map[string]string{"env": "dev"},
		Tasks: []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "wasm", Params: map[string]any{
			"EntryModule": map[string]any{"Source": map[string]any{"Type": "urlDownload", "Params": map[string]any{"URL": "http://127.0.0.1:8000/hello.wasm"}}},
		}}}},
		State:    api.State[api.JobStateType]{StateType: state, Message: message},
		Revision: 3, CreateTime: at(8, 35, 2), ModifyTime: at(8, 35, 3),
	}
}

// fixExecution is an execution in a state, with output.
func fixExecution(id string, state api.ExecutionStateType, created int64, out *api.RunCommandResult) *api.Execution {
	return &api.Execution{
		ID: id, Namespace: "default", NodeID: fixNodeID, JobID: fixJobID,
		DesiredState: api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateStopped},
		ComputeState: api.State[api.ExecutionStateType]{StateType: state},
		RunOutput:    out, Revision: 6, CreateTime: created, ModifyTime: created + 1e9,
	}
}

// fixHistory is the history of a batch execution from creation to state.
func fixHistory() []*api.JobHistory {
	job := func(rev uint64, prev, next api.JobStateType, comment string, sec int) *api.JobHistory {
		return &api.JobHistory{Type: api.JobHistoryTypeJobLevel, JobID: fixJobID, NewRevision: rev,
			JobState: &api.StateChange[api.JobStateType]{Previous: prev, New: next}, Comment: comment,
			Time: fromNanos(at(8, 35, sec)).UTC()}
	}
	exec := func(rev uint64, prev, next api.ExecutionStateType, comment string, sec int) *api.JobHistory {
		return &api.JobHistory{Type: api.JobHistoryTypeExecutionLevel, JobID: fixJobID, NodeID: fixNodeID, ExecutionID: fixExecID,
			NewRevision: rev, ExecutionState: &api.StateChange[api.ExecutionStateType]{Previous: prev, New: next},
			Comment: comment, Time: fromNanos(at(8, 35, sec)).UTC()}
	}
	return []*api.JobHistory{
		job(1, api.JobStateTypePending, api.JobStateTypePending, "Job created", 2),
		exec(1, api.ExecutionStateNew, api.ExecutionStateNew, "", 2),
		exec(2, api.ExecutionStateNew, api.ExecutionStateAskForBid, "", 2),
		exec(3, api.ExecutionStateAskForBid, api.ExecutionStateAskForBidAccepted, "", 2),
		exec(4, api.ExecutionStateAskForBidAccepted, api.ExecutionStateAskForBidAccepted, "", 2),
		job(2, api.JobStateTypePending, api.JobStateTypeRunning, "", 2),
		exec(5, api.ExecutionStateAskForBidAccepted, api.ExecutionStateBidAccepted, "", 2),
		exec(6, api.ExecutionStateBidAccepted, api.ExecutionStateCompleted, "", 3),
		job(3, api.JobStateTypeRunning, api.JobStateTypeCompleted, "", 3),
	}
}
