package server

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

type fakeView struct{ index uint64 }

func (v fakeView) Index() uint64           { return v.index }
func (v fakeView) Digest() (string, error) { return fmt.Sprintf("%016x", v.index), nil }

// TestDigestCheckpoints feeds the checker the command indexes a replica
// applies and checks which ones become checkpoints: the first at or past
// each multiple of every, never the first after a start or a restore.
func TestDigestCheckpoints(t *testing.T) {
	tests := []struct {
		name    string
		applied []uint64 // 0 means a restore
		want    []uint64
	}{
		{"crossings, entries skipping indexes", []uint64{1, 2, 5, 9, 10, 11, 13, 19, 21}, []uint64{5, 9, 13, 19, 21}},
		{"the first entry after a start is only the baseline", []uint64{12, 13, 16}, []uint64{16}},
		{"a restore sets a new baseline", []uint64{3, 4, 0, 17, 18, 20}, []uint64{4, 20}},
		{"no crossing, no checkpoint", []uint64{1, 2, 3}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []uint64
			current := uint64(0)
			d := &digestChecker{every: 4, log: slog.New(slog.DiscardHandler),
				view: func() digestView { return fakeView{current} },
				report: func(index uint64, _ float64, _ time.Duration) {
					mu.Lock()
					got = append(got, index)
					mu.Unlock()
				}}
			for _, idx := range tc.applied {
				if idx == 0 {
					d.restored()
					continue
				}
				current = idx
				d.applied(idx)
				// One checkpoint hashes at a time; wait for it so none is
				// skipped here.
				for d.busy.Load() {
					time.Sleep(time.Millisecond)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(got, tc.want) {
				t.Errorf("checkpoints at %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDigestValue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"ffffffffffffffff00", float64(uint64(0xffffffffffff))},
		{"0000000000010000", 1},
		{"not hex", 0},
		{"abcd", 0},
	} {
		if got := digestValue(tc.in); got != tc.want {
			t.Errorf("digestValue(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
