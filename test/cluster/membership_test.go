package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
)

func raftConfig(ctx context.Context, p *testcluster.Process) (*api.RaftConfigurationResponse, error) {
	r, err := p.Get(ctx, "/api/v1/operator/raft")
	if err != nil {
		return nil, err
	}
	var rc api.RaftConfigurationResponse
	return &rc, r.Decode(&rc)
}

// waitConfig waits until the leader's Raft configuration passes check.
func waitConfig(t *testing.T, ctx context.Context, c *testcluster.Cluster, what string, check func(map[string]api.RaftServer) bool) {
	t.Helper()
	var last *api.RaftConfigurationResponse
	for {
		if leader, err := c.WaitLeader(ctx); err == nil {
			if rc, err := raftConfig(ctx, leader); err == nil {
				last = rc
				servers := map[string]api.RaftServer{}
				for _, s := range rc.Servers {
					servers[s.ID] = s
				}
				if check(servers) {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s; last configuration %+v", what, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// A new replica joins through gossip as a non-voter and is promoted once it
// has caught up; a replica that stays dead past the grace is removed; an
// operator can move leadership and remove a peer by hand.
func TestReplicaMembershipChanges(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3, ReplicaArgs: []string{"--replica-dead-grace", "3s"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for i := range 20 {
		createJob(t, ctx, c.Running()[i%3], fmt.Sprintf("before-o4-%d", i))
	}

	o4, err := c.AddReplica()
	if err != nil {
		t.Fatal(err)
	}
	waitConfig(t, ctx, c, "o4 to become a voter", func(s map[string]api.RaftServer) bool {
		return len(s) == 4 && s["o4"].Voter
	})
	if _, err := c.WaitDigestsEqual(ctx); err != nil {
		t.Fatalf("o4 did not catch up: %v", err)
	}

	// Hand leadership to the newcomer, then take it back by hand.
	leader, _ := c.WaitLeader(ctx)
	r, err := leader.Do(ctx, http.MethodPost, "/api/v1/operator/raft/transfer-leadership", map[string]string{"ID": "o4"})
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("transfer leadership: %v %+v", err, r)
	}
	if l, err := c.WaitLeader(ctx); err != nil || l != o4 {
		t.Fatalf("leader after the transfer: %v %v", l, err)
	}

	// A replica that dies and stays dead is removed once the grace is over:
	// the other three still make a quorum.
	o4.Kill()
	waitConfig(t, ctx, c, "dead o4 to be removed", func(s map[string]api.RaftServer) bool {
		_, there := s["o4"]
		return len(s) == 3 && !there
	})

	// By hand: stop o3 and remove it; the two left keep taking writes.
	o3 := c.Replica("o3")
	o3.Kill()
	leader, err = c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err = leader.Do(ctx, http.MethodDelete, "/api/v1/operator/raft/peers/o3", nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("remove-peer o3: %v %+v", err, r)
	}
	waitConfig(t, ctx, c, "o3 removed", func(s map[string]api.RaftServer) bool { return len(s) == 2 })
	createJob(t, ctx, leader, "after-removals")
	if r, _ := leader.Do(ctx, http.MethodDelete, "/api/v1/operator/raft/peers/nobody", nil); r == nil || r.Status != http.StatusNotFound {
		t.Fatalf("removing an unknown peer answered %+v, want 404", r)
	}
}
