package scheduler

import (
	"fmt"
	"testing"

	"github.com/shoal-io/shoal/api"
)

// BenchmarkSchedule5000Nodes measures the scheduler alone (no broker, no
// Raft): batch jobs with Count 10 placed on 5,000 nodes of varied load, a
// quarter of them with a hard constraint and a quarter with a favour_ one.
// It reports placements/s.
func BenchmarkSchedule5000Nodes(b *testing.B) {
	benchmarkSchedule(b, 10, func(i int) []func(*api.Job) {
		switch i % 4 {
		case 1:
			return []func(*api.Job){constrained("zone", "in", "a", "b")}
		case 2:
			return []func(*api.Job){constrained("favour_zone", "=", "c")}
		}
		return nil
	})
}

// BenchmarkSchedule5000NodesUnmatchedFavour is the worst case of favour_:
// no node meets it, so every evaluation checks every node (cheaply).
func BenchmarkSchedule5000NodesUnmatchedFavour(b *testing.B) {
	benchmarkSchedule(b, 10, func(int) []func(*api.Job) {
		return []func(*api.Job){constrained("favour_zone", "=", "nowhere")}
	})
}

// BenchmarkSchedule5000NodesCount1000 has C1M's shape: jobs of Count 1,000
// on 5,000 nodes, where picking each placement must not re-rank every
// candidate.
func BenchmarkSchedule5000NodesCount1000(b *testing.B) {
	benchmarkSchedule(b, 1000, func(int) []func(*api.Job) { return nil })
}

func benchmarkSchedule(b *testing.B, count int, jobOpts func(i int) []func(*api.Job)) {
	const nodeCount, jobCount = 5000, 512
	zones := []string{"a", "b", "c", "d"}
	st := newFakeState()
	nodes := make([]*api.NodeInfo, nodeCount)
	for i := range nodes {
		id := fmt.Sprintf("n-%05d", i)
		nodes[i] = node(id, labelled("zone", zones[i%len(zones)]))
		st.baseAlloc[id] = api.Resources{CPU: float64(i%8) * 0.5, Memory: uint64(i%8) * gib}
	}
	st.addNodes(nodes...)
	evals := make([]*api.Evaluation, jobCount)
	for i := range evals {
		id := fmt.Sprintf("j-%04d", i)
		st.addJob(job(id, api.JobTypeBatch, count, jobOpts(i)...))
		evals[i] = eval("ev-"+id, id, api.JobTypeBatch)
	}
	s := newTestScheduler(b, func() State { return st }, &recordingPlanner{}, newFakeClock())
	placements := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p, err := s.computePlan(st, evals[i%jobCount], nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.NewExecutions) != count {
			b.Fatalf("placed %d, want %d", len(p.NewExecutions), count)
		}
		placements += len(p.NewExecutions)
	}
	b.ReportMetric(float64(placements)/b.Elapsed().Seconds(), "placements/s")
}
