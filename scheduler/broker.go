package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-io/shoal/api"
)

// Broker errors. Workers treat both as "this delivery is no longer yours".
var (
	errBrokerDisabled = errors.New("evaluation broker disabled")
	errNotOutstanding = errors.New("evaluation not outstanding with this token")
)

// location says where the broker holds an evaluation.
type location int

const (
	locReady    location = iota + 1 // holds its job's slot, waits for a worker
	locPending                      // waits behind its job's slot holder
	locUnacked                      // delivered to a worker (as primary or coalesced)
	locDelayed                      // WaitUntil is in the future
	locNackWait                     // nacked, waiting out its back-off; keeps the job's slot
	locBlocked                      // waits for room on the nodes
	locFailed                       // hit the delivery limit
)

// entry is one evaluation inside the broker.
type entry struct {
	eval       *api.Evaluation
	loc        location
	seq        uint64 // arrival order, breaks priority/age ties
	minIndex   uint64 // state index a worker must see before planning it
	deliveries int
	due        int64 // Unix ns, for locDelayed and locNackWait
	readySince int64 // Unix ns, when it last became ready
	heapIdx    int
}

// jobQueue is the broker's per-job bookkeeping: at most one evaluation of a
// job is ready or in flight (the slot); the others wait.
type jobQueue struct {
	jobID    string
	slot     *entry
	pending  []*entry
	blocked  []*entry
	minIndex uint64 // index of the last plan applied for the job

	blockedPriority int
	blockedSeq      uint64
	blockedIdx      int // position in broker.blockedJobs, -1 when absent
}

func (q *jobQueue) empty() bool {
	return q.slot == nil && len(q.pending) == 0 && len(q.blocked) == 0
}

// delivery is what a worker gets from Dequeue: one evaluation and the other
// evaluations of the same job it serves at the same time.
type delivery struct {
	eval      *api.Evaluation
	coalesced []*api.Evaluation
	token     string
	minIndex  uint64
}

func (d *delivery) coalescedIDs() []string {
	if len(d.coalesced) == 0 {
		return nil
	}
	ids := make([]string, len(d.coalesced))
	for i, e := range d.coalesced {
		ids[i] = e.ID
	}
	return ids
}

// outstanding is a delivery a worker has not acked yet.
type outstanding struct {
	token    string
	entries  []*entry // primary first, then coalesced
	deadline int64
	// rerunIfBlocked is set when room may have appeared while the worker
	// planned on an older snapshot: a blocked outcome is retried at once.
	rerunIfBlocked bool
}

// broker is the in-memory evaluation broker. Every method is safe for
// concurrent use and none blocks on anything but its own short lock, except
// dequeue, which waits for work.
type broker struct {
	clock               func() time.Time
	visibilityTimeout   time.Duration
	initialNackDelay    time.Duration
	subsequentNackDelay time.Duration
	deliveryLimit       int
	releaseInterval     time.Duration

	mu          sync.Mutex
	enabled     bool
	seq         uint64
	tokens      uint64
	evals       map[string]*entry
	jobs        map[string]*jobQueue
	ready       entryHeap
	delayed     entryHeap
	nackWait    entryHeap
	blockedJobs jobHeap
	unacked     map[string]*outstanding // by primary evaluation ID
	failed      []*api.Evaluation       // hit the delivery limit, not yet marked failed in state
	failedCount int
	nextRelease int64
	// freedSinceRelease says whether capacity was freed since the last
	// safety release; without that, no blocked evaluation can have become
	// placeable and the release would only re-plan every waiting job.
	freedSinceRelease bool
	// idle holds one channel per worker waiting in dequeue, longest waiting
	// first. A ready evaluation wakes one of them: a shared channel closed
	// on every evaluation woke all 64 workers each time, and all but one
	// went back to sleep.
	idle       []chan struct{}
	kick       chan struct{} // wakes the timer loop when a deadline may have moved closer
	failedKick chan struct{} // wakes the failed-evaluation reaper
}

