package server

import (
	"context"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

const (
	// memoryCheckEvery is a look: a burst's end is a look with no job
	// written, so the burst's garbage and scattered nodes go back 2-4 s
	// after its last write. Looks a second apart saw that sooner, but in
	// the 500 jobs/s retention soak the leader fell behind two or three
	// minutes earlier than with 2 s (three runs against two).
	memoryCheckEvery = 2 * time.Second
	// memoryReturnDrop is the fall in stored jobs that makes a replica hand
	// freed memory back at once: the runtime's scavenger alone returns it
	// over minutes, and an operator who just ran a collection watches RSS.
	// A rise as large (and a tenth of what was stored at the last
	// hand-back, so a store that grows by bursts is not collected after
	// each), once no job has been written for a whole look, does too.
	memoryReturnDrop = 1000
	// A quiet replica (no job written and at most memoryIdleReads requests
	// in a look) hands back what a forced collection would free once that
	// reaches a quarter of the live heap, between memoryIdleFreeMin and
	// memoryIdleFree: after a burst, the follower's last applies, its
	// quiet snapshot and the reads that follow leave 50-150 MB of garbage and
	// free pages that the burst's own hand-back did not see, and the
	// runtime's scavenger keeps pages while under the soft limit. A small
	// state's idle garbage matters as much beside it: a replica collected
	// down to one job made 17-22 MB a minute of it, a third of its RSS.
	memoryIdleFree    = 48 << 20
	memoryIdleFreeMin = 8 << 20
	// The first such hand-back comes memoryIdleFirst after a write or the
	// last hand-back (the quiet snapshot leaves its garbage a few seconds
	// after the burst's hand-back), the next ones memoryIdleAgain apart: a
	// forced collection at 100,000 jobs costs 0.1-0.4 s of one core.
	memoryIdleFirst = 10 * time.Second
	memoryIdleAgain = time.Minute
	// More requests than this in a look is a stream of reads (compute
	// nodes' polls are a few): a forced collection would show in their
	// latency, and their garbage is the collector's to take in its own time.
	memoryIdleReads = 20
)

// memoryWatch decides when freed memory is worth handing back: once the
// stored job count has stopped falling (one hand-back after a long pass,
// not one per look) and is well below its peak (a collection, a restore of
// a smaller state), or when more jobs were removed since the last look than
// are left (a new replica that filled and was collected between two looks).
// Steady churn (retention removing as fast as jobs come) does neither: the
// freed memory is reused at once.
//
// And once a burst of new jobs is over (no job written since the last look,
// and many more stored than at the last hand-back): a replica that took
// 100,000 jobs keeps as resident memory the room its collector worked in
// while they came, 50–80 MB of free pages beyond the limit's own slack,
// which nothing needs until the next burst.
type memoryWatch struct {
	peak, last int
	removed    uint64
	// jobsIndex is the jobs table's last change at the last look; handed
	// the stored count at the last hand-back (or the start).
	jobsIndex uint64
	handed    int
}

// due reports whether to return memory now, and moves the watch on.
func (w *memoryWatch) due(jobs int, removed, jobsIndex uint64) bool {
	gone := removed - w.removed
	settled := jobs >= w.last
	quiet := jobsIndex == w.jobsIndex
	fire := settled && (w.peak-jobs >= memoryReturnDrop || (gone >= memoryReturnDrop && gone >= uint64(jobs)))
	fire = fire || quiet && jobs-w.handed >= max(memoryReturnDrop, w.handed/10)
	w.removed, w.last, w.jobsIndex = removed, jobs, jobsIndex
	if fire {
		w.peak, w.handed = jobs, jobs
	}
	w.peak = max(w.peak, jobs)
	w.handed = min(w.handed, jobs)
	return fire
}

// returnMemory forces a garbage collection and returns the freed pages to
// the operating system once a collection (or a restore that shrank the
// state) has freed much of the store.
func (s *Server) returnMemory(ctx context.Context) {
	jobs, index := s.storedJobs()
	w := memoryWatch{peak: jobs, last: jobs, removed: s.fsm.JobsRemoved(), jobsIndex: index, handed: jobs}
	var idle idleWatch
	requests, snapshots := s.apiRequests.Load(), s.quietSnapshots.Load()
	var compacted uint64 // the state's index at the last repack
	every(ctx, memoryCheckEvery, nil, func() {
		jobs, index := s.storedJobs()
		removed := s.fsm.JobsRemoved()
		served := s.apiRequests.Load()
		// still: no job written since the last look; quiet: and few
		// requests.
		still := index == w.jobsIndex
		quiet := still && served-requests <= memoryIdleReads
		requests = served
		before := w.peak
		// A snapshot taken once writes quietened (the one that follows a
		// burst) serialised the whole state a few seconds after the burst's
		// hand-back: its garbage goes back at once, not when the idle rule
		// next sees enough of it (25-30 s after the burst in the scale test,
		// where a follower was measured at 553 MB instead of ~405 MB).
		snapped := s.quietSnapshots.Load()
		due := w.due(jobs, removed, index) || snapped != snapshots
		snapshots = snapped
		free, live := reclaimable()
		now := time.Now()
		if !idle.due(now, quiet, due, free >= idleFree(live)) {
			return
		}
		// The state's index nodes, repacked, let go of the spans they
		// were left scattered over by the writes since the last repack:
		// about 80 MB at 100,000 jobs after a burst, which no collection
		// returns (fsm.Compact). Only once writes have stopped: under
		// steady churn (retention's hand-back each pass while 500 jobs/s
		// come) the next writes copy nodes out of the blocks at once,
		// and the blocks they leave partly used stay alive beside the
		// copies: the 20-minute soak's RSS rose from 390 to 490 MB.
		compactedNow := false
		if applied := s.fsm.State().Index(); still && applied != compacted {
			s.fsm.Compact()
			compacted, compactedNow = applied, true
		}
		debug.FreeOSMemory()
		s.logger.Info("returned freed memory to the OS", "jobs_peak", before, "jobs_now", jobs, "reclaimable", free, "compacted", compactedNow, "took", time.Since(now))
	})
}

// idleWatch paces the hand-backs of a replica nobody writes jobs to.
type idleWatch struct {
	last   time.Time // the last hand-back
	repeat bool      // the last one was an idle one, with no write since
}

// due reports whether to hand back now: at once when the job count or a
// quiet snapshot says so (forced), or when the replica was quiet since the last look (no job
// written, few requests) and a collection would free enough (worth), paced by
// memoryIdleFirst and memoryIdleAgain.
func (w *idleWatch) due(now time.Time, quiet, forced, worth bool) bool {
	if !quiet {
		w.repeat = false
	}
	wait := memoryIdleFirst
	if w.repeat {
		wait = memoryIdleAgain
	}
	fire := forced || quiet && worth && now.Sub(w.last) >= wait
	if fire {
		w.last, w.repeat = now, !forced
	}
	return fire
}

// idleFree is what an idle hand-back must give back to be worth a forced
// collection, for a live heap of live bytes.
func idleFree(live uint64) uint64 {
	return min(max(live/4, memoryIdleFreeMin), memoryIdleFree)
}

// reclaimable is the heap memory a collection and a hand-back would give
// back (free pages still resident, and whatever objects the last collection
// did not find live: garbage since, or not yet swept), and the live heap.
func reclaimable() (free, live uint64) {
	s := []rtmetrics.Sample{
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
	rtmetrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() != rtmetrics.KindUint64 {
			return 0, 0
		}
	}
	free, objects, live := s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64()
	if objects > live {
		free += objects - live
	}
	return free, live
}

// storedJobs returns the stored job count and the jobs table's last change.
func (s *Server) storedJobs() (int, uint64) {
	txn := s.fsm.State().Txn()
	jobs, _, _, _ := txn.Counts()
	return jobs, txn.JobsIndex()
}
