package compute

import (
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestDecide(t *testing.T) {
	const (
		askForBid   = api.ExecutionStateAskForBid
		bidAccepted = api.ExecutionStateBidAccepted
		pending     = api.ExecutionDesiredStatePending
		running     = api.ExecutionDesiredStateRunning
		stopped     = api.ExecutionDesiredStateStopped
	)
	tests := []struct {
		name      string
		local     localView
		cs        api.ExecutionStateType
		ds        api.ExecutionDesiredStateType
		firstSync bool
		index     uint64
		want      action
	}{
		{name: "new ask for bid", cs: askForBid, ds: pending, want: actBid},
		{name: "ask for bid already answered", local: localView{phase: phaseBid}, cs: askForBid, ds: pending, want: actNone},
		{name: "ask for bid on first sync", cs: askForBid, ds: pending, firstSync: true, want: actBid},
		{name: "ask for bid stopped", cs: askForBid, ds: stopped, want: actNone},
		{name: "created, not yet asked", cs: api.ExecutionStateNew, ds: pending, want: actNone},
		{name: "bid waiting for approval", local: localView{phase: phaseBid}, cs: api.ExecutionStateAskForBidAccepted, ds: pending, want: actNone},
		{name: "our bid, unknown after restart", cs: api.ExecutionStateAskForBidAccepted, ds: pending, firstSync: true, want: actNone},
		{name: "bid approved", local: localView{phase: phaseBid}, cs: bidAccepted, ds: running, want: actStart},
		{name: "placed running directly (ops, daemon)", cs: bidAccepted, ds: running, want: actStart},
		{name: "approved but unknown after restart", cs: bidAccepted, ds: running, firstSync: true, want: actRecover},
		{name: "already running", local: localView{phase: phaseRunning}, cs: bidAccepted, ds: running, want: actNone},
		{name: "finished, report pending", local: localView{phase: phaseFinished}, cs: bidAccepted, ds: running, index: 9, want: actNone},
		{name: "finished, listing older than the accepted report", local: localView{phase: phaseFinished, ackIndex: 10}, cs: bidAccepted, ds: running, index: 9, want: actNone},
		{name: "finished, report lost by the cluster", local: localView{phase: phaseFinished, ackIndex: 10}, cs: bidAccepted, ds: running, index: 12, want: actResendFinal},
		{name: "approved but not yet running", cs: bidAccepted, ds: pending, want: actNone},
		{name: "stop wanted while running", local: localView{phase: phaseRunning}, cs: bidAccepted, ds: stopped, want: actCancel},
		{name: "cancelled while running", local: localView{phase: phaseRunning}, cs: api.ExecutionStateCancelled, ds: stopped, want: actCancel},
		{name: "failed (node lost) while running", local: localView{phase: phaseRunning}, cs: api.ExecutionStateFailed, ds: stopped, want: actCancel},
		{name: "bid rejected by the scheduler", local: localView{phase: phaseBid}, cs: api.ExecutionStateBidRejected, ds: stopped, want: actForget},
		{name: "our completion confirmed", local: localView{phase: phaseFinished, ackIndex: 5}, cs: api.ExecutionStateCompleted, ds: stopped, want: actForget},
		{name: "terminal and unknown", cs: api.ExecutionStateCompleted, ds: stopped, want: actNone},
		{name: "terminal on first sync", cs: api.ExecutionStateCancelled, ds: stopped, firstSync: true, want: actNone},
		{name: "stopped bid", local: localView{phase: phaseBid}, cs: api.ExecutionStateAskForBidAccepted, ds: stopped, want: actForget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := &api.Execution{ID: "e-1"}
			ex.ComputeState.StateType = tt.cs
			ex.DesiredState.StateType = tt.ds
			if got := decide(tt.local, ex, tt.firstSync, tt.index); got != tt.want {
				t.Fatalf("decide = %s, want %s", got, tt.want)
			}
		})
	}
}
