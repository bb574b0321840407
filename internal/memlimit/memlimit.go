// Package memlimit owns the process's soft memory limit (Go's
// debug.SetMemoryLimit): a floor the operator sets, raised to a multiple of
// the live heap when that is larger, and lowered back as the live heap
// shrinks.
//
// The limit keeps garbage from becoming resident memory, but a limit close to
// what is live makes the collector run back to back: at 100,000 stored jobs a
// replica's live heap is about 280 MB, and under a fixed 400 MiB limit a job's
// apply cost six times what it costs without one. So the limit is moved after
// every collection (a cleanup re-armed each cycle), not on a timer: a restore
// that fills the heap in a second or two is never throttled for longer than
// one cycle.
package memlimit

import (
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Tuner follows the live heap. Its zero value is not usable; use Start.
type Tuner struct {
	base     int64
	headroom float64
	logger   *slog.Logger

	// set and live are the runtime's, replaced in tests.
	set  func(int64) int64
	live func() (uint64, bool)

	mu      sync.Mutex
	current int64
	stopped bool
}

// Start sets the limit to base and from then on, after every garbage
// collection, to max(base, headroom × live heap). Stop ends it and leaves the
// last limit in place.
func Start(base int64, headroom float64, logger *slog.Logger) *Tuner {
	t := newTuner(base, headroom, logger, debug.SetMemoryLimit, liveHeap)
	t.set(base)
	t.arm()
	return t
}

func newTuner(base int64, headroom float64, logger *slog.Logger, set func(int64) int64, live func() (uint64, bool)) *Tuner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Tuner{base: base, headroom: headroom, logger: logger, set: set, live: live, current: base}
}

// sentinel is the object whose collection marks the end of a GC cycle. It
// holds a pointer, so it is not batched with other small objects by the tiny
// allocator and is freed in the first cycle that finds it unreachable.
type sentinel struct{ _ *int }

func (t *Tuner) arm() {
	runtime.AddCleanup(&sentinel{}, func(t *Tuner) {
		if t.adjust() {
			t.arm()
		}
	}, t)
}

// Limit returns the limit the tuner last set.
func (t *Tuner) Limit() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.current
}

// Stop ends the tuning after the current cycle.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
}

// adjust moves the limit to what the live heap asks for and reports whether
// to go on.
func (t *Tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	live, ok := t.live()
	if !ok {
		return false
	}
	want := target(t.base, t.headroom, live)
	// Move only on a 5% change, so the limit does not jitter.
	if diff := want - t.current; diff > t.current/20 || -diff > t.current/20 {
		t.set(want)
		t.logger.Debug("soft memory limit follows the live heap", "limit", want, "live", live)
		t.current = want
	}
	return true
}

// target is the limit for a live heap: never below base, and far enough above
// what is live that the collector has room to work.
func target(base int64, headroom float64, live uint64) int64 {
	want := float64(live) * headroom
	if want >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(base, int64(want))
}

func liveHeap() (uint64, bool) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return s[0].Value.Uint64(), true
}
