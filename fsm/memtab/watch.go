package memtab

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// watchRegistry holds the channels blocking readers wait on, one per
// (table, index, prefix) anyone asked about. A channel exists only while
// someone may be waiting: commits close and drop the ones whose range they
// changed, a channel whose readers all released it (Txn.Release) is dropped,
// and channels left unfired for maxWatchAge are closed too (a spurious
// wake-up only makes the reader read again), so the registry never grows
// with the data. Without the release, a reader that registered and then
// found its answer without waiting (a blocking read of a job that had
// already changed) left its channels for ten minutes: the scale test's
// 100,000 waits for completed jobs left 75,000, 8 MB per replica.
type watchRegistry struct {
	mu      sync.Mutex
	watches map[watchKey]*watchEntry
	byCh    map[<-chan struct{}]watchKey
	swept   time.Time
	// count is len(watches), read without the lock: a writer records its
	// changes only while someone waits (see Txn.note).
	count atomic.Int64
}

type watchKey struct {
	table, index int
	prefix       string
}

type watchEntry struct {
	ch      chan struct{}
	created time.Time
	// waiters counts the registrations not yet released.
	waiters int
}

const maxWatchAge = 10 * time.Minute

var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// register returns the channel for a range read from version seen. If seen
// is no longer the published version, a commit may already have changed the
// range unseen, so the reader gets a closed channel and reads again.
func (w *watchRegistry) register(pub *atomic.Pointer[root], seen *root, ti, ii int, prefix string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if pub.Load() != seen {
		return closedCh
	}
	if w.watches == nil {
		w.watches = make(map[watchKey]*watchEntry)
		w.byCh = make(map[<-chan struct{}]watchKey)
	}
	k := watchKey{table: ti, index: ii, prefix: prefix}
	e, ok := w.watches[k]
	if !ok {
		e = &watchEntry{ch: make(chan struct{}), created: time.Now()}
		w.watches[k] = e
		w.byCh[e.ch] = k
		w.count.Store(int64(len(w.watches)))
	}
	e.waiters++
	return e.ch
}

// release ends one registration of each of ws's channels this registry
// made, and drops the channels nobody is registered on any more. Channels
// already fired, and those of other registries, are passed over.
func (w *watchRegistry) release(ws WatchSet) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range ws {
		k, ok := w.byCh[ch]
		if !ok {
			continue
		}
		e := w.watches[k]
		if e.waiters--; e.waiters <= 0 {
			w.drop(k, e)
		}
	}
	w.count.Store(int64(len(w.watches)))
}

// drop forgets an entry; the caller holds mu.
func (w *watchRegistry) drop(k watchKey, e *watchEntry) {
	delete(w.watches, k)
	delete(w.byCh, e.ch)
}

// waiting reports whether any reader may be waiting for a change.
func (w *watchRegistry) waiting() bool { return w.count.Load() > 0 }

// publish makes next the published version and fires the watches whose
// range a change falls in, under the registry lock, so no reader registers
// against a version between the two. unrecorded means the transaction left
// some changes out (nobody waited when it made them): a watch registered
// since then fires whatever its range, since a spurious wake-up only makes
// its reader read again.
func (w *watchRegistry) publish(pub *atomic.Pointer[root], next *root, changes []change, unrecorded bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() { w.count.Store(int64(len(w.watches))) }()
	pub.Store(next)
	if len(w.watches) == 0 {
		return
	}
	for k, e := range w.watches {
		if unrecorded || fires(k, changes) {
			close(e.ch)
			w.drop(k, e)
		}
	}
	if now := time.Now(); now.Sub(w.swept) > time.Minute {
		w.swept = now
		for k, e := range w.watches {
			if now.Sub(e.created) > maxWatchAge {
				close(e.ch)
				w.drop(k, e)
			}
		}
	}
}

func fires(k watchKey, changes []change) bool {
	for _, c := range changes {
		if c.table == k.table && c.index == k.index && hasPrefix(c.key, k.prefix) {
			return true
		}
	}
	return false
}

// WatchSet is a set of channels to wait on together.
type WatchSet map[<-chan struct{}]struct{}

// NewWatchSet returns an empty set.
func NewWatchSet() WatchSet { return make(WatchSet) }

// Add adds ch (nil is ignored).
func (s WatchSet) Add(ch <-chan struct{}) {
	if s != nil && ch != nil {
		s[ch] = struct{}{}
	}
}

// WatchCtx blocks until one channel fires (nil) or ctx ends (its error).
func (s WatchSet) WatchCtx(ctx context.Context) error {
	if len(s) == 0 {
		<-ctx.Done()
		return ctx.Err()
	}
	done := make(chan struct{}, 1)
	stop := make(chan struct{})
	defer close(stop)
	for ch := range s {
		go func() {
			select {
			case <-ch:
				select {
				case done <- struct{}{}:
				default:
				}
			case <-stop:
			}
		}()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
