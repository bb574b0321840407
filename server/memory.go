package server

import (
	"context"
	"runtime/debug"
	"time"
)

const (
	memoryCheckEvery = 10 * time.Second
	// memoryReturnDrop is the fall in stored jobs that makes a replica hand
	// freed memory back at once: the runtime's scavenger alone returns it
	// over minutes, and an operator who just ran a collection watches RSS.
	memoryReturnDrop = 1000
)

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
func (s *Server) returnMemory(ctx context.Context) {
	jobs := s.storedJobs()
	w := memoryWatch{peak: jobs, last: jobs, removed: s.fsm.JobsRemoved()}
	every(ctx, memoryCheckEvery, nil, func() {
		jobs, removed := s.storedJobs(), s.fsm.JobsRemoved()
		before := w.peak
		if w.due(jobs, removed) {
			start := time.Now()
			debug.FreeOSMemory()
			s.logger.Info("returned freed memory to the OS", "jobs_peak", before, "jobs_now", jobs, "took", time.Since(start))
		}
	})
}

func (s *Server) storedJobs() int {
	jobs, _, _, _ := s.fsm.State().Txn().Counts()
	return jobs
}
