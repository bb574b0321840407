package workload

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Recorder keeps every operation of a run, from any number of goroutines.
type Recorder struct {
	mu  sync.Mutex
	ops []Op
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{} }

// Add records an operation and returns it with its sequence number.
func (r *Recorder) Add(op Op) Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	op.Seq = len(r.ops)
	r.ops = append(r.ops, op)
	return op
}

// Ops returns a copy of everything recorded so far, in recording order.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// Stats counts operations by kind and outcome.
type Stats map[Kind]map[Outcome]int

// Stats summarizes what was recorded.
func (r *Recorder) Stats() Stats {
	s := Stats{}
	for _, op := range r.Ops() {
		if s[op.Kind] == nil {
			s[op.Kind] = map[Outcome]int{}
		}
		s[op.Kind][op.Outcome]++
	}
	return s
}

func (s Stats) String() string {
	out := ""
	for _, k := range []Kind{KindCreate, KindStop, KindDescribe} {
		m := s[k]
		if m == nil {
			continue
		}
		if out != "" {
			out += "; "
		}
		out += fmt.Sprintf("%s: %d ok, %d failed, %d unknown", k, m[OK], m[Failed], m[Unknown])
	}
	return out
}

// Acked returns, for every token with an acknowledged create, the job ID it
// was acknowledged with (the first acknowledgement's).
func Acked(ops []Op) map[string]string {
	out := map[string]string{}
	for _, op := range ops {
		if op.Kind == KindCreate && op.Outcome == OK {
			if _, ok := out[op.Token]; !ok {
				out[op.Token] = op.JobID
			}
		}
	}
	return out
}

// FirstAckAfter returns the earliest return time of an acknowledged create
// that was sent at or after t, and whether there is one.
func FirstAckAfter(ops []Op, t time.Time) (time.Time, bool) {
	var best time.Time
	for _, op := range ops {
		if op.Kind != KindCreate || op.Outcome != OK || op.Call.Before(t) {
			continue
		}
		if best.IsZero() || op.Return.Before(best) {
			best = op.Return
		}
	}
	return best, !best.IsZero()
}
