package server

import (
	"testing"
	"time"
)

func TestIdleWatch(t *testing.T) {
	const big, small = true, false
	type tick struct {
		at          time.Duration // since the start
		quiet       bool
		jobsDue     bool
		reclaimable bool // a collection would free enough
		want        bool
	}
	tests := []struct {
		name  string
		ticks []tick
	}{
		{"a burst's hand-back, then its snapshot's garbage 10 s later", []tick{
			{0, true, true, small, true}, {4 * time.Second, true, false, big, false}, {10 * time.Second, true, false, big, true}}},
		{"then at most once a minute while reads make garbage", []tick{
			{0, true, true, small, true}, {10 * time.Second, true, false, big, true}, {30 * time.Second, true, false, big, false},
			{70 * time.Second, true, false, big, true}}},
		{"a write makes the next one come sooner", []tick{
			{0, true, false, big, true}, {20 * time.Second, false, false, big, false}, {22 * time.Second, true, false, big, true}}},
		{"never while jobs are written", []tick{{0, false, false, big, false}, {time.Minute, false, false, big, false}}},
		{"not for little", []tick{{0, true, false, small, false}, {time.Minute, true, false, small, false}}},
		{"the job count's hand-back is never held back", []tick{{0, true, true, small, true}, {2 * time.Second, false, true, small, true}}},
	}
	start := time.Unix(1_000_000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w idleWatch
			for i, k := range tt.ticks {
				if got := w.due(start.Add(k.at), k.quiet, k.jobsDue, k.reclaimable); got != k.want {
					t.Fatalf("tick %d (%+v): due = %v, want %v", i, k, got, k.want)
				}
			}
		})
	}
}

func TestMemoryWatchDue(t *testing.T) {
	type tick struct {
		jobs    int
		removed uint64
		want    bool
		quiet   bool // no job written since the last tick
	}
	tests := []struct {
		name    string
		peak    int
		removed uint64
		ticks   []tick
	}{
		{"growth while jobs are written never fires", 0, 0, []tick{{500, 0, false, false}, {20000, 0, false, false}, {20500, 0, false, false}}},
		// A burst of creates, then quiet: once, and not again while
		// nothing more comes.
		{"the end of a burst", 0, 0, []tick{{50000, 0, false, false}, {100000, 0, false, false}, {100000, 0, true, true}, {100000, 0, false, true}, {100000, 0, false, true}}},
		{"a small burst does not fire", 0, 0, []tick{{500, 0, false, false}, {900, 0, false, true}, {900, 0, false, true}}},
		{"each large burst fires", 0, 0, []tick{{5000, 0, false, false}, {5000, 0, true, true}, {9000, 0, false, false}, {9000, 0, true, true}}},
		// Past 10,000 jobs, a burst must add a tenth to fire.
		{"bursts small against the store do not fire", 0, 0, []tick{{50000, 0, false, false}, {50000, 0, true, true}, {54000, 0, false, false}, {54000, 0, false, true}, {55000, 0, false, false}, {55000, 0, true, true}}},
		// A collection drops the count; growth is measured from there.
		{"a burst after a collection", 0, 0, []tick{{20000, 0, false, false}, {20000, 0, true, true}, {100, 19900, false, false}, {100, 19900, true, true}, {1500, 19900, false, false}, {1500, 19900, true, true}}},
		// Fires once the count stops falling, and once only.
		{"a collection seen in the count", 0, 0, []tick{{20000, 0, false, false}, {1, 19999, false, false}, {1, 19999, true, false}, {1, 19999, false, false}}},
		{"a long pass", 0, 0, []tick{{100000, 0, false, false}, {85000, 15000, false, false}, {70000, 30000, false, false}, {1, 99999, false, false}, {3, 99999, true, false}, {3, 99999, false, false}}},
		// A new replica: empty at the first tick, filled and collected
		// before the next one. Only the removal counter sees it.
		{"a collection between two ticks", 0, 0, []tick{{0, 0, false, false}, {1, 20000, true, false}, {1, 20000, false, false}}},
		{"a restore of a smaller state", 0, 0, []tick{{30000, 0, false, false}, {5000, 0, false, false}, {5000, 0, true, false}, {5000, 0, false, false}}},
		{"small passes do not fire", 0, 0, []tick{{2000, 0, false, false}, {1900, 100, false, false}, {1800, 200, false, false}, {1800, 200, false, false}}},
		{"removals before start are not counted", 10, 50000, []tick{{10, 50000, false, false}, {10, 50500, false, false}, {10, 51700, true, false}}},
		{"steady churn does not fire", 60000, 0, []tick{{60000, 5000, false, false}, {60500, 10000, false, false}, {59800, 15000, false, false}, {60100, 20000, false, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := memoryWatch{peak: tt.peak, last: tt.peak, removed: tt.removed, handed: tt.peak}
			var index uint64
			for i, k := range tt.ticks {
				if !k.quiet {
					index++
				}
				if got := w.due(k.jobs, k.removed, index); got != k.want {
					t.Fatalf("tick %d (%d jobs, %d removed, quiet %v): due = %v, want %v", i, k.jobs, k.removed, k.quiet, got, k.want)
				}
			}
		})
	}
}

func TestIdleFree(t *testing.T) {
	tests := []struct {
		live, want uint64
	}{
		{0, memoryIdleFreeMin},
		{15 << 20, memoryIdleFreeMin}, // a replica collected down to a job
		{60 << 20, 15 << 20},          // 20,000 jobs: a quarter of the live heap
		{225 << 20, memoryIdleFree},   // 100,000 jobs
		{4 << 30, memoryIdleFree},     // never more
	}
	for _, tt := range tests {
		if got := idleFree(tt.live); got != tt.want {
			t.Errorf("idleFree(%d MB) = %d MB, want %d MB", tt.live>>20, got>>20, tt.want>>20)
		}
	}
}
