package fsm

import (
	"testing"

	"github.com/shoal-io/shoal/api"
)

// bruteUsage sums a node's active executions the slow way.
func bruteUsage(t *testing.T, txn *ReadTxn, nodeID string) (int64, int, int) {
	t.Helper()
	execs, err := txn.ExecutionsByNode(nodeID)
	if err != nil {
		t.Fatal(err)
	}
	var cpuMicro int64
	running, enqueued := 0, 0
	for _, e := range execs {
		u := contribution(e)
		cpuMicro += u.CPU
		running += u.Running
		enqueued += u.Enqueued
	}
	return cpuMicro, running, enqueued
}

func checkUsage(t *testing.T, h *harness, nodes ...string) {
	t.Helper()
	txn := h.txn()
	for _, n := range nodes {
		alloc, running, enqueued, err := txn.NodeUsage(n)
		if err != nil {
			t.Fatal(err)
		}
		wantCPU, wantRunning, wantEnqueued := bruteUsage(t, txn, n)
		if microCores(alloc.CPU) != wantCPU || running != wantRunning || enqueued != wantEnqueued {
			t.Fatalf("node %s: usage cpu=%v running=%d enqueued=%d, executions say cpu=%dµ running=%d enqueued=%d",
				n, alloc.CPU, running, enqueued, wantCPU, wantRunning, wantEnqueued)
		}
	}
}

// The usage kept one execution at a time matches the executions at every
// step, and a restore rebuilds exactly the same totals.
func TestUsageFollowsExecutions(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", cpu(8))
	h.registerNode("n-2", cpu(8))
	h.registerJob("j-1", api.JobTypeBatch)
	h.place("j-1",
		newExec("e-1", "j-1", "n-1", 0.1, api.ExecutionStateAskForBid),
		newExec("e-2", "j-1", "n-1", 0.2, api.ExecutionStateBidAccepted),
		newExec("e-3", "j-1", "n-2", 0.3, api.ExecutionStateAskForBid))
	checkUsage(t, h, "n-1", "n-2")
	if alloc, running, enqueued, _ := h.txn().NodeUsage("n-1"); alloc.CPU != 0.3 || running != 1 || enqueued != 1 {
		t.Fatalf("n-1 usage %v %d %d", alloc, running, enqueued)
	}
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateAskForBidAccepted})
	checkUsage(t, h, "n-1")
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-2", ComputeState: api.ExecutionStateCompleted})
	checkUsage(t, h, "n-1")
	ok[NodeStatusResult](h, &NodeStatusRequest{NodeID: "n-2", Connection: api.NodeDisconnected, Now: h.now()})
	checkUsage(t, h, "n-1", "n-2")
	if alloc, _, _, _ := h.txn().NodeUsage("n-2"); !alloc.IsZero() {
		t.Fatalf("a lost node still holds %v", alloc)
	}

	restored := newHarness(t)
	if err := restored.fsm.Restore(readCloser(h.snapshotBytes())); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n-1", "n-2"} {
		a1, r1, q1, _ := h.txn().NodeUsage(n)
		a2, r2, q2, _ := restored.txn().NodeUsage(n)
		if a1 != a2 || r1 != r2 || q1 != q2 {
			t.Fatalf("node %s: usage %v/%d/%d before, %v/%d/%d after restore", n, a1, r1, q1, a2, r2, q2)
		}
	}
}
