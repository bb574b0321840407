package fsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// watchTimeout bounds waits for events that must happen; it is never
// asserted on, only there so a broken watch fails instead of hanging.
const watchTimeout = 30 * time.Second

func TestWaitForIndex(t *testing.T) {
	h := newHarness(t)
	h.registerJob("j-1", api.JobTypeBatch)
	ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
	defer cancel()
	if err := h.fsm.State().WaitForIndex(ctx, 1); err != nil {
		t.Fatalf("index already applied: %v", err)
	}

	done := make(chan error, 1)
	go func() { done <- h.fsm.State().WaitForIndex(ctx, 3) }()
	h.registerJob("j-2", api.JobTypeBatch)
	h.registerJob("j-3", api.JobTypeBatch)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Whoever saw the index sees the state.
	if _, err := h.txn().Job("j-3"); err != nil {
		t.Fatal(err)
	}

	cancelled, stop := context.WithCancel(context.Background())
	stop()
	if err := h.fsm.State().WaitForIndex(cancelled, 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestReadTxnIsASnapshot(t *testing.T) {
	h := newHarness(t)
	h.registerJob("j-1", api.JobTypeBatch)
	view := h.txn()
	h.registerJob("j-2", api.JobTypeBatch)
	if _, err := view.Job("j-2"); !errors.Is(err, api.ErrNotFound) {
		t.Fatal("an open view saw a later write")
	}
	if view.Index() != 1 || h.txn().Index() != 2 || h.fsm.State().Index() != 2 {
		t.Fatalf("indexes %d, %d", view.Index(), h.txn().Index())
	}
}

func TestExecutionsByNodeSince(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", cpu(8))
	h.registerNode("n-2", cpu(8))
	h.registerJob("j-1", api.JobTypeBatch)
	h.place("j-1",
		newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateBidAccepted),
		newExec("e-2", "j-1", "n-1", 1, api.ExecutionStateAskForBid),
		newExec("e-3", "j-1", "n-2", 1, api.ExecutionStateBidAccepted),
	)
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-2", ComputeState: api.ExecutionStateAskForBidRejected})

	ids := func(es []*api.Execution) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		slices.Sort(out)
		return out
	}
	first, err := h.txn().ExecutionsByNodeSince("n-1", 0, nil)
	if err != nil || !slices.Equal(ids(first), []string{"e-1"}) {
		t.Fatalf("since 0: %v, %v (want the non-terminal ones)", ids(first), err)
	}

	view := h.txn()
	ws := memtab.NewWatchSet()
	since := view.Index()
	if got, _ := view.ExecutionsByNodeSince("n-1", since, ws); len(got) != 0 {
		t.Fatalf("nothing changed since %d, got %v", since, ids(got))
	}
	// Changes elsewhere must not matter to the answer.
	h.report("n-2", api.ExecutionUpdate{ExecutionID: "e-3", ComputeState: api.ExecutionStateCompleted})
	if got, _ := h.txn().ExecutionsByNodeSince("n-1", since, nil); len(got) != 0 {
		t.Fatalf("n-2's change showed up for n-1: %v", ids(got))
	}
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateCompleted})
	ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
	defer cancel()
	if err := ws.WatchCtx(ctx); err != nil {
		t.Fatalf("watch did not fire: %v", err)
	}
	got, _ := h.txn().ExecutionsByNodeSince("n-1", since, nil)
	if !slices.Equal(ids(got), []string{"e-1"}) || got[0].ComputeState.StateType != api.ExecutionStateCompleted {
		t.Fatalf("since %d: %v", since, ids(got))
	}
	if h.txn().ExecutionModifyIndex("e-1") != h.index {
		t.Fatalf("modify index %d, want %d", h.txn().ExecutionModifyIndex("e-1"), h.index)
	}

	all, _ := h.txn().ExecutionsByNode("n-1")
	if !slices.Equal(ids(all), []string{"e-1", "e-2"}) {
		t.Fatalf("by node: %v", ids(all))
	}
}

func TestWatchJob(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", cpu(8))
	h.registerJob("j-1", api.JobTypeBatch)
	h.registerJob("j-2", api.JobTypeBatch)
	changes := []struct {
		name  string
		apply func()
	}{
		{"execution placed", func() { h.place("j-1", newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateAskForBid)) }},
		{"execution reported", func() {
			h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateAskForBidAccepted})
		}},
		{"job stopped", func() { ok[JobStopResult](h, &JobStopRequest{JobID: "j-1", EvalID: "ev-stop", Now: h.now()}) }},
		{"state restored", func() {
			other := newHarness(t)
			if err := h.fsm.Restore(readCloser(other.snapshotBytes())); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			ws := memtab.NewWatchSet()
			h.txn().WatchJob("j-1", ws)
			c.apply()
			ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
			defer cancel()
			if err := ws.WatchCtx(ctx); err != nil {
				t.Fatalf("watch did not fire: %v", err)
			}
		})
	}
}

