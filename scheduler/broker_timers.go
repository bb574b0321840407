package scheduler

import (
	"container/heap"
	"time"
)

// maxTimerSleep bounds how long the timer loop sleeps, so a clock that jumps
// (or a test clock) never leaves due work waiting for long.
const maxTimerSleep = time.Second

// advance does everything that is due by the broker's clock: releases
// delayed evaluations, ends nack back-offs, takes back deliveries past their
// visibility timeout and runs the periodic blocked release. It returns when
// the next of these is due.
func (b *broker) advance() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	next := now + int64(maxTimerSleep)
	if !b.enabled {
		return time.Unix(0, next)
	}
	for e := b.delayed.peek(); e != nil && e.due <= now; e = b.delayed.peek() {
		heap.Pop(&b.delayed)
		b.placeLocked(e)
	}
	for e := b.nackWait.peek(); e != nil && e.due <= now; e = b.nackWait.peek() {
		heap.Pop(&b.nackWait)
		b.makeReadyLocked(e) // it kept its job's slot while waiting
	}
	for id, o := range b.unacked {
		if o.deadline <= now {
			b.nackLocked(id, o)
		} else {
			next = min(next, o.deadline)
		}
	}
	if now >= b.nextRelease {
		if b.freedSinceRelease {
			b.releaseAllLocked()
			b.freedSinceRelease = false
		}
		b.nextRelease = now + int64(b.releaseInterval)
	}
	next = min(next, b.nextRelease)
	if e := b.delayed.peek(); e != nil {
		next = min(next, e.due)
	}
	if e := b.nackWait.peek(); e != nil {
		next = min(next, e.due)
	}
	return time.Unix(0, next)
}

// blockLocked parks an entry until room may have appeared for its job.
func (b *broker) blockLocked(e *entry) {
	q := b.queueLocked(e.eval.JobID)
	e.loc = locBlocked
	q.blocked = append(q.blocked, e)
	if q.blockedIdx < 0 {
		b.seq++
		q.blockedSeq = b.seq
		q.blockedPriority = e.eval.Priority
		heap.Push(&b.blockedJobs, q)
	} else if e.eval.Priority > q.blockedPriority {
		q.blockedPriority = e.eval.Priority
		heap.Fix(&b.blockedJobs, q.blockedIdx)
	}
}

// unblockLocked queues every blocked evaluation of a job again.
func (b *broker) unblockLocked(q *jobQueue) {
	entries := q.blocked
	q.blocked = nil
	for _, e := range entries {
		b.placeLocked(e)
	}
}

func (b *broker) releaseAllLocked() {
	for b.blockedJobs.Len() > 0 {
		b.unblockLocked(heap.Pop(&b.blockedJobs).(*jobQueue))
	}
	for _, o := range b.unacked {
		o.rerunIfBlocked = true
	}
}

// releaseAll retries every blocked evaluation: the set of nodes changed.
func (b *broker) releaseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.enabled {
		b.releaseAllLocked()
	}
}

// releaseCapacity retries about as many blocked jobs as freed execution
// slots, highest priority and longest waiting first, so one completion does
// not wake thousands of waiting jobs. Slots no blocked job took go to
// deliveries in flight, which may be about to block on older state.
func (b *broker) releaseCapacity(slots int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled {
		return
	}
	if slots > 0 {
		b.freedSinceRelease = true
	}
	for ; slots > 0 && b.blockedJobs.Len() > 0; slots-- {
		b.unblockLocked(heap.Pop(&b.blockedJobs).(*jobQueue))
	}
	for _, o := range b.unacked {
		if slots == 0 {
			break
		}
		if !o.rerunIfBlocked {
			o.rerunIfBlocked = true
			slots--
		}
	}
}
