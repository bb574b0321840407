package server

import (
	"context"
	"time"
)

// barrierTimeout bounds the wait for a new leader to apply the entries of
// earlier terms; on timeout the leader tries again while it still leads.
const barrierTimeout = 30 * time.Second

// leadershipLoop turns the leader-only parts on and off as Raft reports
// leadership changes.
func (s *Server) leadershipLoop(ctx context.Context) {
	var stopEstablish context.CancelFunc
	for {
		select {
		case <-ctx.Done():
			if stopEstablish != nil {
				stopEstablish()
			}
			return
		case isLeader := <-s.leaderCh:
			s.metrics.leaderChanges.Inc()
			if stopEstablish != nil {
				stopEstablish()
				stopEstablish = nil
			}
			s.revokeLeadership()
			if isLeader {
				var termCtx context.Context
				termCtx, stopEstablish = context.WithCancel(ctx)
				go s.establishLeadership(termCtx)
			}
		}
	}
}

// establishLeadership waits until this leader has applied everything
// committed before its term (a Raft barrier), so the scheduler and friends
// start from complete state, then enables them.
func (s *Server) establishLeadership(ctx context.Context) {
	start := time.Now()
	for s.isLeader() {
		err := s.raft.Barrier(barrierTimeout).Error()
		if err == nil {
			break
		}
		s.logger.Warn("leader barrier failed, retrying", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	if ctx.Err() != nil || !s.isLeader() {
		return
	}
	for _, c := range s.leaderComponents {
		c.SetEnabled(true)
	}
	s.leaderReady.Store(true)
	s.logger.Info("leadership established", "after", time.Since(start).Round(time.Millisecond), "index", s.raft.AppliedIndex())
}

// revokeLeadership disables the leader-only parts, last enabled first. It is
// idempotent: it runs on every leadership change and at shutdown. The lock
// keeps an establishLeadership that is still finishing from enabling parts
// after they were disabled.
func (s *Server) revokeLeadership() {
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	wasReady := s.leaderReady.Swap(false)
	for i := len(s.leaderComponents) - 1; i >= 0; i-- {
		s.leaderComponents[i].SetEnabled(false)
	}
	if wasReady {
		s.logger.Info("leadership revoked")
	}
}