func TestNodeUsage(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", api.Resources{CPU: 8, Memory: 1000, GPU: 2})
	h.registerJob("j-1", api.JobTypeBatch)
	multi := newExec("e-multi", "j-1", "n-1", 0, api.ExecutionStateBidAccepted)
	multi.AllocatedResources.Tasks = map[string]*api.Resources{"a": {CPU: 0.1, Memory: 10}, "b": {CPU: 0.2, Memory: 20, GPU: 1}, "c": nil}
	if res := h.place("j-1",
		multi,
		newExec("e-ask", "j-1", "n-1", 1, api.ExecutionStateAskForBid),
		newExec("e-new", "j-1", "n-1", 1, api.ExecutionStateNew),
		newExec("e-done", "j-1", "n-1", 1, api.ExecutionStateBidAccepted),
	); res.Refresh() {
		t.Fatalf("placements rejected: %v", res.RejectedPlacements)
	}
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-done", ComputeState: api.ExecutionStateCompleted})

	alloc, running, enqueued, err := h.txn().NodeUsage("n-1")
	if err != nil {
		t.Fatal(err)
	}
	want := api.Resources{CPU: 2.3, Memory: 30, GPU: 1}
	if !alloc.Fits(want) || !want.Fits(alloc) || running != 1 || enqueued != 2 {
		t.Fatalf("usage %+v running %d enqueued %d, want %+v, 1, 2", alloc, running, enqueued, want)
	}
	if a, _ := h.txn().NodeAllocated("n-1"); a != alloc {
		t.Fatalf("NodeAllocated %+v != NodeUsage %+v", a, alloc)
	}
	if a, _ := h.txn().NodeAllocated("n-404"); !a.IsZero() {
		t.Fatalf("unknown node allocated %+v", a)
	}
}

func TestCountsAndIndexes(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", cpu(8))
	nodesAt := h.index
	h.registerJob("j-1", api.JobTypeBatch)
	h.registerJob("j-2", api.JobTypeBatch)
	h.place("j-1", newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateAskForBid))
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateAskForBidAccepted})

	jobs, execs, evals, nodes := h.txn().Counts()
	// The placement completed j-1's first evaluation, which is removed.
	if jobs != 2 || execs != 1 || evals != 2 || nodes != 1 {
		t.Fatalf("counts %d %d %d %d", jobs, execs, evals, nodes)
	}
	if got := h.txn().NodesIndex(); got != nodesAt {
		t.Fatalf("nodes index %d, want %d", got, nodesAt)
	}
	idx := h.txn().TableIndexes()
	if idx["executions"] != h.index || idx["jobs"] != h.index-2 || idx["nodes"] != nodesAt {
		t.Fatalf("table indexes %v at %d", idx, h.index)
	}
	if n, _ := h.txn().Nodes(); len(n) != 1 || n[0].NodeID != "n-1" {
		t.Fatalf("nodes %v", n)
	}
}

// schedulerState is the read interface the scheduler declares; ReadTxn must
// keep satisfying it.
type schedulerState interface {
	Index() uint64
	Job(id string) (*api.Job, error)
	ExecutionsByJob(jobID string) ([]*api.Execution, error)
	Nodes() ([]*api.NodeInfo, error)
	NodesIndex() uint64
	NodeAllocated(nodeID string) (api.Resources, error)
	Eval(id string) (*api.Evaluation, error)
	EvalsByStatus(status string) ([]*api.Evaluation, error)
}

var _ schedulerState = (*ReadTxn)(nil)

func TestSetObserverWhileApplying(t *testing.T) {
	h := newHarness(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if i%2 == 0 {
				h.fsm.SetObserver(nil)
			} else {
				h.fsm.SetObserver(&recordingObserver{})
			}
		}
	}()
	for i := range 50 {
		h.registerJob(fmt.Sprintf("j-%d", i), api.JobTypeBatch)
	}
	<-done
	// Readers run concurrently with Apply too.
	view := h.txn()
	h.registerJob("j-last", api.JobTypeBatch)
	if jobs, _, _ := view.ListJobs(JobQuery{}); len(jobs) != 50 {
		t.Fatalf("%d jobs in the older view", len(jobs))
	}
}

func TestReadTxnSharedByGoroutines(t *testing.T) {
	h := richState(t)
	view := h.txn()
	want := queryAnswers(t, view)
	results := make(chan string, 4)
	for range cap(results) {
		go func() {
			got, err := "", error(nil)
			for range 20 {
				if got, err = answers(view); err != nil {
					got = err.Error()
				}
			}
			results <- got
		}()
	}
	h.registerJob("j-concurrent", api.JobTypeBatch)
	for range cap(results) {
		if got := <-results; got != want {
			t.Fatalf("a shared view changed its answers: %.200s", got)
		}
	}
}

func TestJobIndex(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", cpu(8))
	h.registerJob("j-1", api.JobTypeBatch)
	if got := h.txn().JobIndex("j-1"); got != h.index {
		t.Fatalf("after create: %d, want %d", got, h.index)
	}
	h.registerJob("j-2", api.JobTypeBatch) // another job's change
	h.place("j-1", newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateAskForBid))
	placedAt := h.index
	h.registerJob("j-3", api.JobTypeBatch)
	if got := h.txn().JobIndex("j-1"); got != placedAt {
		t.Fatalf("after placement: %d, want %d", got, placedAt)
	}
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateAskForBidAccepted})
	if got := h.txn().JobIndex("j-1"); got != h.index {
		t.Fatalf("after report: %d, want %d", got, h.index)
	}
	h.setJobState("j-1", api.JobStateTypePending, "waiting") // message only
	if got := h.txn().JobIndex("j-1"); got != h.index {
		t.Fatalf("after message change: %d, want %d", got, h.index)
	}
	if got := h.txn().JobIndex("j-404"); got != 0 {
		t.Fatalf("missing job: %d", got)
	}
}
