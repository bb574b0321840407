package fault

import (
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

// TestWholeClusterKillLosesNothing kills -9 every replica at the same
// moment while clients create jobs, then restarts them all from their data
// folders: every acknowledged create is still there, exactly once, and the
// compute nodes (which stayed up) find the cluster again and run every job
// to completion.
func TestWholeClusterKillLosesNothing(t *testing.T) {
	skipShort(t)
	wholeClusterKill(t, time.Second)
}

// TestWholeClusterLongOutage is the same crash with the replicas down for
// longer than gossip remembers dead members (memberlist's
// GossipToTheDeadTime: 15s with --gossip-profile local, 30s with lan). The
// compute nodes stay up and must find the restarted replicas again: a member
// left alone in gossip keeps re-joining its --join addresses.
func TestWholeClusterLongOutage(t *testing.T) {
	skipShort(t)
	wholeClusterKill(t, 25*time.Second)
}

func wholeClusterKill(t *testing.T, outage time.Duration) {
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 2, FastFailover: true,
		ComputeArgs: noopCompute(500 * time.Millisecond),
	})
	ctx := faultContext(t, c, 4*time.Minute+outage)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	// Clients keep every replica's address: while all are down their
	// creates fail to connect and are retried, with the same tokens, until
	// the cluster is back.
	everyone := func() []workload.Target {
		var out []workload.Target
		for _, p := range c.Replicas {
			out = append(out, target(p))
		}
		return out
	}
	stop := createLoad{
		rec: rec, run: run, clients: 4, count: 2,
		targets: everyone, readBack: true, gap: 50 * time.Millisecond,
	}.start(ctx)

	time.Sleep(4 * time.Second)
	before := len(workload.Acked(rec.Ops()))
	testcluster.KillAll(c.Replicas...)
	down := time.Now()
	t.Logf("killed all %d replicas with %d creates acknowledged; restarting them in %s", len(c.Replicas), before, outage)
	time.Sleep(outage)
	for _, p := range c.Replicas {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
	}
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatalf("no leader after the restart: %v", err)
	}
	t.Logf("%s leads %s after the crash", leader.ID, time.Since(down).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	stop()

	acked := workload.Acked(rec.Ops())
	if len(acked) <= before {
		t.Errorf("no create was acknowledged after the restart (%d before, %d in all)", before, len(acked))
	}
	verify(t, ctx, c, rec, run, true)
}
