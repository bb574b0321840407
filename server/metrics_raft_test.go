package server

import (
	"testing"

	"github.com/hashicorp/raft"
)

type monotonicStore struct {
	*raft.InmemStore
	monotonic bool
}

func (m monotonicStore) IsMonotonic() bool { return m.monotonic }

// TestTimedLogStoreKeepsMonotonic guards the snapshot-restore path on
// raft-wal: Raft only clears a monotonic store's old log if it can still
// see that the store is monotonic through every wrapper.
func TestTimedLogStoreKeepsMonotonic(t *testing.T) {
	tests := []struct {
		name  string
		store raft.LogStore
		want  bool
	}{
		{"monotonic store", monotonicStore{raft.NewInmemStore(), true}, true},
		{"store that says no", monotonicStore{raft.NewInmemStore(), false}, false},
		{"store without the method", raft.NewInmemStore(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache, err := raft.NewLogCache(8, &timedLogStore{LogStore: tt.store, observe: func(float64) {}})
			if err != nil {
				t.Fatal(err)
			}
			var ls raft.LogStore = cache
			m, ok := ls.(raft.MonotonicLogStore)
			if got := ok && m.IsMonotonic(); got != tt.want {
				t.Fatalf("IsMonotonic through the cache = %v, want %v", got, tt.want)
			}
		})
	}
}
