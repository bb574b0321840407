package scheduler

import (
	"strconv"
	"time"

	"github.com/shoal-io/shoal/api"
)

// takeFailed returns the failed evaluations not yet marked failed in state,
// as the updates that mark them.
func (b *broker) takeFailed() []*api.Evaluation {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled || len(b.failed) == 0 {
		return nil
	}
	now := b.now()
	out := make([]*api.Evaluation, len(b.failed))
	for i, ev := range b.failed {
		c := *ev
		c.Status = api.EvalStatusFailed
		c.Comment = "evaluation failed after " + strconv.Itoa(b.deliveryLimit) + " deliveries"
		c.ModifyTime = now
		out[i] = &c
	}
	b.failed = nil
	return out
}

// returnFailed puts back failed evaluations whose marking did not commit.
func (b *broker) returnFailed(evals []*api.Evaluation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled {
		return
	}
	for _, ev := range evals {
		if e := b.evals[ev.ID]; e != nil && e.loc == locFailed {
			b.failed = append(b.failed, e.eval)
		}
	}
}

// Stats are the broker's counts, for metrics and tests.
type Stats struct {
	Ready   int // waiting for a worker
	Unacked int // delivered to a worker (coalesced evaluations included)
	Pending int // waiting behind another evaluation of the same job
	Delayed int // waiting for their WaitUntil or a nack back-off
	Blocked int // waiting for room on the nodes
	Failed  int // reached the delivery limit while this replica led
}

func (b *broker) stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s Stats
	for _, e := range b.evals {
		switch e.loc {
		case locReady:
			s.Ready++
		case locUnacked:
			s.Unacked++
		case locPending:
			s.Pending++
		case locDelayed, locNackWait:
			s.Delayed++
		case locBlocked:
			s.Blocked++
		}
	}
	s.Failed = b.failedCount
	return s
}

// oldestReady returns how long the oldest ready evaluation has waited for a
// worker: the scheduling lag.
func (b *broker) oldestReady() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	var oldest int64
	for _, e := range b.ready.items {
		if oldest == 0 || e.readySince < oldest {
			oldest = e.readySince
		}
	}
	if oldest == 0 {
		return 0
	}
	return time.Duration(max(0, b.now()-oldest))
}