func newBroker(cfg Config) *broker {
	b := &broker{
		clock:               cfg.Clock,
		visibilityTimeout:   cfg.VisibilityTimeout,
		initialNackDelay:    cfg.InitialNackDelay,
		subsequentNackDelay: cfg.SubsequentNackDelay,
		deliveryLimit:       cfg.DeliveryLimit,
		releaseInterval:     cfg.BlockedReleaseInterval,
		kick:                make(chan struct{}, 1),
		failedKick:          make(chan struct{}, 1),
	}
	b.resetLocked()
	return b
}

func (b *broker) resetLocked() {
	b.evals = make(map[string]*entry)
	b.jobs = make(map[string]*jobQueue)
	b.ready = entryHeap{less: readyLess}
	b.delayed = entryHeap{less: dueLess}
	b.nackWait = entryHeap{less: dueLess}
	b.blockedJobs = nil
	b.unacked = make(map[string]*outstanding)
	b.failed = nil
	b.failedCount = 0
}

func (b *broker) now() int64 { return b.clock().UnixNano() }

// enable starts accepting evaluations with an empty broker.
func (b *broker) enable() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resetLocked()
	b.enabled = true
	b.nextRelease = b.now() + int64(b.releaseInterval)
	b.freedSinceRelease = false
}

// disable drops everything and wakes every waiting worker.
func (b *broker) disable() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.enabled = false
	b.resetLocked()
	b.wakeAllLocked()
}

// restore loads the open evaluations of a state snapshot taken at index.
func (b *broker) restore(pending, blocked []*api.Evaluation, index uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled {
		return
	}
	for _, ev := range pending {
		if _, known := b.evals[ev.ID]; !known {
			b.placeLocked(b.newEntryLocked(ev, index))
		}
	}
	for _, ev := range blocked {
		if _, known := b.evals[ev.ID]; !known {
			b.blockLocked(b.newEntryLocked(ev, index))
		}
	}
	// Capacity may have been freed while no leader was listening.
	b.freedSinceRelease = b.freedSinceRelease || len(blocked) > 0
}

// committed takes evaluations the state machine just committed: pending ones
// are queued, blocked ones parked, and ones that ended elsewhere dropped.
func (b *broker) committed(evals []*api.Evaluation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.enabled {
		return
	}
	for _, ev := range evals {
		if ev == nil {
			continue
		}
		e, known := b.evals[ev.ID]
		switch ev.Status {
		case api.EvalStatusPending:
			if !known {
				b.placeLocked(b.newEntryLocked(ev, 0))
			}
		case api.EvalStatusBlocked:
			// A known one is in flight (its worker parks it on ack) or
			// already waiting.
			if !known {
				b.blockLocked(b.newEntryLocked(ev, 0))
			}
		default:
			if known {
				b.dropLocked(e)
			}
		}
	}
}

func (b *broker) newEntryLocked(ev *api.Evaluation, minIndex uint64) *entry {
	b.seq++
	e := &entry{eval: ev, seq: b.seq, minIndex: minIndex, heapIdx: -1}
	b.evals[ev.ID] = e
	return e
}

func (b *broker) queueLocked(jobID string) *jobQueue {
	q := b.jobs[jobID]
	if q == nil {
		q = &jobQueue{jobID: jobID, blockedIdx: -1}
		b.jobs[jobID] = q
	}
	return q
}

func (b *broker) cleanupLocked(q *jobQueue) {
	if q.empty() {
		delete(b.jobs, q.jobID)
	}
}

// placeLocked puts an entry that is nowhere yet where it belongs: delayed,
// ready (taking its job's slot), or pending behind the slot holder.
func (b *broker) placeLocked(e *entry) {
	if e.eval.WaitUntil > b.now() {
		e.loc = locDelayed
		e.due = e.eval.WaitUntil
		heap.Push(&b.delayed, e)
		b.kickLocked()
		return
	}
	q := b.queueLocked(e.eval.JobID)
	if q.slot == nil {
		q.slot = e
		b.makeReadyLocked(e)
		return
	}
	e.loc = locPending
	q.pending = append(q.pending, e)
}

