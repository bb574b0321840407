package server

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// Raft's own trigger counts log entries, but an entry carries up to MaxBatch
// commands, so 1024 entries may be half a million commands: a replica
// killed then would replay them all before it serves again, at the apply
// rate (about 10,000 a second on a small machine with a large store). The
// policy here bounds that replay in commands, which is what it costs:
//
//   - a snapshot once SnapshotCommands commands were applied since the last;
//   - once the writes quieten (fewer than quietCommands in a check interval),
//     a snapshot of what is left if it is more than an eighth of that, so a
//     replica that has just taken a burst restarts from a snapshot of it;
//   - at a graceful shutdown, a snapshot of what is left unless that is
//     under a thousand commands: a SIGTERM'd replica restarts with next to
//     nothing to replay.
//
// A snapshot's cost grows with the store (seconds at 100,000 jobs), so the
// threshold is not lower: under sustained load it would spend more on
// snapshots than on the writes.
const (
	snapshotCheckEvery = 5 * time.Second
	quietCommands      = 64
	shutdownSnapshot   = 20 * time.Second
	// shutdownSnapshotMin is what a stopping replica leaves to replay
	// rather than snapshot: a thousand commands replay in a fraction of a
	// second, a snapshot of a large store takes seconds.
	shutdownSnapshotMin = 1024
)

// snapshotLoop runs on every replica: snapshots are local.
func (s *Server) snapshotLoop(ctx context.Context) {
	t := time.NewTicker(snapshotCheckEvery)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := s.fsm.CommandsSinceSnapshot()
		quiet := n >= last && n-last < quietCommands
		last = n
		if reason, ok := snapshotDue(s.cfg.Raft.SnapshotCommands, n, quiet); ok {
			if s.takeSnapshot(ctx, reason, n) && reason == "quiet" {
				s.quietSnapshots.Add(1)
			}
			last = s.fsm.CommandsSinceSnapshot()
		}
	}
}

// snapshotDue says whether n commands since the last snapshot call for one
// now, with limit the most a replica may have to replay, and why.
func snapshotDue(limit, n uint64, quiet bool) (string, bool) {
	switch {
	case n >= limit:
		return "commands", true
	case quiet && n > 0 && n >= limit/8:
		return "quiet", true
	}
	return "", false
}

// takeSnapshot asks Raft for a snapshot and waits for it (or ctx); true when
// one was taken.
func (s *Server) takeSnapshot(ctx context.Context, reason string, commands uint64) bool {
	start := time.Now()
	f := s.raft.Snapshot()
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case <-ctx.Done():
		s.logger.Info("snapshot still running at shutdown", "reason", reason)
		return false
	case err := <-done:
		if errors.Is(err, raft.ErrNothingNewToSnapshot) {
			return false
		}
		if err != nil {
			s.logger.Warn("snapshot failed", "reason", reason, "error", err)
			return false
		}
	}
	s.logger.Info("snapshot taken", "reason", reason, "commands", commands, "took", time.Since(start).Round(time.Millisecond))
	return true
}

// snapshotBeforeShutdown leaves a stopping replica a snapshot of what it
// applied, so its restart restores instead of replaying.
func (s *Server) snapshotBeforeShutdown() {
	n := s.fsm.CommandsSinceSnapshot()
	if n == 0 || n < min(shutdownSnapshotMin, s.cfg.Raft.SnapshotCommands/8) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownSnapshot)
	defer cancel()
	s.takeSnapshot(ctx, "shutdown", n)
}
