package fault

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

// TestComputeNodeLossDefaultTimings runs the default failure detection (LAN
// gossip profile, default --node-lost-grace) on one cluster: a compute node
// frozen for 3 s (SIGSTOP) while it runs 8 s batch executions is never
// declared lost and none of its work is replaced; a compute node killed
// under the same load has its work replaced, which this logs and holds to
// the 18 s in which an 8 s job must be done elsewhere. Only
// --leader-node-grace is shortened: it delays a new leader's first verdict,
// and the test does not want to wait out 20 s after the election.
func TestComputeNodeLossDefaultTimings(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 3,
		ReplicaArgs: []string{"--gossip-profile", "lan", "--leader-node-grace", "1s"},
		ComputeArgs: append(noopCompute(8*time.Second), "--gossip-profile", "lan"),
	})
	ctx := faultContext(t, c, 4*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()

	pause := func(t *testing.T, _ context.Context, _ *testcluster.Cluster, victim *testcluster.Process, _, _ []string) {
		pauseFor(t, victim, 3*time.Second)
	}
	computeFault(t, ctx, c, rec, run, 6, pause, false)
	if t.Failed() {
		t.FailNow()
	}

	loss := computeLoss(t, ctx, c, rec, run, 6, killNode)
	t.Logf("default timings: compute node %s killed: its executions failed %s later, replaced %s later; the last job completed %s after the kill",
		loss.victim, loss.detected.Round(time.Millisecond), loss.replaced.Round(time.Millisecond), loss.completed.Round(time.Millisecond))
	if loss.completed > 18*time.Second {
		t.Errorf("the 8 s jobs of the killed node completed elsewhere %s after the kill, want within 18 s", loss.completed.Round(time.Millisecond))
	}
	verify(t, ctx, c, rec, run, true)
}
