package server

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/shoal-io/shoal/fsm"
)

const (
	memoryCheckEvery = 10 * time.Second
	// memoryReturnDrop is the fall in stored jobs that makes a replica hand
	// freed memory back at once: the runtime's scavenger alone returns it
	// over minutes, and an operator who just ran a collection watches RSS.
	memoryReturnDrop = 1000
)

// jobCounter is what returnMemory reads of the state machine.
type jobCounter interface {
	Jobs() int
	JobsRemoved() uint64
}

// memoryWatch decides when freed memory is worth handing back: once the
// stored job count has stopped falling (one hand-back after a long pass,
// not one per look) and is well below its peak (a collection, a restore of
// a smaller state), or when more jobs were removed since the last look than
// are left (a new replica that filled and was collected between two looks).
// Steady churn (retention removing as fast as jobs come) does neither: the
// freed memory is reused at once.
type memoryWatch struct {
	peak, last int
	removed    uint64
}

// due reports whether to return memory now, and moves the watch on.
func (w *memoryWatch) due(jobs int, removed uint64) bool {
	gone := removed - w.removed
	settled := jobs >= w.last
	fire := settled && (w.peak-jobs >= memoryReturnDrop || (gone >= memoryReturnDrop && gone >= uint64(jobs)))
	w.removed, w.last = removed, jobs
	if fire {
		w.peak = jobs
	}
	w.peak = max(w.peak, jobs)
	return fire
}

// returnMemory forces a garbage collection and returns the freed pages to
// the operating system once a collection (or a restore that shrank the
// state) has freed much of the store.
func (s *Server) returnMemory(ctx context.Context, c jobCounter) {
	jobs := c.Jobs()
	w := memoryWatch{peak: jobs, last: jobs, removed: c.JobsRemoved()}
	every(ctx, memoryCheckEvery, nil, func() {
		jobs, removed := c.Jobs(), c.JobsRemoved()
		before := w.peak
		if w.due(jobs, removed) {
			start := time.Now()
			debug.FreeOSMemory()
			s.logger.Info("returned freed memory to the OS", "jobs_peak", before, "jobs_now", jobs, "took", time.Since(start))
		}
	})
}

// fsmJobs counts the jobs of the replica's state machine.
type fsmJobs struct{ f *fsm.FSM }

func (j fsmJobs) Jobs() int {
	jobs, _, _, _ := j.f.State().Txn().Counts()
	return jobs
}

func (j fsmJobs) JobsRemoved() uint64 { return j.f.JobsRemoved() }
