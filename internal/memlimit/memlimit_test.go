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
		current  int64
		h        heap
		want     int64
	}{
		{"small heap keeps the floor", 400 * mib, 1.5, 400 * mib, heap{100 * mib, 900 * mib}, 400 * mib},
		{"no goal: headroom times live", 400 * mib, 1.5, 400 * mib, heap{300 * mib, 0}, 450 * mib},
		// 153 MiB of partly used spans beside a 266 MiB live heap: under a
		// 419 MB limit the goal is the live heap itself.
		{"fragmentation squeezes the goal", 400 * mib, 1.5, 419 * mib, heap{266 * mib, 266 * mib}, 552 * mib},
		{"goal where it should be: kept", 400 * mib, 1.5, 552 * mib, heap{266 * mib, 399 * mib}, 552 * mib},
		{"live heap shrank: back down", 400 * mib, 1.5, 552 * mib, heap{20 * mib, 180 * mib}, 400 * mib},
		{"goal held low by GOGC: capped", 100 * mib, 1.5, 900 * mib, heap{200 * mib, 240 * mib}, 600 * mib},
		{"no overflow", 1, 4, 1, heap{math.MaxUint64, 0}, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := target(tt.base, tt.headroom, tt.current, tt.h); got != tt.want {
				t.Errorf("target(%d MiB, %v, %d MiB, %+v) = %d MiB, want %d MiB", tt.base/mib, tt.headroom, tt.current/mib, tt.h, got/mib, tt.want/mib)
			}
		})
	}
}

// The tuner against a model of the runtime: the goal is the limit less what
// else the process holds (capped by GOGC 800).
func TestAdjustSteersTheGoal(t *testing.T) {
	const mib = 1 << 20
	var live, other uint64
	var sets []int64
	var tu *Tuner
	tu = newTuner(400*mib, 1.5, nil, func(v int64) int64 { sets = append(sets, v); return 0 }, func() (heap, bool) {
		goal := min(9*live, uint64(tu.current)-other)
		return heap{live: live, goal: goal}, true
	})
	steps := []struct {
		live, other uint64
		want        int64
	}{
		{100 * mib, 20 * mib, 400 * mib},  // room enough under the floor: no change
		{266 * mib, 153 * mib, 552 * mib}, // fragmented: raised until the goal is 1.5 × live
		{266 * mib, 153 * mib, 552 * mib}, // and held there
		{300 * mib, 153 * mib, 603 * mib}, // grows with the live heap
		{50 * mib, 30 * mib, 400 * mib},   // after a collection of most jobs: back to the floor
	}
	for i, s := range steps {
		live, other = s.live, s.other
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
	tu := newTuner(1<<40, 1.5, nil, func(int64) int64 { return 0 }, func() (heap, bool) { calls.Add(1); return heap{live: 1}, true })
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
