package server

import (
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/fsm"
)

// digestCheckEvery is how many Raft indexes lie between two state digest
// checkpoints. Each one hashes the whole state once, off the apply path.
const digestCheckEvery = 4096

// timedFSM measures how long each Raft entry takes to apply, and takes the
// state digest checkpoints.
type timedFSM struct {
	raft.BatchingFSM
	observe func(float64)
	digests *digestChecker
}

func (t *timedFSM) Apply(l *raft.Log) any {
	start := time.Now()
	v := t.BatchingFSM.Apply(l)
	t.observe(time.Since(start).Seconds())
	if t.digests != nil {
		t.digests.applied(l.Index)
	}
	return v
}

// ApplyBatch is raft's call when several entries are ready at once; the
// entries share one transaction, so each is counted at the batch's mean
// time, and the digest checkpoint can only fall on the batch's last entry
// (a replica that applied the same entries one by one may checkpoint an
// earlier index; the two are then not compared).
func (t *timedFSM) ApplyBatch(logs []*raft.Log) []any {
	start := time.Now()
	v := t.BatchingFSM.ApplyBatch(logs)
	var last uint64
	var n int
	for _, l := range logs {
		if l.Type == raft.LogCommand {
			last, n = l.Index, n+1
		}
	}
	if n == 0 {
		return v
	}
	per := time.Since(start).Seconds() / float64(n)
	for range n {
		t.observe(per)
	}
	if t.digests != nil {
		t.digests.applied(last)
	}
	return v
}

func (t *timedFSM) Restore(rc io.ReadCloser) error {
	if t.digests != nil {
		t.digests.restored()
	}
	return t.BatchingFSM.Restore(rc)
}

// digestChecker publishes the state digest at fixed Raft indexes, so that
// Prometheus can compare replicas at the same index
// (ShoalReplicaDigestMismatch in deploy/prometheus/alerts.yml). A
// checkpoint is the first command entry at or past a multiple of every:
// every replica applies the same entries, so every replica picks the same
// one. After a start or a restore the first entry only sets the baseline,
// and a checkpoint is skipped while the previous one is still hashing; a
// skipped checkpoint leaves the replica at an older index, where it is not
// compared, never a wrong answer.
type digestChecker struct {
	every uint64
	// view opens a read view of the state as applied so far.
	view   func() digestView
	log    *slog.Logger
	last   atomic.Uint64 // last applied command index; 0 before the baseline
	busy   atomic.Bool
	report func(index uint64, value float64, took time.Duration)
}

// digestView is what a checkpoint reads: *fsm.ReadTxn.
type digestView interface {
	Index() uint64
	Digest() (string, error)
}

var _ digestView = (*fsm.ReadTxn)(nil)

func (d *digestChecker) restored() { d.last.Store(0) }

func (d *digestChecker) applied(index uint64) {
	prev := d.last.Swap(index)
	if prev == 0 || prev/d.every == index/d.every {
		return
	}
	if !d.busy.CompareAndSwap(false, true) {
		return
	}
	// Apply has returned and the next entry waits for this one, so this
	// view is the state at exactly index.
	txn := d.view()
	if txn.Index() != index {
		d.busy.Store(false)
		return
	}
	go func() {
		defer d.busy.Store(false)
		start := time.Now()
		digest, err := txn.Digest()
		if err != nil {
			d.log.Warn("state digest checkpoint", "index", index, "error", err)
			return
		}
		d.report(index, digestValue(digest), time.Since(start))
	}()
}

// digestValue turns a hex digest into a number a float64 holds exactly.
func digestValue(digest string) float64 {
	b, err := hex.DecodeString(digest)
	if err != nil || len(b) < 8 {
		return 0
	}
	return float64(binary.BigEndian.Uint64(b[:8]) >> 16)
}

// timedLogStore measures writes to the Raft log: bbolt commits with an
// fsync, so this is the disk's share of a commit.
type timedLogStore struct {
	raft.LogStore
	observe func(float64)
}

// IsMonotonic passes on the wrapped store's answer. Raft asks it after
// installing or restoring a snapshot: a monotonic store (raft-wal) must have
// its old log removed before entries past the snapshot's index can follow,
// and a wrapper that hid the method left a gap raft-wal refuses
// ("non-monotonic log entries").
func (t *timedLogStore) IsMonotonic() bool {
	m, ok := t.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

func (t *timedLogStore) StoreLog(l *raft.Log) error {
	start := time.Now()
	err := t.LogStore.StoreLog(l)
	t.observe(time.Since(start).Seconds())
	return err
}

func (t *timedLogStore) StoreLogs(logs []*raft.Log) error {
	start := time.Now()
	err := t.LogStore.StoreLogs(logs)
	t.observe(time.Since(start).Seconds())
	return err
}
