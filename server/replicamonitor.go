package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/membership"
)

// Replica membership, as Nomad's autopilot does it, on the leader only: a
// replica that appears in gossip and is not in the Raft configuration joins
// as a non-voter; once it has kept up with the leader for a while it is
// promoted to voter; a replica that left, or stayed dead for
// ReplicaDeadGrace, is removed — never when the remaining voters would lack
// a quorum.
const (
	// promoteLag is how many entries behind the leader a non-voter may be
	// and still count as caught up.
	promoteLag = 256
	// promoteStable is how long a non-voter must stay caught up before it
	// gets a vote.
	promoteStable = 5 * time.Second
)

func newReplicaMonitor(s *Server) *leaderLoop {
	return &leaderLoop{run: func(ctx context.Context) {
		caughtUpSince := map[string]time.Time{}
		changes, unsubscribe := s.pool.Subscribe()
		defer unsubscribe()
		every(ctx, 2*time.Second, changes, func() {
			if err := s.reconcileReplicas(ctx, caughtUpSince); err != nil {
				s.logger.Warn("replica reconcile", "error", err)
			}
		})
	}}
}

func (s *Server) reconcileReplicas(ctx context.Context, caughtUpSince map[string]time.Time) error {
	future := s.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	servers := future.Configuration().Servers
	inConfig := map[string]raft.Server{}
	for _, srv := range servers {
		inConfig[string(srv.ID)] = srv
	}
	members := map[string]membership.Member{}
	for _, m := range s.pool.Members() {
		if m.Role == membership.RoleOrchestrator {
			members[m.ID] = m
		}
	}

	for id, m := range members {
		if _, ok := inConfig[id]; ok || !m.IsAlive() || m.RaftAddr == "" {
			continue
		}
		if err := s.net.checkRaftPeer(ctx, m.RaftAddr); err != nil {
			s.logger.Warn("not adding replica: its Raft address failed the TLS check", "replica", id, "error", err)
			continue
		}
		if err := s.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(m.RaftAddr), 0, raftConfigTimeout).Error(); err != nil {
			return fmt.Errorf("add %s as non-voter: %w", id, err)
		}
		s.logger.Info("added replica as non-voter", "replica", id, "raft", m.RaftAddr)
	}

	for id, srv := range inConfig {
		if id == s.cfg.NodeID || srv.Suffrage == raft.Voter {
			continue
		}
		m, ok := members[id]
		if !ok || !m.IsAlive() || !s.caughtUp(ctx, m) {
			delete(caughtUpSince, id)
			continue
		}
		since, ok := caughtUpSince[id]
		if !ok {
			caughtUpSince[id] = time.Now()
			continue
		}
		if time.Since(since) < promoteStable {
			continue
		}
		if err := s.raft.AddVoter(srv.ID, srv.Address, 0, raftConfigTimeout).Error(); err != nil {
			return fmt.Errorf("promote %s: %w", id, err)
		}
		delete(caughtUpSince, id)
		s.logger.Info("promoted replica to voter", "replica", id)
	}

	if s.cfg.ReplicaDeadGrace < 0 {
		return nil
	}
	for id, srv := range inConfig {
		m, known := members[id]
		if id == s.cfg.NodeID || !known || m.IsAlive() {
			continue
		}
		if m.Status != membership.StatusLeft && time.Since(m.Since) < s.cfg.ReplicaDeadGrace {
			continue
		}
		if !removalKeepsQuorum(servers, members, id) {
			s.logger.Warn("not removing dead replica: the rest would lack a quorum", "replica", id)
			continue
		}
		if err := s.raft.RemoveServer(srv.ID, 0, raftConfigTimeout).Error(); err != nil {
			return fmt.Errorf("remove %s: %w", id, err)
		}
		s.pool.Forget(id)
		s.logger.Info("removed replica from Raft configuration", "replica", id, "status", m.Status, "since", m.Since)
	}
	return nil
}

// removalKeepsQuorum reports whether the voters that would remain, and are
// alive, still form a majority of the configuration without id.
func removalKeepsQuorum(servers []raft.Server, members map[string]membership.Member, id string) bool {
	voters, alive := 0, 0
	for _, srv := range servers {
		if srv.Suffrage != raft.Voter || string(srv.ID) == id {
			continue
		}
		voters++
		if m, ok := members[string(srv.ID)]; ok && m.IsAlive() {
			alive++
		}
	}
	return voters > 0 && alive >= voters/2+1
}

// caughtUp asks a replica how far it has applied.
func (s *Server) caughtUp(ctx context.Context, m membership.Member) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.net.url(m.APIAddr)+"/api/v1/internal/raft-status", nil)
	if err != nil {
		return false
	}
	resp, err := s.peers.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var rc api.RaftConfigurationResponse
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&rc) != nil {
		return false
	}
	return rc.Index+promoteLag >= s.raft.AppliedIndex()
}
