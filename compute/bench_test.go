package compute

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

// BenchmarkNoopExecutions measures how many noop executions a node takes
// from ask-for-bid to a completed report per second (against the in-memory
// orchestrator, which costs its share).
func BenchmarkNoopExecutions(b *testing.B) {
	orch := newFakeOrchestrator()
	n, err := New(Config{NodeID: "n1", DataDir: b.TempDir(), Orchestrator: orch, Engines: []string{"noop"},
		WatchWait: time.Second, RetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	job := newJob("j", api.JobTypeBatch, noopTask())
	b.ResetTimer()
	const chunk = 500
	for added := 0; added < b.N; added += chunk {
		orch.mu.Lock()
		for i := added; i < min(added+chunk, b.N); i++ {
			ae := assigned(fmt.Sprintf("e-%d", i), job, api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending)
			orch.execs[ae.Execution.ID] = ae
			orch.bump(ae.Execution.ID)
		}
		orch.mu.Unlock()
	}
	for {
		orch.mu.Lock()
		completed := 0
		for _, ae := range orch.execs {
			if ae.Execution.ComputeState.StateType == api.ExecutionStateCompleted {
				completed++
			}
		}
		orch.mu.Unlock()
		if completed == b.N {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "executions/s")
}
