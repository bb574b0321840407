package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/shoal-io/shoal/api"
	"k8s.io/apimachinery/pkg/labels"
)

// gcState builds jobs in every state retention must tell apart.
func gcState(t *testing.T) *harness {
	h := newHarness(t)
	h.registerNode("n-1", cpu(64))
	for _, id := range []string{"done-1", "done-2", "failed", "stopped-active", "running", "waiting"} {
		ok[JobRegisterResult](h, &JobRegisterRequest{Job: newJob(id, api.JobTypeBatch, h.now()), EvalID: "ev-" + id,
			IdempotencyToken: "tok-" + id, TokenExpiry: h.now() + 1e12, Now: h.now()})
	}
	for _, id := range []string{"done-1", "done-2", "failed", "stopped-active", "running"} {
		h.place(id, newExec("e-"+id, id, "n-1", 1, api.ExecutionStateBidAccepted))
	}
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-done-1", ComputeState: api.ExecutionStateCompleted},
		api.ExecutionUpdate{ExecutionID: "e-done-2", ComputeState: api.ExecutionStateCompleted},
		api.ExecutionUpdate{ExecutionID: "e-failed", ComputeState: api.ExecutionStateFailed})
	h.setJobState("done-1", api.JobStateTypeCompleted, "")
	h.setJobState("done-2", api.JobStateTypeCompleted, "")
	h.setJobState("failed", api.JobStateTypeFailed, "boom")
	h.setJobState("running", api.JobStateTypeRunning, "")
	// Stopped, but its execution has not reported the stop yet.
	ok[JobStopResult](h, &JobStopRequest{JobID: "stopped-active", Reason: "bye", EvalID: "ev-stop", Now: h.now()})
	return h
}

func TestJobGC(t *testing.T) {
	tests := []struct {
		name      string
		before    func(h *harness) int64
		limit     int
		removed   []string
		wantMore  bool
		remaining int
	}{
		{name: "every terminal job without active executions", before: func(h *harness) int64 { return h.now() }, removed: []string{"done-1", "done-2", "failed"}, remaining: 3},
		{name: "oldest first within the limit", before: func(h *harness) int64 { return h.now() }, limit: 2, removed: []string{"done-1", "done-2"}, wantMore: true, remaining: 4},
		{name: "too young", before: func(h *harness) int64 { return t0 }, remaining: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := gcState(t)
			res := ok[JobGCResult](h, &JobGCRequest{Before: tt.before(h), Limit: tt.limit, Now: h.now()})
			if res.JobsRemoved != len(tt.removed) || res.More != tt.wantMore {
				t.Fatalf("removed %d more %t, want %d %t", res.JobsRemoved, res.More, len(tt.removed), tt.wantMore)
			}
			if got := h.fsm.JobsRemoved(); got != uint64(len(tt.removed)) {
				t.Fatalf("JobsRemoved() = %d, want %d", got, len(tt.removed))
			}
			txn := h.txn()
			for _, id := range tt.removed {
				if _, err := txn.Job(id); !errors.Is(err, api.ErrNotFound) {
					t.Errorf("job %s still there (%v)", id, err)
				}
				if _, err := txn.Execution("e-" + id); !errors.Is(err, api.ErrNotFound) {
					t.Errorf("execution of %s still there (%v)", id, err)
				}
				if evs, _ := txn.EvalsByJob(id); len(evs) > 0 {
					t.Errorf("%d evaluations of %s still there", len(evs), id)
				}
				if hist, _, _ := txn.History(id, HistoryQuery{}); len(hist) > 0 {
					t.Errorf("%d history events of %s still there", len(hist), id)
				}
			}
			for _, id := range []string{"waiting", "running", "stopped-active"} {
				if _, err := txn.Job(id); err != nil {
					t.Errorf("job %s was collected: %v", id, err)
				}
				if hist, _, _ := txn.History(id, HistoryQuery{}); len(hist) == 0 {
					t.Errorf("history of %s was collected", id)
				}
			}
			jobs, _, _, _ := txn.Counts()
			if jobs != tt.remaining {
				t.Errorf("job count %d, want %d", jobs, tt.remaining)
			}
			// Tokens keep their own window.
			if jobID, _, found := txn.Idempotency("tok-done-1", h.now()); !found || jobID != "done-1" {
				t.Errorf("token of done-1 gone: %q %t", jobID, found)
			}
			// The state after a collection survives a snapshot exactly.
			restored := newHarness(t)
			if err := restored.fsm.Restore(readCloser(h.snapshotBytes())); err != nil {
				t.Fatal(err)
			}
			if restored.digest() != h.digest() {
				t.Fatal("digest differs after restoring a collected state")
			}
			if a, b := queryAnswers(t, h.txn()), queryAnswers(t, restored.txn()); a != b {
				t.Fatalf("answers differ after restore:\n%s\n%s", a, b)
			}
		})
	}
}

