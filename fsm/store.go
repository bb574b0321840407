package fsm

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/shoal-io/shoal/fsm/memtab"
)

// Store is the replicated state: memtab tables that only the FSM writes,
// read by anyone through consistent snapshots (Txn).
type Store struct {
	// state is swapped whole by Restore; readers holding the old one keep a
	// consistent (if outdated) view and are woken through its abandon channel.
	state atomic.Pointer[storeState]

	applied atomic.Uint64
	mu      sync.Mutex
	// advanced is closed (and cleared) whenever the applied index moves;
	// created only when someone waits, so Apply pays nothing otherwise.
	advanced chan struct{}
	// codec compresses and decompresses frozen rows (frozen.go).
	codec *blobCodec
}

type storeState struct {
	db      *memtab.MemDB
	abandon chan struct{}
}

func newStore() *Store {
	s := &Store{codec: newBlobCodec()}
	s.state.Store(&storeState{db: newDB(), abandon: make(chan struct{})})
	return s
}

// Txn returns a consistent read-only view of the state. It is cheap (an
// immutable snapshot) and never blocks writers; open a new one to see newer
// state.
func (s *Store) Txn() *ReadTxn {
	st := s.state.Load()
	return &ReadTxn{txn: st.db.Txn(false), abandon: st.abandon}
}

// Index returns the raft index of the last applied log entry.
func (s *Store) Index() uint64 { return s.applied.Load() }

// WaitForIndex returns once the store has applied index (or a later one), or
// with the context's error. Only entries that reach the FSM (commands) move
// the index: raft's own no-op and barrier entries do not, so wait for the
// index of a command, or use raft's Barrier for "everything so far".
func (s *Store) WaitForIndex(ctx context.Context, index uint64) error {
	for {
		if s.applied.Load() >= index {
			return nil
		}
		s.mu.Lock()
		if s.applied.Load() >= index {
			s.mu.Unlock()
			return nil
		}
		if s.advanced == nil {
			s.advanced = make(chan struct{})
		}
		ch := s.advanced
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d (applied %d): %w", index, s.applied.Load(), ctx.Err())
		}
	}
}

func (s *Store) db() *memtab.MemDB { return s.state.Load().db }

// setApplied publishes index after its changes are committed, so a reader
// that sees the index also sees the state.
func (s *Store) setApplied(index uint64) {
	s.mu.Lock()
	s.applied.Store(index)
	ch := s.advanced
	s.advanced = nil
	s.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// replace swaps in a restored database and wakes everyone watching the old
// one.
func (s *Store) replace(db *memtab.MemDB, index uint64) {
	old := s.state.Swap(&storeState{db: db, abandon: make(chan struct{})})
	close(old.abandon)
	s.setApplied(index)
}

// lookup returns the row of table whose index matches args exactly.
func lookup[T any](txn *memtab.Txn, table tableID, index string, args ...any) (T, bool, error) {
	var zero T
	raw, err := txn.First(table.String(), index, args...)
	if err != nil {
		return zero, false, fmt.Errorf("read %s by %s: %w", table, index, err)
	}
	if raw == nil {
		return zero, false, nil
	}
	v, ok := raw.(T)
	if !ok {
		return zero, false, fmt.Errorf("table %s holds %T, want %T", table, raw, zero)
	}
	return v, true, nil
}

// collect drains an iterator, keeping the rows keep accepts (nil keeps all).
func collect[T any, R any](it memtab.ResultIterator, conv func(T) R, keep func(T) bool) []R {
	out := make([]R, 0, 4)
	for raw := it.Next(); raw != nil; raw = it.Next() {
		v, ok := raw.(T)
		if !ok || (keep != nil && !keep(v)) {
			continue
		}
		out = append(out, conv(v))
	}
	return out
}

func readIndexRecord(txn *memtab.Txn, name string) (*indexRecord, error) {
	r, ok, err := lookup[*indexRecord](txn, tableIndex, "id", name)
	if err != nil || !ok {
		return &indexRecord{Table: name}, err
	}
	return r, nil
}
