package fault

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

// TestComputeNodeKillReplacesExecutions kills -9 a compute node while it
// runs executions: the leader declares it lost, its executions are failed
// and replaced on the other nodes, and every job completes with exactly
// Count completed executions.
func TestComputeNodeKillReplacesExecutions(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 3, FastFailover: true,
		ComputeArgs: noopCompute(5 * time.Second),
	})
	ctx := faultContext(t, c, 4*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	loss := computeLoss(t, ctx, c, rec, run, 6, killNode)
	t.Logf("compute node %s killed: its executions failed %s later, replaced %s later; the last job completed %s after the kill",
		loss.victim, loss.detected.Round(time.Millisecond), loss.replaced.Round(time.Millisecond), loss.completed.Round(time.Millisecond))
	verify(t, ctx, c, rec, run, true)
}

// lossTimes is what one compute node kill measured, from the kill.
type lossTimes struct {
	victim    string
	detected  time.Duration // first of its executions failed as lost
	replaced  time.Duration // last replacement execution created
	completed time.Duration // last job of the round completed
}

// nodeFault takes a compute node away; computeLoss brings it back after.
// jobs are the round's jobs, execs the victim's executions among them.
type nodeFault func(t *testing.T, ctx context.Context, c *testcluster.Cluster, victim *testcluster.Process, jobs, execs []string)

func killNode(t *testing.T, _ context.Context, _ *testcluster.Cluster, victim *testcluster.Process, _, _ []string) {
	victim.Kill()
}

// computeLoss creates jobs batch jobs of Count 2, waits until they run,
// applies fault to the compute node running the most of them, waits for
// every job to complete, and checks the victim's executions were failed as
// lost (or had completed before the fault). The victim is running and
// connected again before it returns.
func computeLoss(t *testing.T, ctx context.Context, c *testcluster.Cluster, rec *workload.Recorder, run string, jobs int, fault nodeFault) lossTimes {
	t.Helper()
	return computeFault(t, ctx, c, rec, run, jobs, fault, true)
}

