package scheduler

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

func newTestBroker(t *testing.T, clock *fakeClock) *broker {
	t.Helper()
	cfg, err := Config{Snapshot: func() State { return newFakeState() }, Planner: &recordingPlanner{}, Clock: clock.Now}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	b := newBroker(cfg)
	b.enable()
	return b
}

// tryDequeue returns a ready delivery or nil, without waiting.
func tryDequeue(t *testing.T, b *broker) *delivery {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := b.dequeue(ctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("dequeue: %v", err)
	}
	return d
}

func mustDequeue(t *testing.T, b *broker) *delivery {
	t.Helper()
	d := tryDequeue(t, b)
	if d == nil {
		t.Fatal("nothing ready")
	}
	return d
}

// drain dequeues and acks everything ready, returning the primary IDs in
// delivery order.
func drain(t *testing.T, b *broker) []string {
	t.Helper()
	var ids []string
	for d := tryDequeue(t, b); d != nil; d = tryDequeue(t, b) {
		ids = append(ids, d.eval.ID)
		if err := b.ack(d.eval.ID, d.token, false, 0); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestBrokerOneInFlightPerJobAndCoalescing(t *testing.T) {
	b := newTestBroker(t, newFakeClock())
	b.committed([]*api.Evaluation{
		eval("a1", "job-a", api.JobTypeBatch, createdAt(1)),
		eval("a2", "job-a", api.JobTypeBatch, createdAt(2)),
		eval("b1", "job-b", api.JobTypeBatch, createdAt(3)),
		eval("a3", "job-a", api.JobTypeBatch, createdAt(4)),
	})
	expect(t, "stats", b.stats(), Stats{Ready: 2, Pending: 2})

	d := mustDequeue(t, b)
	expect(t, "first", d.eval.ID, "a1")
	expect(t, "coalesced", strings.Join(d.coalescedIDs(), ","), "a2,a3")
	expect(t, "stats", b.stats(), Stats{Ready: 1, Unacked: 3})

	// A new evaluation of job-a waits behind the one in flight.
	b.committed([]*api.Evaluation{eval("a4", "job-a", api.JobTypeBatch, createdAt(5))})
	db := mustDequeue(t, b)
	expect(t, "second", db.eval.ID, "b1")
	if tryDequeue(t, b) != nil {
		t.Fatal("a second evaluation of job-a was delivered while one is in flight")
	}
	expect(t, "stats", b.stats(), Stats{Unacked: 4, Pending: 1})

	if err := b.ack(d.eval.ID, d.token, false, 42); err != nil {
		t.Fatal(err)
	}
	next := mustDequeue(t, b)
	expect(t, "after ack", next.eval.ID, "a4")
	expect(t, "min index", next.minIndex, uint64(42))
	if err := b.ack(d.eval.ID, d.token, false, 0); !errors.Is(err, errNotOutstanding) {
		t.Errorf("second ack: %v", err)
	}
}

func TestBrokerDedupesAndDropsSettledEvaluations(t *testing.T) {
	b := newTestBroker(t, newFakeClock())
	ev := eval("a1", "job-a", api.JobTypeBatch)
	b.committed([]*api.Evaluation{ev, ev, eval("a2", "job-a", api.JobTypeBatch), eval("b1", "job-b", api.JobTypeBatch)})
	expect(t, "stats", b.stats(), Stats{Ready: 2, Pending: 1})

	// Settled elsewhere: the waiting ones go, and job-a's slot passes on.
	b.committed([]*api.Evaluation{
		eval("a1", "job-a", api.JobTypeBatch, statusOf(api.EvalStatusComplete)),
		eval("b1", "job-b", api.JobTypeBatch, statusOf(api.EvalStatusCanceled)),
	})
	expect(t, "stats", b.stats(), Stats{Ready: 1})
	expect(t, "delivered", strings.Join(drain(t, b), ","), "a2")

	// A status update for an evaluation in flight leaves it to its worker.
	b.committed([]*api.Evaluation{eval("c1", "job-c", api.JobTypeBatch)})
	d := mustDequeue(t, b)
	b.committed([]*api.Evaluation{eval("c1", "job-c", api.JobTypeBatch, statusOf(api.EvalStatusComplete))})
	expect(t, "stats", b.stats(), Stats{Unacked: 1})
	if err := b.ack(d.eval.ID, d.token, false, 0); err != nil {
		t.Fatal(err)
	}
}

func TestBrokerPriorityOrder(t *testing.T) {
	b := newTestBroker(t, newFakeClock())
	b.committed([]*api.Evaluation{
		eval("low", "j1", api.JobTypeBatch, priority(0), createdAt(1)),
		eval("high", "j2", api.JobTypeBatch, priority(50), createdAt(5)),
		eval("mid-new", "j3", api.JobTypeBatch, priority(10), createdAt(4)),
		eval("mid-old", "j4", api.JobTypeBatch, priority(10), createdAt(2)),
	})
	expect(t, "order", strings.Join(drain(t, b), ","), "high,mid-old,mid-new,low")
}

func TestBrokerDelayedRelease(t *testing.T) {
	clock := newFakeClock()
	b := newTestBroker(t, clock)
	due := clock.Now().Add(30 * time.Second).UnixNano()
	b.committed([]*api.Evaluation{
		eval("later", "j1", api.JobTypeBatch, waitUntil(due)),
		eval("past", "j2", api.JobTypeBatch, waitUntil(clock.Now().Add(-time.Second).UnixNano())),
	})
	expect(t, "stats", b.stats(), Stats{Ready: 1, Delayed: 1})
	expect(t, "now", strings.Join(drain(t, b), ","), "past")

	next := b.advance()
	expect(t, "next wake", next.UnixNano() <= due, true)
	expect(t, "still delayed", b.stats(), Stats{Delayed: 1})

	clock.Advance(30 * time.Second)
	b.advance()
	expect(t, "released", strings.Join(drain(t, b), ","), "later")
}

func TestBrokerVisibilityTimeoutAndNackBackoff(t *testing.T) {
	clock := newFakeClock()
	b := newTestBroker(t, clock)
	b.committed([]*api.Evaluation{eval("a1", "job-a", api.JobTypeBatch), eval("a2", "job-a", api.JobTypeBatch)})
	d := mustDequeue(t, b)

	clock.Advance(DefaultVisibilityTimeout - time.Second)
	b.advance()
	expect(t, "before timeout", b.stats(), Stats{Unacked: 2})

	clock.Advance(time.Second)
	b.advance()
	// Taken back: the primary waits out its first back-off holding the
	// job's slot; the coalesced one waits behind it.
	expect(t, "after timeout", b.stats(), Stats{Delayed: 1, Pending: 1})
	if err := b.ack(d.eval.ID, d.token, false, 0); !errors.Is(err, errNotOutstanding) {
		t.Errorf("late ack: %v", err)
	}
	if tryDequeue(t, b) != nil {
		t.Fatal("delivered during the back-off")
	}

	clock.Advance(DefaultInitialNackDelay)
	b.advance()
	d2 := mustDequeue(t, b)
	expect(t, "redelivered", d2.eval.ID, "a1")
	expect(t, "coalesced again", strings.Join(d2.coalescedIDs(), ","), "a2")

	// The second nack backs off longer.
	if err := b.nack(d2.eval.ID, d2.token); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultInitialNackDelay)
	b.advance()
	if tryDequeue(t, b) != nil {
		t.Fatal("second back-off was as short as the first")
	}
	clock.Advance(DefaultSubsequentNackDelay)
	b.advance()
	expect(t, "after second back-off", mustDequeue(t, b).eval.ID, "a1")
}

func TestBrokerDeliveryLimit(t *testing.T) {
	clock := newFakeClock()
	b := newTestBroker(t, clock)
	b.committed([]*api.Evaluation{eval("a1", "job-a", api.JobTypeBatch), eval("a2", "job-a", api.JobTypeBatch)})
	for i := range DefaultDeliveryLimit {
		d := mustDequeue(t, b)
		if i == 0 {
			expect(t, "coalesced", len(d.coalesced), 1)
		}
		if err := b.nack(d.eval.ID, d.token); err != nil {
			t.Fatal(err)
		}
		clock.Advance(DefaultSubsequentNackDelay)
		b.advance()
	}
	expect(t, "stats", b.stats(), Stats{Failed: 2})
	failed := b.takeFailed()
	ids := make([]string, 0, len(failed))
	for _, ev := range failed {
		ids = append(ids, ev.ID)
		expect(t, "status", ev.Status, api.EvalStatusFailed)
		expect(t, "modify time", ev.ModifyTime, clock.Now().UnixNano())
	}
	slices.Sort(ids)
	expect(t, "failed", strings.Join(ids, ","), "a1,a2")
	if b.takeFailed() != nil {
		t.Error("failed evaluations handed out twice")
	}
	// Failed ones stay known, so a repeated commit does not revive them.
	b.committed([]*api.Evaluation{eval("a1", "job-a", api.JobTypeBatch)})
	expect(t, "stats", b.stats(), Stats{Failed: 2})
	// The job is not stuck behind them.
	b.committed([]*api.Evaluation{eval("a3", "job-a", api.JobTypeBatch)})
	expect(t, "next", strings.Join(drain(t, b), ","), "a3")
}

func TestBrokerBlockedRelease(t *testing.T) {
	clock := newFakeClock()
	b := newTestBroker(t, clock)
	blocked := func(id, jobID string, prio int, created int64) *api.Evaluation {
		return eval(id, jobID, api.JobTypeBatch, statusOf(api.EvalStatusBlocked), priority(prio), createdAt(created))
	}
	b.committed([]*api.Evaluation{
		blocked("old", "j-old", 0, 1),
		blocked("new", "j-new", 0, 2),
		blocked("urgent", "j-urgent", 9, 3),
		blocked("old-2", "j-old", 0, 4),
	})
	expect(t, "stats", b.stats(), Stats{Blocked: 4})

	// One freed slot wakes one job: the highest priority.
	b.releaseCapacity(1)
	expect(t, "first", strings.Join(drain(t, b), ","), "urgent")
	// The next: the job blocked longest, with all its evaluations at once.
	b.releaseCapacity(1)
	d := mustDequeue(t, b)
	expect(t, "second", d.eval.ID, "old")
	expect(t, "coalesced", strings.Join(d.coalescedIDs(), ","), "old-2")
	// Still no room: it blocks again, behind the job that waited longer.
	if err := b.ack(d.eval.ID, d.token, true, 0); err != nil {
		t.Fatal(err)
	}
	expect(t, "stats", b.stats(), Stats{Blocked: 3})
	b.releaseCapacity(1)
	expect(t, "third", strings.Join(drain(t, b), ","), "new")

	// A node change wakes everything.
	b.releaseAll()
	expect(t, "all", strings.Join(drain(t, b), ","), "old")

	// So does the periodic safety release.
	b.committed([]*api.Evaluation{blocked("x", "j-x", 0, 5)})
	clock.Advance(DefaultBlockedReleaseInterval)
	b.advance()
	expect(t, "safety release", strings.Join(drain(t, b), ","), "x")

	// With no capacity freed since, waiting jobs cannot have room: the next
	// period re-plans nothing.
	b.committed([]*api.Evaluation{blocked("y", "j-y", 0, 6)})
	clock.Advance(DefaultBlockedReleaseInterval)
	b.advance()
	expect(t, "stats", b.stats(), Stats{Blocked: 1})
}

func TestBrokerBlockedWhileRoomAppearsIsRetried(t *testing.T) {
	b := newTestBroker(t, newFakeClock())
	b.committed([]*api.Evaluation{eval("a1", "job-a", api.JobTypeBatch), eval("b1", "job-b", api.JobTypeBatch)})
	da, db := mustDequeue(t, b), mustDequeue(t, b)

	// Capacity freed while both plan on older state, with no job blocked
	// to take it: one delivery gets the retry.
	b.releaseCapacity(1)
	for _, d := range []*delivery{da, db} {
		if err := b.ack(d.eval.ID, d.token, true, 0); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, "stats", b.stats(), Stats{Ready: 1, Blocked: 1})

	// A node change while planning retries a blocked outcome at once.
	d := mustDequeue(t, b)
	b.releaseAll()
	if err := b.ack(d.eval.ID, d.token, true, 0); err != nil {
		t.Fatal(err)
	}
	// The node change released the blocked job too.
	expect(t, "stats", b.stats(), Stats{Ready: 2})
}

func TestBrokerDisableDropsEverything(t *testing.T) {
	b := newTestBroker(t, newFakeClock())
	b.committed([]*api.Evaluation{eval("a1", "job-a", api.JobTypeBatch), eval("b1", "job-b", api.JobTypeBatch, statusOf(api.EvalStatusBlocked))})
	d := mustDequeue(t, b)

	waiting := make(chan error, 1)
	go func() {
		_, err := b.dequeue(context.Background())
		waiting <- err
	}()
	b.disable()
	if err := waitFor(t, waiting, "dequeue to return"); !errors.Is(err, errBrokerDisabled) {
		t.Errorf("waiting dequeue: %v", err)
	}
	expect(t, "stats", b.stats(), Stats{})
	if err := b.ack(d.eval.ID, d.token, false, 0); !errors.Is(err, errBrokerDisabled) {
		t.Errorf("ack after disable: %v", err)
	}
	b.committed([]*api.Evaluation{eval("c1", "job-c", api.JobTypeBatch)})
	expect(t, "ignored while disabled", b.stats(), Stats{})
}
