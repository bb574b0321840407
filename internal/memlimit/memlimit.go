// Package memlimit owns the process's soft memory limit (Go's
// debug.SetMemoryLimit): a floor the operator sets, raised when the heap
// needs more room to work in, and lowered back as the live heap shrinks.
//
// The limit keeps garbage from becoming resident memory, but a limit close to
// what is live makes the collector run back to back: at 100,000 stored jobs a
// replica's live heap is about 280 MB, and under a fixed 400 MiB limit a job's
// apply cost six times what it costs without one. So the limit is moved after
// every collection (a cleanup re-armed each cycle), not on a timer: a restore
// that fills the heap in a second or two is never throttled for longer than
// one cycle.
//
// What the limit leaves for the heap is the limit less everything else the
// runtime holds, and that includes the free slots of partly used spans. After
// hours of churn those were 150 MB beside a 270 MB live heap: a limit of 1.5
// times the live heap left the collector a goal equal to the live heap, and
// an idle replica spent both cores collecting back to back. So the tuner
// steers the runtime's own heap goal, not the limit: it moves the limit by
// however far the goal is from headroom times the live heap.
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

	// set and read are the runtime's, replaced in tests.
	set  func(int64) int64
	read func() (heap, bool)

	mu      sync.Mutex
	current int64
	stopped bool
}

// heap is what the tuner reads of the runtime after a collection.
type heap struct {
	// live is what the last collection marked; goal is the size the
	// runtime lets the heap reach before the next one (0: unknown).
	live, goal uint64
}

// Start sets the limit to base and from then on, after every garbage
// collection, moves it so that the runtime's heap goal is headroom × the
// live heap, never below base. Stop ends it and leaves the last limit in
// place.
func Start(base int64, headroom float64, logger *slog.Logger) *Tuner {
	t := newTuner(base, headroom, logger, debug.SetMemoryLimit, readHeap)
	t.set(base)
	t.arm()
	return t
}

func newTuner(base int64, headroom float64, logger *slog.Logger, set func(int64) int64, read func() (heap, bool)) *Tuner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Tuner{base: base, headroom: headroom, logger: logger, set: set, read: read, current: base}
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

// adjust moves the limit to what the heap asks for and reports whether to
// go on.
func (t *Tuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	h, ok := t.read()
	if !ok {
		return false
	}
	want := target(t.base, t.headroom, t.current, h)
	// Move only on a 5% change, so the limit does not jitter.
	if diff := want - t.current; diff > t.current/20 || -diff > t.current/20 {
		t.set(want)
		t.logger.Debug("soft memory limit follows the heap", "limit", want, "live", h.live, "goal", h.goal)
		t.current = want
	}
	return true
}

// target is the limit that gives the heap a goal of headroom × live under
// the current limit's conditions: the current limit moved by the goal's
// shortfall or excess, never below base. Without a goal it is headroom ×
// live. It never passes twice that: a goal held low by something other than
// the limit (a GOGC under the headroom) must not ratchet the limit up cycle
// after cycle.
func target(base int64, headroom float64, current int64, h heap) int64 {
	room := float64(h.live) * headroom
	want := room
	if h.goal > 0 {
		want = min(float64(current)+room-float64(h.goal), 2*room)
	}
	if want >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(base, int64(want))
}

func readHeap() (heap, bool) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return heap{}, false
	}
	return heap{live: s[0].Value.Uint64(), goal: s[1].Value.Uint64()}, true
}
