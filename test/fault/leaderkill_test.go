package fault

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

// leaderKills kills the leader with SIGKILL every interval, kills times,
// restarting each victim once a new leader is in place so the next kill
// still leaves a quorum. It returns the failover times it saw (kill to a new
// leader all running replicas agree on).
func leaderKills(t *testing.T, ctx context.Context, c *testcluster.Cluster, kills int, interval time.Duration) []time.Duration {
	t.Helper()
	var failovers []time.Duration
	for i := range kills {
		select {
		case <-ctx.Done():
			t.Fatalf("kill %d: %v", i+1, ctx.Err())
		case <-time.After(interval):
		}
		leader, err := c.WaitLeader(ctx)
		if err != nil {
			t.Fatalf("kill %d: no leader to kill: %v", i+1, err)
		}
		start := time.Now()
		leader.Kill()
		next, err := c.WaitLeaderAmong(ctx, c.Running()...)
		if err != nil {
			t.Fatalf("kill %d: no new leader after killing %s: %v", i+1, leader.ID, err)
		}
		failovers = append(failovers, time.Since(start))
		t.Logf("kill %d: killed leader %s, %s leads after %s", i+1, leader.ID, next.ID, time.Since(start).Round(time.Millisecond))
		if err := leader.Start(); err != nil {
			t.Fatalf("restart %s: %v", leader.ID, err)
		}
	}
	return failovers
}

// TestLeaderKillUnderLoad kills the leader every few seconds while clients
// create batch jobs on all replicas and compute nodes run them. Afterwards
// every acknowledged job exists once and ends Completed with exactly Count
// completed executions, and all replicas report the same digest.
func TestLeaderKillUnderLoad(t *testing.T) {
	skipShort(t)
	leaderKillUnderLoad(t, 6, 4*time.Second, 6)
}

// TestSoakLeaderKill is the long variant (make soak).
func TestSoakLeaderKill(t *testing.T) {
	skipUnlessSoak(t)
	leaderKillUnderLoad(t, 60, 4*time.Second, 8)
}

func leaderKillUnderLoad(t *testing.T, kills int, interval time.Duration, clients int) {
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 3, FastFailover: true,
		ComputeArgs: noopCompute(time.Second),
	})
	ctx := faultContext(t, c, time.Duration(kills)*interval+5*time.Minute)

	rec, run := workload.NewRecorder(), workload.NewRunID()
	stop := createLoad{
		rec: rec, run: run, clients: clients, count: 2,
		targets: runningTargets(c), readBack: true, gap: 25 * time.Millisecond, withoutTokenEvery: 4,
	}.start(ctx)
	leaderKills(t, ctx, c, kills, interval)
	time.Sleep(interval) // load on the last leader, too
	stop()

	acked := len(workload.Acked(rec.Ops()))
	if acked == 0 {
		t.Fatal("no create was acknowledged: the run proves nothing")
	}
	t.Logf("%d jobs acknowledged over %d leader kills", acked, kills)
	verify(t, ctx, c, rec, run, true)
}
