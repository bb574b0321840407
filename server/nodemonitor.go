package server

import (
	"context"
	"fmt"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
	"github.com/shoal-io/shoal/membership"
)

// newNodeMonitor declares compute nodes lost, and back, on the leader only.
// Gossip says who is alive; the verdict goes through Raft, so every replica
// agrees on it and the scheduler replaces the lost work. A node must be gone
// for NodeLostGrace, and a new leader waits LeaderNodeGrace before declaring
// anything, so a leader flap never causes mass rescheduling.
func newNodeMonitor(s *Server) *leaderLoop {
	return &leaderLoop{run: func(ctx context.Context) { s.monitorNodes(ctx) }}
}

func (s *Server) monitorNodes(ctx context.Context) {
	leaderSince := time.Now()
	changes, unsubscribe := s.pool.Subscribe()
	defer unsubscribe()
	every(ctx, 500*time.Millisecond, changes, func() { s.checkNodes(ctx, leaderSince) })
}

func (s *Server) checkNodes(ctx context.Context, leaderSince time.Time) {
	nodes, err := s.fsm.State().Txn().Nodes()
	if err != nil {
		s.logger.Warn("node monitor: list nodes", "error", err)
		return
	}
	settled := time.Since(leaderSince) >= s.cfg.LeaderNodeGrace
	for _, n := range nodes {
		if n.NodeType != api.NodeTypeCompute {
			continue
		}
		member, known := s.pool.Member(n.NodeID)
		alive := known && member.IsAlive()
		var req *fsm.NodeStatusRequest
		switch {
		case n.Connection != api.NodeDisconnected && !alive && settled:
			// A node this process never saw alive counts as gone since we
			// became leader.
			goneSince := leaderSince
			if known {
				goneSince = member.Since
			}
			gone := time.Since(goneSince)
			// A node that said it was leaving is not coming back soon: no
			// need to wait out the grace before replacing its work.
			left := known && member.Status == membership.StatusLeft
			if gone < s.cfg.NodeLostGrace && !left {
				continue
			}
			req = &fsm.NodeStatusRequest{NodeID: n.NodeID, Connection: api.NodeDisconnected,
				Reason: fmt.Sprintf("no gossip from it for %s", gone.Round(time.Second))}
		case n.Connection == api.NodeDisconnected && alive:
			req = &fsm.NodeStatusRequest{NodeID: n.NodeID, Connection: api.NodeConnected, Reason: "back in gossip"}
		default:
			continue
		}
		req.Now = now()
		if _, _, err := s.apply(ctx, req); err != nil {
			s.logger.Warn("node monitor: record node status", "node", n.NodeID, "connection", req.Connection, "error", err)
			continue
		}
		if req.Connection == api.NodeDisconnected {
			s.metrics.nodesLost.Inc()
		}
		s.logger.Info("compute node status changed", "node", n.NodeID, "connection", req.Connection, "reason", req.Reason)
	}
}