func (b *broker) makeReadyLocked(e *entry) {
	e.loc = locReady
	e.readySince = b.now()
	heap.Push(&b.ready, e)
	b.wakeOneLocked()
}

// promoteLocked gives a free job slot to the best pending evaluation.
func (b *broker) promoteLocked(q *jobQueue) {
	if q.slot != nil || len(q.pending) == 0 {
		b.cleanupLocked(q)
		return
	}
	best := 0
	for i := 1; i < len(q.pending); i++ {
		if readyLess(q.pending[i], q.pending[best]) {
			best = i
		}
	}
	e := q.pending[best]
	q.pending = append(q.pending[:best], q.pending[best+1:]...)
	q.slot = e
	b.makeReadyLocked(e)
}

// dropLocked forgets a waiting evaluation whose status was settled
// elsewhere. In-flight and failed ones stay: their owner settles them.
func (b *broker) dropLocked(e *entry) {
	q := b.jobs[e.eval.JobID]
	switch e.loc {
	case locReady:
		heap.Remove(&b.ready, e.heapIdx)
		q.slot = nil
		b.promoteLocked(q)
	case locNackWait:
		heap.Remove(&b.nackWait, e.heapIdx)
		q.slot = nil
		b.promoteLocked(q)
	case locDelayed:
		heap.Remove(&b.delayed, e.heapIdx)
	case locPending:
		q.pending = removeEntry(q.pending, e)
		b.cleanupLocked(q)
	case locBlocked:
		q.blocked = removeEntry(q.blocked, e)
		if len(q.blocked) == 0 && q.blockedIdx >= 0 {
			heap.Remove(&b.blockedJobs, q.blockedIdx)
		}
		b.cleanupLocked(q)
	default:
		return
	}
	delete(b.evals, e.eval.ID)
}

