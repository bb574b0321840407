package fsm

import (
	"fmt"
	"testing"
)

// BenchmarkReads measures what a follower's list reads cost at
// SHOAL_READ_JOBS (default 20,000) completed jobs: time and allocation per
// page of 10, which decide how often a reader at full speed brings a
// collection cycle (issue 10's read p99).
func BenchmarkReads(b *testing.B) {
	h := newHarness(b)
	h.fsm.SetObserver(nil)
	h.registerNode("n-1", cpu(1e6))
	completeJobs(b, h, 0, 20_000)
	job := fmt.Sprintf("j-%08d-c836-45eb-b033-2034b60603ea", 7)
	b.Run("jobs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := h.txn().ListJobs(JobQuery{Limit: 10}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("history", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := h.txn().History(job, HistoryQuery{Limit: 10}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
