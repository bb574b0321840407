package server

import (
	"testing"
	"time"
)

func TestIdleDue(t *testing.T) {
	tests := []struct {
		name      string
		quiet     bool
		free      uint64
		sinceLast time.Duration
		want      bool
	}{
		{"quiet with many free pages", true, 60 << 20, time.Minute, true},
		{"jobs being written", false, 60 << 20, time.Minute, false},
		{"few free pages", true, 10 << 20, time.Minute, false},
		{"handed back a moment ago", true, 200 << 20, 5 * time.Second, false},
		{"never handed back", true, memoryIdleFree, time.Since(time.Time{}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := idleDue(tt.quiet, tt.free, tt.sinceLast); got != tt.want {
				t.Fatalf("idleDue(%v, %d, %v) = %v, want %v", tt.quiet, tt.free, tt.sinceLast, got, tt.want)
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