// computeFault is computeLoss; with wantLost false the fault must instead go
// unnoticed: the victim's executions complete on it, none is failed as lost
// or replaced, and the victim stays connected.
func computeFault(t *testing.T, ctx context.Context, c *testcluster.Cluster, rec *workload.Recorder, run string, jobs int, fault nodeFault, wantLost bool) lossTimes {
	t.Helper()
	all := runningTargets(c)
	cl := &workload.Client{ID: 0, Rec: rec}
	var ids []string
	for range jobs {
		// Rounds share the recorder: its length keeps tokens unique.
		token := workload.Token(run, 0, len(rec.Ops()))
		op := cl.CreateUntilDone(ctx, all, len(ids), token, workload.NoopJob(run, token, 2))
		if op.Outcome != workload.OK {
			t.Fatalf("create: %s", op)
		}
		ids = append(ids, op.JobID)
	}
	at := all()[0]

	// Wait until every execution has started (or already finished), then
	// take the node running the most.
	var running map[string][]string // node → execution IDs
	err := waitUntil(ctx, 100*time.Millisecond, func() (bool, error) {
		running = map[string][]string{}
		starting, n := 0, 0
		for _, id := range ids {
			execs, err := workload.JobExecutions(ctx, at, id)
			if err != nil {
				return false, err
			}
			for _, e := range execs {
				switch {
				case e.ComputeState.StateType == api.ExecutionStateBidAccepted && e.DesiredState.StateType == api.ExecutionDesiredStateRunning:
					running[e.NodeID] = append(running[e.NodeID], e.ID)
					n++
				case !e.IsTerminal():
					starting++
				}
			}
		}
		return starting == 0 && n > 0, fmt.Errorf("%d executions running, %d starting", n, starting)
	})
	if err != nil {
		t.Fatalf("executions did not start: %v", err)
	}
	var victim *testcluster.Process
	for _, p := range c.Computes {
		if victim == nil || len(running[p.ID]) > len(running[victim.ID]) {
			victim = p
		}
	}
	if len(running[victim.ID]) == 0 {
		t.Fatalf("no compute node runs anything: %v", running)
	}
	killed := time.Now()
	fault(t, ctx, c, victim, ids, running[victim.ID])
	t.Logf("took away compute node %s running %d executions", victim.ID, len(running[victim.ID]))

	if _, err := waitRunSettled(ctx, at, run, true); err != nil {
		t.Fatal(err)
	}
	times := lossTimes{victim: victim.ID}
	onVictim := map[string]bool{}
	for _, id := range running[victim.ID] {
		onVictim[id] = true
	}
	for _, id := range ids {
		var job api.GetJobResponse
		if _, err := workload.GetJSON(ctx, at, "/api/v1/orchestrator/jobs/"+url.PathEscape(id), &job); err != nil {
			t.Fatal(err)
		}
		times.completed = max(times.completed, time.Unix(0, job.Job.ModifyTime).Sub(killed))
		execs, err := workload.JobExecutions(ctx, at, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range execs {
			modified := time.Unix(0, e.ModifyTime)
			if !wantLost {
				switch {
				case e.FailedWithNodeLoss():
					t.Errorf("execution %s on %s was failed as lost: %q", e.ID, e.NodeID, e.ComputeState.Message)
				case time.Unix(0, e.CreateTime).After(killed):
					t.Errorf("execution %s on %s was created after the fault: work was replaced", e.ID, e.NodeID)
				}
				continue
			}
			switch {
			case onVictim[e.ID] && e.FailedWithNodeLoss():
				if d := modified.Sub(killed); times.detected == 0 || d < times.detected {
					times.detected = d
				}
			case onVictim[e.ID] && e.ComputeState.StateType == api.ExecutionStateCompleted && !modified.After(killed):
				// It finished just before the kill.
			case onVictim[e.ID]:
				t.Errorf("execution %s was running on killed node %s and ended %s %q, want failed as lost",
					e.ID, victim.ID, e.ComputeState.StateType, e.ComputeState.Message)
			case time.Unix(0, e.CreateTime).After(killed):
				if e.NodeID == victim.ID {
					t.Errorf("replacement %s was placed on the dead node %s", e.ID, victim.ID)
				}
				times.replaced = max(times.replaced, time.Unix(0, e.CreateTime).Sub(killed))
			}
		}
	}
	if times.detected == 0 && wantLost {
		t.Errorf("no execution of %s was failed as lost", victim.ID)
	}
	if !wantLost {
		var node api.GetNodeResponse
		if _, err := workload.GetJSON(ctx, at, "/api/v1/orchestrator/nodes/"+victim.ID, &node); err != nil {
			t.Fatal(err)
		} else if node.Node.Connection != api.NodeConnected {
			t.Errorf("paused node %s is %s, want %s", victim.ID, node.Node.Connection, api.NodeConnected)
		}
	}
	if !victim.Running() {
		var node api.GetNodeResponse
		if _, err := workload.GetJSON(ctx, at, "/api/v1/orchestrator/nodes/"+victim.ID, &node); err != nil {
			t.Fatal(err)
		} else if node.Node.Connection != api.NodeDisconnected {
			t.Errorf("killed node %s is %s, want %s", victim.ID, node.Node.Connection, api.NodeDisconnected)
		}
	}
	if !victim.Running() {
		if err := victim.Start(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitNodes(ctx, len(c.Computes)); err != nil {
		t.Fatalf("restarted compute node %s did not come back: %v", victim.ID, err)
	}
	return times
}

// TestComputeNodePauseNoExtraCompletions freezes (SIGSTOP) a compute node
// running executions until the leader has declared it lost and replaced its
// work, then thaws it. The node wakes up believing its executions still
// run, and finishes them: the cluster must not count those late results,
// so no job gets more than Count completed executions, and the replaced
// executions stay failed.
func TestComputeNodePauseNoExtraCompletions(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 3, FastFailover: true,
		ComputeArgs: noopCompute(5 * time.Second),
	})
	ctx := faultContext(t, c, 4*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	loss := computeLoss(t, ctx, c, rec, run, 6, pauseUntilReplaced)
	t.Logf("compute node %s paused: its executions failed %s later, replaced %s later",
		loss.victim, loss.detected.Round(time.Millisecond), loss.replaced.Round(time.Millisecond))
	// Give the thawed node time to report everything it finished.
	time.Sleep(3 * time.Second)
	verify(t, ctx, c, rec, run, true)
}

// pauseUntilReplaced freezes the victim until every execution it ran is
// failed as lost, and lets it run again past its noop delay.
func pauseUntilReplaced(t *testing.T, ctx context.Context, c *testcluster.Cluster, victim *testcluster.Process, jobs, execs []string) {
	if err := victim.Pause(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := victim.Resume(); err != nil {
			t.Error(err)
		}
	}()
	at := target(c.Running()[0])
	onVictim := map[string]bool{}
	for _, id := range execs {
		onVictim[id] = true
	}
	err := waitUntil(ctx, 200*time.Millisecond, func() (bool, error) {
		for _, id := range jobs {
			all, err := workload.JobExecutions(ctx, at, id)
			if err != nil {
				return false, err
			}
			for _, e := range all {
				if onVictim[e.ID] && !e.FailedWithNodeLoss() {
					return false, fmt.Errorf("execution %s is still %s", e.ID, e.ComputeState.StateType)
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("paused node %s was not declared lost: %v", victim.ID, err)
	}
	// Past the noop delay: on waking the node finds its executions done.
	time.Sleep(5 * time.Second)
}

// TestComputeNodeLongPauseRejoins freezes a compute node for longer than
// gossip remembers dead members (15s with the local profile), so the whole
// pool forgets it; thawed, it must find its way back (it still knows the
// others), be marked connected again and take new work.
func TestComputeNodeLongPauseRejoins(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 3, FastFailover: true,
		ComputeArgs: noopCompute(5 * time.Second),
	})
	ctx := faultContext(t, c, 4*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	long := func(t *testing.T, _ context.Context, _ *testcluster.Cluster, victim *testcluster.Process, _, _ []string) {
		// Declared lost after ~8s, forgotten by gossip 15s after that.
		pauseFor(t, victim, 30*time.Second)
	}
	computeLoss(t, ctx, c, rec, run, 6, long)
	verify(t, ctx, c, rec, run, true)
}