func TestJobGCDeterministic(t *testing.T) {
	a, b := gcState(t), gcState(t)
	for _, h := range []*harness{a, b} {
		ok[JobGCResult](h, &JobGCRequest{Before: h.now(), Limit: 1, Now: h.now()})
		ok[JobGCResult](h, &JobGCRequest{Before: h.now(), Now: h.now()})
	}
	if a.digest() != b.digest() || !bytes.Equal(a.snapshotBytes(), b.snapshotBytes()) {
		t.Fatal("replicas applying the same collections differ")
	}
	// The stopped job goes once its execution has ended.
	a.report("n-1", api.ExecutionUpdate{ExecutionID: "e-stopped-active", ComputeState: api.ExecutionStateCancelled})
	if res := ok[JobGCResult](a, &JobGCRequest{Before: a.now(), Now: a.now()}); res.JobsRemoved != 1 {
		t.Fatalf("removed %d after the stopped job's execution ended, want 1", res.JobsRemoved)
	}
}

func TestListJobsByLabel(t *testing.T) {
	h := newHarness(t)
	for i := range 30 {
		j := newJob(fmt.Sprintf("j-%02d", i), api.JobTypeBatch, h.now())
		j.Labels = map[string]string{"group": fmt.Sprintf("g%d", i%3), "tier": "x"}
		if i == 17 {
			j.Labels["uniq"] = "yes"
		}
		if i%2 == 0 {
			j.Namespace = "other"
		}
		ok[JobRegisterResult](h, &JobRegisterRequest{Job: j, EvalID: "ev-" + j.ID, Now: h.now()})
	}
	// Job ends in a different order than created, so modify order differs.
	for i := 29; i >= 0; i -= 4 {
		h.setJobState(fmt.Sprintf("j-%02d", i), api.JobStateTypeRunning, "")
	}
	selectors := []string{"group=g1", "group==g2,tier=x", "group in (g0)", "uniq=yes", "group=g1,uniq!=yes", "group=none", "tier"}
	for _, sel := range selectors {
		for _, order := range []string{"", "modify_time", "id"} {
			for _, ns := range []string{"", "other"} {
				for _, reverse := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/%s/%t", sel, order, ns, reverse)
					s, err := api.ParseSelector(sel)
					if err != nil {
						t.Fatal(err)
					}
					// The expected answer: every job, filtered by hand.
					all, _, err := h.txn().ListJobs(JobQuery{OrderBy: order, Reverse: reverse, Namespace: ns})
					if err != nil {
						t.Fatal(err)
					}
					var want []string
					for _, j := range all {
						if s.Matches(labels.Set(j.Labels)) {
							want = append(want, j.ID)
						}
					}
					// Paged by 2 through the label index.
					var got []string
					after := ""
					for range 40 {
						page, next, err := h.txn().ListJobs(JobQuery{Selector: s, OrderBy: order, Reverse: reverse, Namespace: ns, Limit: 2, After: after})
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						for _, j := range page {
							got = append(got, j.ID)
						}
						if next == "" {
							break
						}
						after = next
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s: got %v, want %v", name, got, want)
					}
				}
			}
		}
	}
}
