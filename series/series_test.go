package series

import (
	"testing"
	"time"
)

// fakeClock lets a test choose the second a recording lands in.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestRecorder(start time.Time) (*Recorder, *fakeClock) {
	c := &fakeClock{t: start}
	return &Recorder{now: c.now}, c
}

func TestBucketBounds(t *testing.T) {
	for _, d := range []time.Duration{0, 50 * time.Microsecond, time.Millisecond, 3 * time.Millisecond,
		17 * time.Millisecond, time.Second, 42 * time.Second} {
		b := bucketOf(d)
		if up := upperBound(b); up < d || (b > 0 && upperBound(b-1) >= d) {
			t.Errorf("%v went to bucket %d (upper bound %v, previous %v)", d, b, up, upperBound(b-1))
		}
	}
	if b := bucketOf(24 * time.Hour); b != bucketCount-1 {
		t.Errorf("a day went to bucket %d, want the last (%d)", b, bucketCount-1)
	}
}

func TestMerge(t *testing.T) {
	base := time.Unix(1_000_000, 0)
	a, ca := newTestRecorder(base)
	b, cb := newTestRecorder(base)
	// Second 0: 99 fast creates on a, one slow create on b.
	for range 99 {
		a.ObserveCreate(2 * time.Millisecond)
	}
	b.ObserveCreate(900 * time.Millisecond)
	// Second 1: lag on b (the leader) only.
	cb.t = base.Add(time.Second)
	b.ObserveLag(30 * time.Millisecond)
	b.ObserveLag(10 * time.Millisecond)
	// Second 2 is the current one on a: left out.
	ca.t = base.Add(2 * time.Second)
	a.ObserveCreate(time.Millisecond)

	c := Merge(5, a.Snapshot(), b.Snapshot())
	if c.Start != base.Unix()-3 || len(c.CreatesPerS) != 5 {
		t.Fatalf("chart starts at %d with %d points, want %d and 5", c.Start, len(c.CreatesPerS), base.Unix()-3)
	}
	tests := []struct {
		name    string
		i       int
		creates float64
		hasP99  bool
		p99Min  float64
		p99Max  float64
		lag     bool
		lagMs   float64
	}{
		{name: "second 0 sums both replicas", i: 3, creates: 100, hasP99: true, p99Min: 2, p99Max: 2.4},
		{name: "second 1 has lag only", i: 4, creates: 0, lag: true, lagMs: 30},
		{name: "before anything", i: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.CreatesPerS[tt.i]; got != tt.creates {
				t.Errorf("creates = %v, want %v", got, tt.creates)
			}
			p := c.CreateP99Ms[tt.i]
			if tt.hasP99 != (p != nil) {
				t.Fatalf("p99 present = %v, want %v", p != nil, tt.hasP99)
			}
			if p != nil && (*p < tt.p99Min || *p > tt.p99Max) {
				t.Errorf("p99 = %vms, want within [%v, %v]", *p, tt.p99Min, tt.p99Max)
			}
			l := c.SchedulingLag[tt.i]
			if tt.lag != (l != nil) {
				t.Fatalf("lag present = %v, want %v", l != nil, tt.lag)
			}
			if l != nil && *l != tt.lagMs {
				t.Errorf("lag = %vms, want %v", *l, tt.lagMs)
			}
		})
	}
}

func TestSlotsAreReusedAfterTheWindow(t *testing.T) {
	base := time.Unix(2_000_000, 0)
	r, c := newTestRecorder(base)
	r.ObserveCreate(time.Millisecond)
	c.t = base.Add(Window * time.Second) // the same slot, one window later
	r.ObserveCreate(time.Millisecond)
	snap := r.Snapshot()
	if len(snap.Points) != 1 || snap.Points[0].Creates != 1 || snap.Points[0].T != c.t.Unix() {
		t.Fatalf("after a full window, snapshot = %+v, want one point of 1 create at %d", snap.Points, c.t.Unix())
	}
}
