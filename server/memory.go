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

// returnMemory watches the number of stored jobs and, after a large
// collection (or a restore that shrank the state), forces a garbage
// collection and returns the freed pages to the operating system.
func (s *Server) returnMemory(ctx context.Context) {
	jobs, _, _, _ := s.fsm.State().Txn().Counts()
	peak := jobs
	every(ctx, memoryCheckEvery, nil, func() {
		jobs, _, _, _ := s.fsm.State().Txn().Counts()
		if peak-jobs >= memoryReturnDrop {
			start := time.Now()
			debug.FreeOSMemory()
			s.logger.Info("returned freed memory to the OS", "jobs_before", peak, "jobs_now", jobs, "took", time.Since(start))
			peak = jobs
		}
		peak = max(peak, jobs)
	})
}
