package compute

import (
	"github.com/shoal-io/shoal/api"
)

// action is what the node does about one execution the cluster told it of.
type action int

const (
	actNone        action = iota
	actBid                // decide on the ask for a bid and report it
	actStart              // run it
	actCancel             // stop the run, report nothing
	actForget             // drop the local record
	actRecover            // first sight after a node restart of something approved: interrupted
	actResendFinal        // the cluster lost our final report: send it again
)

func (a action) String() string {
	return [...]string{"none", "bid", "start", "cancel", "forget", "recover", "resend-final"}[a]
}

// localView is what reconciling needs from the local record.
type localView struct {
	phase    phase
	ackIndex uint64
}

// decide compares the cluster's view of an execution with the node's.
// firstSync is true for the first listing after the node process started,
// when anything approved but unknown here was interrupted by the restart.
// index is the state index of the listing.
func decide(local localView, ex *api.Execution, firstSync bool, index uint64) action {
	cs := ex.ComputeState.StateType
	ds := ex.DesiredState.StateType
	switch {
	case cs.IsTerminal(), ds == api.ExecutionDesiredStateStopped:
		switch local.phase {
		case phaseRunning:
			return actCancel
		case phaseUnknown:
			return actNone
		}
		return actForget
	case cs == api.ExecutionStateAskForBid:
		if local.phase == phaseUnknown {
			return actBid
		}
	case cs == api.ExecutionStateBidAccepted && ds == api.ExecutionDesiredStateRunning:
		switch local.phase {
		case phaseUnknown:
			if firstSync {
				return actRecover
			}
			return actStart
		case phaseBid:
			return actStart
		case phaseFinished:
			// Still running for the cluster although it accepted our
			// final report before this listing: the report was lost (a
			// restore from an older snapshot).
			if local.ackIndex > 0 && index >= local.ackIndex {
				return actResendFinal
			}
		}
	}
	return actNone
}
