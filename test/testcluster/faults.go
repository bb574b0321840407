package testcluster

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/shoal-io/shoal/api"
)

// KillAll sends SIGKILL to every process at (nearly) the same moment and
// waits until all are gone: a whole-cluster crash rather than a sequence of
// single failures.
func KillAll(ps ...*Process) {
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Kill()
		}()
	}
	wg.Wait()
}

// WaitLeaderAmong waits until the given replicas agree on a leader that is
// one of them, and returns it. Unlike WaitLeader it never asks a replica
// outside the set, so it works while another replica is paused (SIGSTOP),
// which would not answer.
func (c *Cluster) WaitLeaderAmong(ctx context.Context, replicas ...*Process) (*Process, error) {
	var last error
	for {
		leader, err := agreedLeaderAmong(ctx, replicas)
		if err == nil {
			return leader, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ctx.Err(), last)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func agreedLeaderAmong(ctx context.Context, replicas []*Process) (*Process, error) {
	if len(replicas) == 0 {
		return nil, ErrNoReplica
	}
	leaderID := ""
	for _, p := range replicas {
		// A short bound per request: one slow replica must not stall the poll.
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		// The replicas' own status endpoint: open even with ACLs on.
		r, err := p.getAsReplica(rctx, "/api/v1/internal/raft-status")
		if err == nil && r.Status == http.StatusNotFound {
			// A binary from before that endpoint (make bench-compare
			// OLD=…) answers the same on the operator route.
			r, err = p.getAsReplica(rctx, "/api/v1/operator/raft")
		}
		cancel()
		if err != nil {
			return nil, err
		}
		var rc api.RaftConfigurationResponse
		if err := r.Decode(&rc); err != nil {
			return nil, err
		}
		if rc.Leader == "" {
			return nil, fmt.Errorf("%s knows no leader", p.ID)
		}
		if leaderID != "" && rc.Leader != leaderID {
			return nil, fmt.Errorf("replicas disagree on the leader: %s vs %s", leaderID, rc.Leader)
		}
		leaderID = rc.Leader
	}
	i := slices.IndexFunc(replicas, func(p *Process) bool { return p.ID == leaderID })
	if i < 0 {
		return nil, fmt.Errorf("leader %q is not among the replicas asked", leaderID)
	}
	return replicas[i], nil
}

// Others returns the cluster's replicas other than the given ones, running
// or not.
func (c *Cluster) Others(exclude ...*Process) []*Process {
	var out []*Process
	for _, p := range c.Replicas {
		if !slices.Contains(exclude, p) {
			out = append(out, p)
		}
	}
	return out
}

// Crashed reports whether the process was started and has since exited
// without the test stopping it (Kill or Stop), and how it ended.
func (p *Process) Crashed() (bool, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false, ""
	}
	select {
	case <-p.exited:
		// exited is closed after Wait, so ProcessState is safe to read.
		return true, p.cmd.ProcessState.String()
	default:
		return false, ""
	}
}
