package main

import (
	"bytes"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestProgressPrinterWordsEachChange(t *testing.T) {
	var buf bytes.Buffer
	p := &progressPrinter{w: &buf, env: testEnv(nil)}
	for _, ev := range fixHistory() {
		p.event(ev)
	}
	// The execution's AskForBidAccepted→AskForBidAccepted event says
	// nothing new and is left out.
	want := `08:35:02  job         Pending            Job created
08:35:02  e-5b1c7b48  New                placed on node n-3f2a1b4c
08:35:02  e-5b1c7b48  AskForBid          asked node n-3f2a1b4c to run it
08:35:02  e-5b1c7b48  AskForBidAccepted  node n-3f2a1b4c can run it
08:35:02  job         Running            the job is running
08:35:02  e-5b1c7b48  BidAccepted        running on node n-3f2a1b4c
08:35:03  e-5b1c7b48  Completed          finished on node n-3f2a1b4c
08:35:03  job         Completed          the job completed
`
	if got := buf.String(); got != want {
		t.Errorf("progress:\n%s\nwant:\n%s", got, want)
	}
}

func TestDescribeEvent(t *testing.T) {
	execEv := func(prev, next api.ExecutionStateType, node, comment string) *api.JobHistory {
		return &api.JobHistory{Type: api.JobHistoryTypeExecutionLevel, ExecutionID: fixExecID, NodeID: node,
			ExecutionState: &api.StateChange[api.ExecutionStateType]{Previous: prev, New: next}, Comment: comment}
	}
	jobEv := func(prev, next api.JobStateType, comment string) *api.JobHistory {
		return &api.JobHistory{Type: api.JobHistoryTypeJobLevel,
			JobState: &api.StateChange[api.JobStateType]{Previous: prev, New: next}, Comment: comment}
	}
	cases := []struct {
		name                    string
		ev                      *api.JobHistory
		subject, state, meaning string
		shown                   bool
	}{
		{"failure with its reason", execEv(api.ExecutionStateBidAccepted, api.ExecutionStateFailed, fixNodeID, "exit code 1"),
			"e-5b1c7b48", "Failed", "failed on node n-3f2a1b4c: exit code 1", true},
		{"a note without a state change shows only the note",
			execEv(api.ExecutionStateAskForBidAccepted, api.ExecutionStateAskForBidAccepted, fixNodeID, "execution approved"),
			"e-5b1c7b48", "AskForBidAccepted", "execution approved", true},
		{"no change and no note is left out", execEv(api.ExecutionStateBidAccepted, api.ExecutionStateBidAccepted, fixNodeID, ""),
			"", "", "", false},
		{"unknown node", execEv(api.ExecutionStateNew, api.ExecutionStateNew, "", ""), "e-5b1c7b48", "New", "placed on a node", true},
		{"rejected bid", execEv(api.ExecutionStateAskForBidAccepted, api.ExecutionStateBidRejected, fixNodeID, ""),
			"e-5b1c7b48", "BidRejected", "not needed: enough other executions run", true},
		{"job waits for nodes", jobEv(api.JobStateTypeRunning, api.JobStateTypePending, "no node matches"),
			"job", "Pending", "waiting for a node: no node matches", true},
		{"job fails with its message", jobEv(api.JobStateTypeRunning, api.JobStateTypeFailed, "job failed after 3 failed executions"),
			"job", "Failed", "the job failed: job failed after 3 failed executions", true},
		{"job stopped", jobEv(api.JobStateTypeRunning, api.JobStateTypeStopped, ""), "job", "Stopped", "the job was stopped", true},
		{"an event without states is left out", &api.JobHistory{Type: api.JobHistoryTypeExecutionLevel}, "", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subject, state, meaning, shown := describeEvent(c.ev)
			if subject != c.subject || state != c.state || meaning != c.meaning || shown != c.shown {
				t.Errorf("got (%q, %q, %q, %v), want (%q, %q, %q, %v)",
					subject, state, meaning, shown, c.subject, c.state, c.meaning, c.shown)
			}
		})
	}
}
