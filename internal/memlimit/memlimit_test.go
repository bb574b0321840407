package memlimit

import (
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestTarget(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		base     int64
		headroom float64
		live     uint64
		want     int64
	}{
		{"small heap keeps the floor", 400 * mib, 1.5, 100 * mib, 400 * mib},
		{"live heap near the floor raises it", 400 * mib, 1.5, 300 * mib, 450 * mib},
		{"exactly at the floor", 400 * mib, 2, 200 * mib, 400 * mib},
		{"no overflow", 1, 4, math.MaxUint64, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := target(tt.base, tt.headroom, tt.live); got != tt.want {
				t.Errorf("target(%d, %v, %d) = %d, want %d", tt.base, tt.headroom, tt.live, got, tt.want)
			}
		})
	}
}

func TestAdjustFollowsTheLiveHeapBothWays(t *testing.T) {
	const mib = 1 << 20
	var live uint64
	var sets []int64
	tu := newTuner(400*mib, 1.5, nil, func(v int64) int64 { sets = append(sets, v); return 0 }, func() (uint64, bool) { return live, true })
	steps := []struct {
		live uint64
		want int64
	}{
		{100 * mib, 400 * mib}, // under the floor: no change
		{300 * mib, 450 * mib}, // raised
		{305 * mib, 450 * mib}, // under 5%: left alone
		{400 * mib, 600 * mib}, // raised again
		{50 * mib, 400 * mib},  // after a collection of most jobs: back to the floor
	}
	for i, s := range steps {
		live = s.live
		if !tu.adjust() {
			t.Fatalf("step %d: adjust stopped", i)
		}
		if got := tu.Limit(); got != s.want {
			t.Errorf("step %d: live %d MiB: limit %d MiB, want %d MiB", i, s.live/mib, got/mib, s.want/mib)
		}
	}
	if len(sets) != 3 {
		t.Errorf("set the runtime limit %d times (%v), want 3", len(sets), sets)
	}
	tu.Stop()
	if tu.adjust() {
		t.Error("adjust went on after Stop")
	}
}

// TestTunesAfterEveryCollection checks the hook is re-armed: it must run
// after several successive collections, not once.
func TestTunesAfterEveryCollection(t *testing.T) {
	var calls atomic.Int64
	tu := newTuner(1<<40, 1.5, nil, func(int64) int64 { return 0 }, func() (uint64, bool) { calls.Add(1); return 1, true })
	tu.arm()
	defer tu.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the hook ran %d times after repeated collections, want at least 3", calls.Load())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
