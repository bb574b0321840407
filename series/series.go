// Package series owns the small per-second time series a replica keeps in
// memory for the web UI's live charts (creates per second, create latency,
// scheduling lag), so an operator sees them without running Prometheus. A
// replica keeps only its own; Merge adds up what every replica kept.
package series

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Window is how many seconds a Recorder keeps.
const Window = 180

// Latency buckets grow by bucketFactor from bucketFloor: 100µs to about
// 10 minutes in 80 buckets, so a p99 read from them is within 10%.
const (
	bucketFloor  = 100 * time.Microsecond
	bucketFactor = 1.2
	bucketCount  = 80
)

// Recorder keeps the last Window seconds of one replica's creates and
// scheduling lag. It is safe for concurrent use; recording costs one short
// lock.
type Recorder struct {
	mu    sync.Mutex
	slots [Window]slot
	now   func() time.Time
}

type slot struct {
	sec     int64
	creates uint32
	latency [bucketCount]uint32
	lagMax  time.Duration
	plans   uint32
}

// NewRecorder returns an empty recorder reading the wall clock.
func NewRecorder() *Recorder { return &Recorder{now: time.Now} }

// slotAt returns the slot of second sec, emptied if it held an older second.
// The caller holds mu.
func (r *Recorder) slotAt(sec int64) *slot {
	s := &r.slots[sec%Window]
	if s.sec != sec {
		*s = slot{sec: sec}
	}
	return s
}

// ObserveCreate records one acknowledged create and how long its client
// waited for the answer.
func (r *Recorder) ObserveCreate(d time.Duration) {
	now := r.now()
	r.mu.Lock()
	s := r.slotAt(now.Unix())
	s.creates++
	s.latency[bucketOf(d)]++
	r.mu.Unlock()
}

// ObserveLag records how long an evaluation waited between becoming ready
// and its plan being committed.
func (r *Recorder) ObserveLag(d time.Duration) {
	now := r.now()
	r.mu.Lock()
	s := r.slotAt(now.Unix())
	s.plans++
	s.lagMax = max(s.lagMax, d)
	r.mu.Unlock()
}

// Point is one second of one replica (or of several, merged). Latency holds
// the create-latency histogram sparsely: bucket number to count.
type Point struct {
	T        int64          `json:"T"`
	Creates  uint32         `json:"Creates"`
	Latency  map[int]uint32 `json:"Latency,omitempty"`
	Plans    uint32         `json:"Plans,omitempty"`
	LagMaxNs int64          `json:"LagMaxNs,omitempty"`
}

// Raw is what one replica kept, for another replica to merge.
type Raw struct {
	Now    int64   `json:"Now"`
	Points []Point `json:"Points"`
}

// Snapshot returns the seconds recorded in the window that ends at the
// current second, oldest first; seconds with nothing recorded are left out.
func (r *Recorder) Snapshot() Raw {
	now := r.now().Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := Raw{Now: now, Points: []Point{}}
	for sec := now - Window + 1; sec <= now; sec++ {
		s := &r.slots[sec%Window]
		if s.sec != sec || (s.creates == 0 && s.plans == 0) {
			continue
		}
		p := Point{T: sec, Creates: s.creates, Plans: s.plans, LagMaxNs: int64(s.lagMax)}
		for i, n := range s.latency {
			if n > 0 {
				if p.Latency == nil {
					p.Latency = map[int]uint32{}
				}
				p.Latency[i] = n
			}
		}
		out.Points = append(out.Points, p)
	}
	return out
}

// Chart is the three live charts over the last seconds, one value a second,
// oldest first. A nil value means nothing happened that second.
type Chart struct {
	Start         int64      `json:"Start"`
	Step          int64      `json:"Step"`
	CreatesPerS   []float64  `json:"CreatesPerSecond"`
	CreateP99Ms   []*float64 `json:"CreateP99Ms"`
	SchedulingLag []*float64 `json:"SchedulingLagMaxMs"`
}

// Merge adds up several replicas' series into charts of the seconds
// (end-seconds, end], where end is the newest Now among them. The newest
// second is left out because it is still being filled.
func Merge(seconds int, raws ...Raw) Chart {
	var end int64
	for _, r := range raws {
		end = max(end, r.Now)
	}
	end-- // the current second is incomplete
	start := end - int64(seconds) + 1
	c := Chart{Start: start, Step: 1,
		CreatesPerS:   make([]float64, seconds),
		CreateP99Ms:   make([]*float64, seconds),
		SchedulingLag: make([]*float64, seconds),
	}
	hists := make([][bucketCount]uint64, seconds)
	for _, r := range raws {
		for _, p := range r.Points {
			i := p.T - start
			if i < 0 || i >= int64(seconds) {
				continue
			}
			c.CreatesPerS[i] += float64(p.Creates)
			for b, n := range p.Latency {
				if b >= 0 && b < bucketCount {
					hists[i][b] += uint64(n)
				}
			}
			if p.Plans > 0 {
				ms := float64(p.LagMaxNs) / 1e6
				if c.SchedulingLag[i] == nil || *c.SchedulingLag[i] < ms {
					c.SchedulingLag[i] = &ms
				}
			}
		}
	}
	for i := range hists {
		if v, ok := quantile(&hists[i], 0.99); ok {
			ms := v.Seconds() * 1000
			c.CreateP99Ms[i] = &ms
		}
	}
	return c
}

// bucketOf is the bucket whose upper bound is the first at or above d.
func bucketOf(d time.Duration) int {
	if d <= bucketFloor {
		return 0
	}
	b := int(math.Ceil(math.Log(float64(d)/float64(bucketFloor)) / math.Log(bucketFactor)))
	return min(b, bucketCount-1)
}

// upperBound is the largest duration bucket b holds.
func upperBound(b int) time.Duration {
	return time.Duration(float64(bucketFloor) * math.Pow(bucketFactor, float64(b)))
}

// quantile returns the upper bound of the bucket holding the q-quantile.
func quantile(h *[bucketCount]uint64, q float64) (time.Duration, bool) {
	var total uint64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(total)))
	b := sort.Search(bucketCount, func(b int) bool {
		var seen uint64
		for _, n := range h[:b+1] {
			seen += n
		}
		return seen >= rank
	})
	return upperBound(min(b, bucketCount-1)), true
}