func removeEntry(list []*entry, e *entry) []*entry {
	for i, x := range list {
		if x == e {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// dequeue waits for a ready evaluation and delivers it together with every
// other evaluation of its job that is waiting (coalescing).
func (b *broker) dequeue(ctx context.Context) (*delivery, error) {
	for {
		b.mu.Lock()
		if !b.enabled {
			b.mu.Unlock()
			return nil, errBrokerDisabled
		}
		if b.ready.Len() > 0 {
			d := b.deliverLocked()
			b.mu.Unlock()
			return d, nil
		}
		wake := make(chan struct{}, 1)
		b.idle = append(b.idle, wake)
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			b.mu.Lock()
			if !b.dropIdleLocked(wake) {
				// Woken while leaving: pass it on, or a ready evaluation
				// waits for a worker that is gone.
				b.wakeOneLocked()
			}
			b.mu.Unlock()
			return nil, ctx.Err()
		case <-wake:
		}
	}
}

func (b *broker) deliverLocked() *delivery {
	primary := heap.Pop(&b.ready).(*entry)
	q := b.jobs[primary.eval.JobID]
	entries := make([]*entry, 0, 1+len(q.pending)+len(q.blocked))
	entries = append(entries, primary)
	entries = append(entries, q.pending...)
	entries = append(entries, q.blocked...)
	q.pending, q.blocked = nil, nil
	if q.blockedIdx >= 0 {
		heap.Remove(&b.blockedJobs, q.blockedIdx)
	}

	primary.deliveries++
	b.tokens++
	d := &delivery{eval: primary.eval, token: strconv.FormatUint(b.tokens, 36), minIndex: q.minIndex}
	for _, e := range entries {
		e.loc = locUnacked
		d.minIndex = max(d.minIndex, e.minIndex)
		if e != primary {
			d.coalesced = append(d.coalesced, e.eval)
		}
	}
	b.unacked[primary.eval.ID] = &outstanding{
		token:    d.token,
		entries:  entries,
		deadline: b.now() + int64(b.visibilityTimeout),
	}
	b.kickLocked()
	return d
}

func (b *broker) outstandingLocked(evalID, token string) (*outstanding, error) {
	if !b.enabled {
		return nil, errBrokerDisabled
	}
	o := b.unacked[evalID]
	if o == nil || o.token != token {
		return nil, errNotOutstanding
	}
	return o, nil
}

// touch restarts the visibility timeout of a delivery still being worked on.
func (b *broker) touch(evalID, token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, err := b.outstandingLocked(evalID, token)
	if err != nil {
		return err
	}
	o.deadline = b.now() + int64(b.visibilityTimeout)
	return nil
}

// ack settles a delivery whose plan was applied at index. blocked says the
// plan left the job waiting for room: its evaluations are parked until
// capacity appears (or retried at once if it may already have).
func (b *broker) ack(evalID, token string, blocked bool, index uint64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, err := b.outstandingLocked(evalID, token)
	if err != nil {
		return err
	}
	delete(b.unacked, evalID)
	primary := o.entries[0]
	q := b.jobs[primary.eval.JobID]
	q.minIndex = max(q.minIndex, index)
	q.slot = nil
	switch {
	case blocked && o.rerunIfBlocked:
		primary.deliveries = 0
		q.slot = primary
		b.makeReadyLocked(primary)
		for _, e := range o.entries[1:] {
			e.loc = locPending
			q.pending = append(q.pending, e)
		}
	case blocked:
		for _, e := range o.entries {
			e.deliveries = 0
			b.blockLocked(e)
		}
	default:
		for _, e := range o.entries {
			delete(b.evals, e.eval.ID)
		}
	}
	b.promoteLocked(q)
	return nil
}

// nack hands a delivery back: it is delivered again after a back-off, or
// failed once it reached the delivery limit.
func (b *broker) nack(evalID, token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, err := b.outstandingLocked(evalID, token)
	if err != nil {
		return err
	}
	b.nackLocked(evalID, o)
	return nil
}

func (b *broker) nackLocked(evalID string, o *outstanding) {
	delete(b.unacked, evalID)
	primary := o.entries[0]
	q := b.jobs[primary.eval.JobID]
	if primary.deliveries >= b.deliveryLimit {
		// The evaluations were delivered as one unit; they fail as one.
		for _, e := range o.entries {
			e.loc = locFailed
			b.failed = append(b.failed, e.eval)
			b.failedCount++
		}
		q.slot = nil
		b.promoteLocked(q)
		select {
		case b.failedKick <- struct{}{}:
		default:
		}
		return
	}
	for _, e := range o.entries[1:] {
		e.loc = locPending
		q.pending = append(q.pending, e)
	}
	delay := b.subsequentNackDelay
	if primary.deliveries <= 1 {
		delay = b.initialNackDelay
	}
	primary.loc = locNackWait
	primary.due = b.now() + int64(delay)
	heap.Push(&b.nackWait, primary)
	b.kickLocked()
}

// wakeOneLocked wakes the worker that has waited longest.
func (b *broker) wakeOneLocked() {
	if len(b.idle) == 0 {
		return
	}
	w := b.idle[0]
	b.idle[0] = nil
	b.idle = b.idle[1:]
	w <- struct{}{}
}

// wakeAllLocked wakes every waiting worker: the broker stopped.
func (b *broker) wakeAllLocked() {
	for _, w := range b.idle {
		w <- struct{}{}
	}
	b.idle = nil
}

// dropIdleLocked takes a leaving worker's channel out of idle; false when it
// was already woken.
func (b *broker) dropIdleLocked(w chan struct{}) bool {
	for i, x := range b.idle {
		if x == w {
			b.idle = append(b.idle[:i], b.idle[i+1:]...)
			return true
		}
	}
	return false
}

func (b *broker) kickLocked() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}
