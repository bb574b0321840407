package server

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/fsm"
)

// batcher lets concurrent writes on the leader share Raft entries. One fsync
// and one replication round per create cannot reach thousands of creates per
// second on one disk, so every command waits in a queue and the loop packs
// whatever has queued up into one MsgBatch entry. With nothing else waiting a
// command goes out alone at once, so a single client sees no added delay;
// under load the entries in flight bound the queue and batches grow.
type batcher struct {
	raft     *raft.Raft
	queue    chan *pendingApply
	inflight chan struct{}
	maxBatch int
	maxBytes int
	observe  func(size int)

	// nudgeWanted is set when a forwarded write has committed and no entry
	// dispatched since has told the followers so (see nudge).
	nudgeWanted atomic.Bool
	nudges      atomic.Int64
	// observeCommit, when set, gets the time from proposing an entry to
	// its commit and apply.
	observeCommit func(seconds float64)
}

type pendingApply struct {
	data      []byte
	forwarded bool
	done      chan applyOutcome
}

type forwardedKey struct{}

// withForwarded marks ctx as serving a write another replica forwarded: that
// replica answers only once it has applied the write itself.
func withForwarded(ctx context.Context) context.Context {
	return context.WithValue(ctx, forwardedKey{}, true)
}

type applyOutcome struct {
	result fsm.Result
	index  uint64
	err    error
}

// errNotLeader means the command was not written because this replica is
// not the leader: it may safely be sent to the leader instead.
var errNotLeader = errors.New("not the leader")

const batchEnqueueTimeout = 5 * time.Second

func newBatcher(r *raft.Raft, maxInflight, maxBatch int, observe func(int)) *batcher {
	return &batcher{
		raft:     r,
		queue:    make(chan *pendingApply, 4*maxBatch),
		inflight: make(chan struct{}, maxInflight),
		maxBatch: maxBatch,
		maxBytes: 4 << 20,
		observe:  observe,
	}
}

// apply queues one encoded command and waits for Raft to commit and apply
// it. A nil error means the command was applied: its own failure, if any, is
// in the result.
func (b *batcher) apply(ctx context.Context, data []byte) (fsm.Result, uint64, error) {
	forwarded, _ := ctx.Value(forwardedKey{}).(bool)
	p := &pendingApply{data: data, forwarded: forwarded, done: make(chan applyOutcome, 1)}
	select {
	case b.queue <- p:
	case <-ctx.Done():
		return fsm.Result{}, 0, fmt.Errorf("queue write: %w", ctx.Err())
	}
	select {
	case out := <-p.done:
		return out.result, out.index, out.err
	case <-ctx.Done():
		// The command is in the pipeline and may still commit.
		return fsm.Result{}, 0, fmt.Errorf("%w: waiting for commit: %w", errOutcomeUnknown, ctx.Err())
	}
}

// run packs queued commands into entries until ctx ends.
func (b *batcher) run(ctx context.Context) {
	for {
		var first *pendingApply
		select {
		case <-ctx.Done():
			b.drain()
			return
		case first = <-b.queue:
		}
		batch := []*pendingApply{first}
		size := len(first.data)
		// Wait for a free slot before collecting: the longer the entries in
		// flight take, the more commands join this one.
		select {
		case b.inflight <- struct{}{}:
		case <-ctx.Done():
			b.fail(batch, raft.ErrRaftShutdown)
			b.drain()
			return
		}
	collect:
		for len(batch) < b.maxBatch && size < b.maxBytes {
			select {
			case p := <-b.queue:
				batch = append(batch, p)
				size += len(p.data)
			default:
				break collect
			}
		}
		b.send(batch)
	}
}

func (b *batcher) send(batch []*pendingApply) {
	var entry []byte
	if len(batch) == 1 {
		entry = batch[0].data
	} else {
		parts := make([][]byte, len(batch))
		for i, p := range batch {
			parts[i] = p.data
		}
		entry = fsm.EncodeBatch(parts)
	}
	if b.observe != nil {
		b.observe(len(batch))
	}
	// This entry's AppendEntries carries the commit index as it is now, so
	// it tells the followers about every write that committed before it.
	b.nudgeWanted.Store(false)
	start := time.Now()
	future := b.raft.Apply(entry, batchEnqueueTimeout)
	go func() {
		if err := future.Error(); err != nil {
			<-b.inflight
			b.fail(batch, err)
			return
		}
		b.afterCommit(batch)
		<-b.inflight
		if b.observeCommit != nil {
			b.observeCommit(time.Since(start).Seconds())
		}
		index := future.Index()
		switch resp := future.Response().(type) {
		case []fsm.Result:
			for i, p := range batch {
				if i < len(resp) {
					p.done <- applyOutcome{result: resp[i], index: index}
				} else {
					p.done <- applyOutcome{index: index, err: fmt.Errorf("batch answer has %d results for %d commands", len(resp), len(batch))}
				}
			}
		case fsm.Result:
			batch[0].done <- applyOutcome{result: resp, index: index}
		default:
			b.failAll(batch, index, fmt.Errorf("unexpected apply answer %T", resp))
		}
	}()
}

// afterCommit sends a barrier entry when a forwarded write in batch has
// committed and nothing else will carry the news to the followers soon. A
// follower learns the commit index only from the leader's next
// AppendEntries: under load that is the next batch, but an idle leader sends
// one only after CommitTimeout (50–100 ms), and the forwarding replica waits
// that long to apply the write before it may answer. The barrier costs an
// entry, paid only when the leader has nothing else to send.
func (b *batcher) afterCommit(batch []*pendingApply) {
	for _, p := range batch {
		if p.forwarded {
			b.nudgeWanted.Store(true)
			break
		}
	}
	// Only this batch in flight and nothing queued: no entry is coming.
	if len(b.queue) > 0 || len(b.inflight) > 1 || !b.nudgeWanted.Swap(false) {
		return
	}
	b.nudges.Add(1)
	go func() {
		// A barrier that fails changes nothing: the heartbeat carries
		// the commit index a little later.
		_ = b.raft.Barrier(batchEnqueueTimeout).Error()
	}()
}

func (b *batcher) failAll(batch []*pendingApply, index uint64, err error) {
	for _, p := range batch {
		p.done <- applyOutcome{index: index, err: err}
	}
}

// fail maps Raft's apply errors onto what the caller may do next.
func (b *batcher) fail(batch []*pendingApply, err error) {
	var mapped error
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrEnqueueTimeout):
		// Never written: another leader may take it.
		mapped = fmt.Errorf("%w: %w", errNotLeader, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		// Written to our log, maybe replicated: it may still commit.
		mapped = fmt.Errorf("%w: leadership lost while committing: %w", errOutcomeUnknown, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		mapped = fmt.Errorf("%w: %w", errOutcomeUnknown, err)
	default:
		mapped = fmt.Errorf("%w: %w", errOutcomeUnknown, err)
	}
	b.failAll(batch, 0, mapped)
}

// drain fails whatever is still queued when the batcher stops.
func (b *batcher) drain() {
	for {
		select {
		case p := <-b.queue:
			p.done <- applyOutcome{err: fmt.Errorf("%w: %w", errNotLeader, raft.ErrRaftShutdown)}
		default:
			return
		}
	}
}
