package server

import (
	"context"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// A follower answers a forwarded write as soon as the leader has committed
// and applied it, without waiting to apply it itself: it learns the commit
// only from the leader's next AppendEntries, and that wait (an extra Raft
// round for the barrier the batcher sends) was a third of a forwarded
// create's latency. Read-your-writes stays: the answer raises ackFloor, and
// every read a request makes here first waits until this replica has applied
// up to the floor. So a client that got the answer and then reads on this
// replica, by any connection, sees its write; what moved is who waits, and
// only a read that follows at once pays it. Background readers (the
// scheduler, metrics, the memory watch) need no floor.

// raiseFloor records that this replica acknowledged a write at index.
func (s *Server) raiseFloor(index uint64) {
	for {
		cur := s.ackFloor.Load()
		if index <= cur || s.ackFloor.CompareAndSwap(cur, index) {
			return
		}
	}
}

// appliedFloor waits until this replica has applied every write it has
// acknowledged. A replica cut off from its leader cannot: after LeaderWait
// (what a write waits for a leader) it answers 503 rather than a read that
// misses an acknowledged write.
func (s *Server) appliedFloor(ctx context.Context) error {
	floor := s.ackFloor.Load()
	st := s.fsm.State()
	if st.Index() >= floor {
		return nil
	}
	if s.cfg.LeaderWait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.LeaderWait)
		defer cancel()
	}
	if err := st.WaitForIndex(ctx, floor); err != nil {
		return api.NewError(api.ErrUnavailable, api.CodeServiceUnavailable, api.ComponentRaft,
			"replica %s has not yet applied index %d, a write it acknowledged: %v", s.cfg.NodeID, floor, err)
	}
	return nil
}

// localTxn is the read view for a request that reads this replica's own
// state: at least every write this replica has acknowledged.
func (s *Server) localTxn(ctx context.Context) (*fsm.ReadTxn, error) {
	if err := s.appliedFloor(ctx); err != nil {
		return nil, err
	}
	return s.fsm.State().Txn(), nil
}
