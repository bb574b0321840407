package server

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// raftParts is everything Raft keeps on disk and on the wire, so Shutdown
// can close it in order.
type raftParts struct {
	raft      *raft.Raft
	transport *raft.NetworkTransport
	store     *raftboltdb.BoltStore // stable store, and the log with bolt
	logs      logStore
	snapshots *raft.FileSnapshotStore
}

// logCacheEntries is how many recent log entries stay in memory for
// replication. An entry is a batch of up to MaxBatch commands; at 1024 the
// cache held 15 MB at 10,000 jobs, the largest fixed cost after the store.
// Followers in step are served from the newest few entries anyway.
const logCacheEntries = 256

func (s *Server) raftConfig() *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(s.cfg.NodeID)
	c.Logger = newHCLogger(s.logger.With("component", "raft"), "raft")
	t := s.cfg.Raft
	if t.HeartbeatTimeout > 0 {
		c.HeartbeatTimeout = t.HeartbeatTimeout
	}
	if t.ElectionTimeout > 0 {
		c.ElectionTimeout = t.ElectionTimeout
	}
	if t.LeaderLeaseTimeout > 0 {
		c.LeaderLeaseTimeout = t.LeaderLeaseTimeout
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		c.LeaderLeaseTimeout = c.HeartbeatTimeout
	}
	if t.CommitTimeout > 0 {
		c.CommitTimeout = t.CommitTimeout
	}
	c.SnapshotThreshold = t.SnapshotThreshold
	if t.SnapshotInterval > 0 {
		c.SnapshotInterval = t.SnapshotInterval
	}
	c.TrailingLogs = t.TrailingLogs
	// Leadership changes arrive on our own channel; Raft blocks on it, so it
	// is buffered and drained by the leadership loop.
	c.NotifyCh = s.leaderCh
	c.NoLegacyTelemetry = true
	return c
}

func (s *Server) openRaft() (*raftParts, error) {
	dir := filepath.Join(s.cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create Raft folder: %w", err)
	}
	kind, err := checkLogStore(dir, s.cfg.Raft.LogStore)
	if err != nil {
		return nil, err
	}
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("open Raft stable store: %w", err)
	}
	parts := &raftParts{store: store}
	fail := func(err error) (*raftParts, error) {
		parts.close()
		return nil, err
	}
	parts.logs, err = openLogStore(dir, kind, store)
	if err != nil {
		return fail(err)
	}
	logs, err := raft.NewLogCache(logCacheEntries, &timedLogStore{LogStore: parts.logs, observe: s.metrics.logStore.Observe})
	if err != nil {
		return fail(fmt.Errorf("raft log cache: %w", err))
	}
	rlog := &hclogWriter{logger: s.logger.With("component", "raft")}
	parts.snapshots, err = raft.NewFileSnapshotStore(dir, 2, rlog)
	if err != nil {
		return fail(fmt.Errorf("open Raft snapshot store: %w", err))
	}
	parts.transport, err = s.net.newRaftTransport(s.cfg.RaftAddr, s.cfg.AdvertiseRaftAddr, rlog)
	if err != nil {
		return fail(err)
	}
	parts.raft, err = raft.NewRaft(s.raftConfig(), s.timedFSM, logs, store, parts.snapshots, parts.transport)
	if err != nil {
		return fail(fmt.Errorf("start Raft: %w", err))
	}
	return parts, nil
}

// hasExistingState reports whether this replica has been part of a cluster
// before, so it must never bootstrap one.
func (p *raftParts) hasExistingState() (bool, error) {
	return raft.HasExistingState(p.logs, p.store, p.snapshots)
}

func (p *raftParts) close() {
	if p.raft != nil {
		if err := p.raft.Shutdown().Error(); err != nil {
			_ = err // shutting down anyway
		}
	}
	if p.transport != nil {
		_ = p.transport.Close()
	}
	if p.logs != nil {
		_ = p.logs.Close()
	}
	if p.store != nil {
		_ = p.store.Close()
	}
}
