package server

import "testing"

func TestMemoryWatchDue(t *testing.T) {
	type tick struct {
		jobs    int
		removed uint64
		want    bool
	}
	tests := []struct {
		name    string
		peak    int
		removed uint64
		ticks   []tick
	}{
		{"growth alone never fires", 0, 0, []tick{{500, 0, false}, {20000, 0, false}, {20500, 0, false}}},
		// Fires once the count stops falling, and once only.
		{"a collection seen in the count", 0, 0, []tick{{20000, 0, false}, {1, 19999, false}, {1, 19999, true}, {1, 19999, false}}},
		{"a long pass", 0, 0, []tick{{100000, 0, false}, {85000, 15000, false}, {70000, 30000, false}, {1, 99999, false}, {3, 99999, true}, {3, 99999, false}}},
		// A new replica: empty at the first tick, filled and collected
		// before the next one. Only the removal counter sees it.
		{"a collection between two ticks", 0, 0, []tick{{0, 0, false}, {1, 20000, true}, {1, 20000, false}}},
		{"a restore of a smaller state", 0, 0, []tick{{30000, 0, false}, {5000, 0, false}, {5000, 0, true}, {5000, 0, false}}},
		{"small passes do not fire", 0, 0, []tick{{2000, 0, false}, {1900, 100, false}, {1800, 200, false}, {1800, 200, false}}},
		{"removals before start are not counted", 10, 50000, []tick{{10, 50000, false}, {10, 50500, false}, {10, 51700, true}}},
		{"steady churn does not fire", 60000, 0, []tick{{60000, 5000, false}, {60500, 10000, false}, {59800, 15000, false}, {60100, 20000, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := memoryWatch{peak: tt.peak, last: tt.peak, removed: tt.removed}
			for i, k := range tt.ticks {
				if got := w.due(k.jobs, k.removed); got != k.want {
					t.Fatalf("tick %d (%d jobs, %d removed): due = %v, want %v", i, k.jobs, k.removed, got, k.want)
				}
			}
		})
	}
}
