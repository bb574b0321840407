package fault

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

// TestFailoverBench measures, on real processes (make failover-bench; set
// SHOAL_FAILOVER_BENCH=1):
//   - the time from kill -9 of the leader to the first create acknowledged
//     by the new leader, sent by clients to the surviving replicas, over
//     SHOAL_FAILOVER_KILLS kills (default 20), with default Raft timeouts
//     and with testcluster.FastFailoverArgs;
//   - the time from kill -9 of a compute node running batch executions to
//     those executions being failed as lost and replaced elsewhere, with the
//     default and the tuned node-lost grace.
//
// SHOAL_FAILOVER_ARGS (replica flags, space-separated) adds a leader kill
// round with those flags, to try other timeouts.
//
// Figures are logged, not asserted: the machine is shared and noisy. The
// correctness checks of every round still apply.
func TestFailoverBench(t *testing.T) {
	skipShort(t)
	if os.Getenv("SHOAL_FAILOVER_BENCH") != "1" {
		t.Skip("failover measurements: set SHOAL_FAILOVER_BENCH=1 (make failover-bench)")
	}
	kills := testcluster.EnvInt("SHOAL_FAILOVER_KILLS", 20)
	rounds := testcluster.EnvInt("SHOAL_FAILOVER_COMPUTE_ROUNDS", 3)
	var summary []string
	t.Run("leader/defaults", func(t *testing.T) {
		summary = append(summary, "leader kill, default timeouts: "+leaderFailover(t, testcluster.Options{Replicas: 3}, kills))
	})
	t.Run("leader/tuned", func(t *testing.T) {
		summary = append(summary, "leader kill, tuned timeouts:   "+leaderFailover(t, testcluster.Options{Replicas: 3, FastFailover: true}, kills))
	})
	if extra := strings.Fields(os.Getenv("SHOAL_FAILOVER_ARGS")); len(extra) > 0 {
		t.Run("leader/custom", func(t *testing.T) {
			summary = append(summary, fmt.Sprintf("leader kill, %v: ", extra)+leaderFailover(t, testcluster.Options{Replicas: 3, ReplicaArgs: extra}, kills))
		})
	}
	t.Run("compute/defaults", func(t *testing.T) {
		summary = append(summary, "compute node kill, defaults:   "+computeFailover(t, false, rounds))
	})
	t.Run("compute/tuned", func(t *testing.T) {
		summary = append(summary, "compute node kill, tuned:      "+computeFailover(t, true, rounds))
	})
	t.Logf("\nfailover figures (3 replicas on loopback, %d leader kills, %d compute node kills per setting):\n  %s",
		kills, rounds, joinLines(summary))
}

// leaderFailover kills the leader kills times while clients keep creating
// jobs through the two surviving replicas, and reports the time from each
// kill to the first acknowledged create sent after it.
func leaderFailover(t *testing.T, opts testcluster.Options, kills int) string {
	c := testcluster.Start(t, opts)
	ctx := faultContext(t, c, time.Duration(kills)*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	var toAck, toLeader []time.Duration
	for i := range kills {
		if _, err := c.WaitDigestsEqual(ctx); err != nil {
			t.Fatalf("round %d: replicas did not converge: %v", i+1, err)
		}
		leader, err := c.WaitLeader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		survivors := c.Followers(leader)
		targets := func() []workload.Target {
			return []workload.Target{target(survivors[0]), target(survivors[1])}
		}
		// Steady load through the survivors, as real clients would send.
		stopLoad := createLoad{
			rec: rec, run: run, clients: 2, count: 1, targets: targets, gap: 20 * time.Millisecond, firstClient: 10 * (i + 1),
		}.start(ctx)
		time.Sleep(500 * time.Millisecond)

		killed := time.Now()
		leader.Kill()
		// Fresh clients on both survivors, from the moment of the kill.
		var wg sync.WaitGroup
		for j, s := range survivors {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := &workload.Client{ID: 10*(i+1) + 2 + j, Rec: rec}
				token := workload.Token(run, cl.ID, 0)
				for attempt := 1; ctx.Err() == nil; attempt++ {
					if op := cl.Create(ctx, target(s), token, workload.NoopJob(run, token, 1), attempt); op.Outcome == workload.OK {
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
		next, err := c.WaitLeaderAmong(ctx, survivors...)
		if err != nil {
			t.Fatalf("round %d: no new leader: %v", i+1, err)
		}
		elected := time.Since(killed)
		wg.Wait()
		stopLoad()
		first, ok := workload.FirstAckAfter(rec.Ops(), killed)
		if !ok {
			t.Fatalf("round %d: no create acknowledged after the kill", i+1)
		}
		toAck = append(toAck, first.Sub(killed))
		toLeader = append(toLeader, elected)
		t.Logf("kill %2d: %s killed, %s leads (seen after %s), first create acknowledged %s after the kill",
			i+1, leader.ID, next.ID, elected.Round(time.Millisecond), first.Sub(killed).Round(time.Millisecond))
		if err := leader.Start(); err != nil {
			t.Fatal(err)
		}
	}
	verify(t, ctx, c, rec, run, false)
	return fmt.Sprintf("kill → first acknowledged create p50 %s, max %s (min %s); kill → new leader seen p50 %s",
		pct(toAck, 50), pct(toAck, 100), pct(toAck, 0), pct(toLeader, 50))
}

// computeFailover kills a compute node running batch executions rounds
// times and reports how long detection and replacement took.
func computeFailover(t *testing.T, tuned bool, rounds int) string {
	opts := testcluster.Options{Replicas: 3, ComputeNodes: 3, ComputeArgs: noopCompute(5 * time.Second)}
	settle := 20 * time.Second // --leader-node-grace default
	if tuned {
		opts.FastFailover, settle = true, 3*time.Second
	}
	c := testcluster.Start(t, opts)
	// A new leader declares no node lost before its grace: measure node
	// loss, not that.
	time.Sleep(settle)
	ctx := faultContext(t, c, time.Duration(rounds)*3*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	var detected, replaced []time.Duration
	for i := range rounds {
		loss := computeLoss(t, ctx, c, rec, run, 6, killNode)
		detected = append(detected, loss.detected)
		replaced = append(replaced, loss.replaced)
		t.Logf("round %d: %s killed; executions failed as lost after %s, replacements created after %s, jobs done after %s",
			i+1, loss.victim, loss.detected.Round(time.Millisecond), loss.replaced.Round(time.Millisecond), loss.completed.Round(time.Millisecond))
	}
	verify(t, ctx, c, rec, run, true)
	return fmt.Sprintf("kill → executions failed as lost p50 %s max %s; kill → replacements placed p50 %s max %s",
		pct(detected, 50), pct(detected, 100), pct(replaced, 50), pct(replaced, 100))
}

// pct is the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	return s[max(0, min(len(s)-1, i-1))].Round(time.Millisecond)
}

func joinLines(lines []string) string {
	out := ""
	for i, l := range lines {
		if i > 0 {
			out += "\n  "
		}
		out += l
	}
	return out
}
