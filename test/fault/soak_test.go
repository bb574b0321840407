package fault

import (
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

// TestSoakMixedFaults runs both workloads for SHOAL_SOAK_DURATION (default
// 10m) while a random fault strikes every few seconds: kill -9 of the
// leader, SIGSTOP of the leader or of a follower, kill -9 of a compute
// node, kill -9 of every replica at once. Every victim comes back before
// the next fault. Then every check of
// the short tests runs on the whole history.
func TestSoakMixedFaults(t *testing.T) {
	skipUnlessSoak(t)
	d := 10 * time.Minute
	if v, err := time.ParseDuration(os.Getenv("SHOAL_SOAK_DURATION")); err == nil && v > 0 {
		d = v
	}
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 3, FastFailover: true,
		ComputeArgs: noopCompute(time.Second),
	})
	ctx := faultContext(t, c, d+10*time.Minute)
	batchRec, batchRun := workload.NewRecorder(), workload.NewRunID()
	regRec, regRun := workload.NewRecorder(), workload.NewRunID()
	stopBatch := createLoad{
		rec: batchRec, run: batchRun, clients: 4, count: 2, targets: runningTargets(c),
		readBack: true, gap: 50 * time.Millisecond, withoutTokenEvery: 5,
	}.start(ctx)
	stopReg := registerLoad{rec: regRec, run: regRun, clients: 4, targets: runningTargets(c), linearizable: true}.start(ctx)

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	end := time.Now().Add(d)
	for n := 1; time.Now().Before(end); n++ {
		time.Sleep(time.Duration(2+r.IntN(4)) * time.Second)
		leader, err := c.WaitLeader(ctx)
		if err != nil {
			t.Fatalf("fault %d: no leader: %v", n, err)
		}
		switch r.IntN(5) {
		case 0:
			t.Logf("fault %d: kill -9 leader %s", n, leader.ID)
			leader.Kill()
			if _, err := c.WaitLeaderAmong(ctx, c.Running()...); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			if err := leader.Start(); err != nil {
				t.Fatal(err)
			}
		case 1:
			t.Logf("fault %d: SIGSTOP leader %s for 2s", n, leader.ID)
			pauseFor(t, leader, 2*time.Second)
		case 2:
			f := c.Followers(leader)[r.IntN(2)]
			t.Logf("fault %d: SIGSTOP follower %s for 2s", n, f.ID)
			pauseFor(t, f, 2*time.Second)
		case 3:
			victim := c.Computes[r.IntN(len(c.Computes))]
			t.Logf("fault %d: kill -9 compute node %s for 5s", n, victim.ID)
			victim.Kill()
			time.Sleep(5 * time.Second)
			if err := victim.Start(); err != nil {
				t.Fatal(err)
			}
		case 4:
			t.Logf("fault %d: kill -9 every replica, restart them 1s later", n)
			testcluster.KillAll(c.Replicas...)
			time.Sleep(time.Second)
			for _, p := range c.Replicas {
				if err := p.Start(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	stopBatch()
	stopReg()
	if err := c.WaitNodes(ctx, len(c.Computes)); err != nil {
		t.Fatal(err)
	}
	verify(t, ctx, c, batchRec, batchRun, true)
	verify(t, ctx, c, regRec, regRun, false)
}

func pauseFor(t *testing.T, p *testcluster.Process, d time.Duration) {
	t.Helper()
	if err := p.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
}
