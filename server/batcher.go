package server

import (
	"context"
	"errors"
	"fmt"
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
	// observeCommit, when set, gets the time from proposing an entry to
	// its commit and apply.
	observeCommit func(seconds float64)
}

type pendingApply struct {
	data []byte
	done chan applyOutcome
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
	p := &pendingApply{data: data, done: make(chan applyOutcome, 1)}
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
	start := time.Now()
	future := b.raft.Apply(entry, batchEnqueueTimeout)
	go func() {
		defer func() { <-b.inflight }()
		if err := future.Error(); err != nil {
			b.fail(batch, err)
			return
		}
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
