package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/membership"
)

// bootstrapLoop forms a new cluster once BootstrapExpect replicas see each
// other in gossip. Every one of them bootstraps with the same configuration
// (all the replicas it sees, by ID), which Raft accepts; one wins the first
// election. A replica that has ever been part of a cluster never bootstraps,
// and none does while any replica it sees already belongs to a cluster: that
// cluster's leader adds newcomers instead.
func (s *Server) bootstrapLoop(ctx context.Context) {
	existing, err := s.parts.hasExistingState()
	if err != nil {
		s.logger.Error("cannot read Raft state; not bootstrapping", "error", err)
		return
	}
	if existing {
		s.bootstrapped.Store(true)
		s.logger.Info("existing Raft state found; rejoining", "index", s.raft.LastIndex())
		return
	}
	if s.cfg.BootstrapExpect == 0 {
		s.logger.Info("waiting to be added to an existing cluster")
		return
	}
	changes, unsubscribe := s.pool.Subscribe()
	defer unsubscribe()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		done, err := s.tryBootstrap(ctx)
		if err != nil {
			s.logger.Warn("bootstrap attempt failed", "error", err)
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changes:
		case <-tick.C:
		}
	}
}

func (s *Server) tryBootstrap(ctx context.Context) (bool, error) {
	replicas := s.pool.Alive(membership.RoleOrchestrator)
	if len(replicas) < s.cfg.BootstrapExpect {
		return false, nil
	}
	for _, m := range replicas {
		if m.ID == s.cfg.NodeID {
			continue
		}
		inCluster, err := s.peerInCluster(ctx, m)
		if err != nil {
			return false, fmt.Errorf("ask %s whether it has a cluster: %w", m.ID, err)
		}
		if inCluster {
			s.logger.Info("a replica already belongs to a cluster; waiting to be added", "replica", m.ID)
			return true, nil
		}
	}
	var cfg raft.Configuration
	for _, m := range replicas {
		if m.RaftAddr == "" {
			return false, fmt.Errorf("replica %s gossips no Raft address", m.ID)
		}
		cfg.Servers = append(cfg.Servers, raft.Server{
			Suffrage: raft.Voter, ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.RaftAddr),
		})
	}
	err := s.raft.BootstrapCluster(cfg).Error()
	if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return false, fmt.Errorf("bootstrap: %w", err)
	}
	s.bootstrapped.Store(true)
	ids := make([]string, 0, len(cfg.Servers))
	for _, srv := range cfg.Servers {
		ids = append(ids, string(srv.ID))
	}
	s.logger.Info("bootstrapped cluster", "replicas", ids)
	return true, nil
}

func (s *Server) peerInCluster(ctx context.Context, m membership.Member) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.net.url(m.APIAddr)+"/api/v1/internal/raft-status", nil)
	if err != nil {
		return false, err
	}
	resp, err := s.peers.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
	var rc api.RaftConfigurationResponse
	if err := json.NewDecoder(resp.Body).Decode(&rc); err != nil {
		return false, err
	}
	return len(rc.Servers) > 0, nil
}
