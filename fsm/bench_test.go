package fsm

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/internal/memlimit"
)

// BenchmarkApplyJobRegisterBatch applies entries of 64 job creates, as the
// leader batches concurrent submissions. ns/create is the per-create cost.
func BenchmarkApplyJobRegisterBatch(b *testing.B) {
	const perBatch = 64
	f := New(Config{})
	job := newJob("", api.JobTypeBatch, t0)
	job.Labels = map[string]string{"env": "prod", "team": "data"}
	job.Meta = map[string]string{api.MetaRequesterID: "n-orchestrator"}
	job.Tasks[0] = &api.Task{
		Name:      "main",
		Engine:    &api.SpecConfig{Type: "docker", Params: map[string]any{"Image": "ubuntu:latest", "Entrypoint": []any{"echo", "hello"}}},
		Publisher: &api.SpecConfig{Type: "noop"},
		Resources: &api.ResourcesConfig{CPU: "500m", Memory: "1gb"},
		Timeouts:  &api.TimeoutConfig{ExecutionTimeout: 1800},
	}
	entry := func(n int) []byte {
		parts := make([][]byte, 0, perBatch)
		for i := range perBatch {
			j := *job
			// Random, as the API's UUIDs are: each create lands in its own
			// leaf of the ID indexes.
			j.ID = "j-" + uuid.NewString()
			now := t0 + int64(n*perBatch+i)
			j.CreateTime, j.ModifyTime = now, now
			p, err := Encode(&JobRegisterRequest{Job: &j, EvalID: uuid.NewString(), Now: now})
			if err != nil {
				b.Fatal(err)
			}
			parts = append(parts, p)
		}
		return EncodeBatch(parts)
	}
	// Encoding is the leader's cost, not the FSM's: prepare entries first.
	entries := make([][]byte, b.N)
	for n := range entries {
		entries[n] = entry(n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		rs := f.Apply(&raft.Log{Index: uint64(n + 1), Type: raft.LogCommand, Data: entries[n]}).([]Result)
		if rs[perBatch-1].Err != nil {
			b.Fatal(rs[perBatch-1].Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBatch), "ns/create")
}

// BenchmarkApplyPlan1000 applies plans of C1M's shape: 1,000 placements of
// one job spread over 5,000 nodes. ns/placement is the per-placement cost of
// the state machine (every replica pays it).
func BenchmarkApplyPlan1000(b *testing.B) {
	const nodes, perPlan = 5000, 1000
	h := newHarness(b)
	for i := range nodes {
		h.registerNode(fmt.Sprintf("n-%05d", i), api.Resources{CPU: 64, Memory: 256 << 30})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		b.StopTimer()
		jobID := fmt.Sprintf("j-%08d", n)
		h.registerJob(jobID, api.JobTypeBatch)
		execs := make([]*api.Execution, perPlan)
		for i := range execs {
			execs[i] = newExec(fmt.Sprintf("e-%08d-%04d", n, i), jobID, fmt.Sprintf("n-%05d", (n*perPlan+i)%nodes), 0.1, api.ExecutionStateAskForBid)
		}
		data, err := Encode(&Plan{EvalID: "ev-" + jobID, JobID: jobID, JobRevision: 1, NewExecutions: execs,
			EvalStatus: api.EvalStatusComplete, Now: h.now()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r := h.applyRaw(data).(Result)
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perPlan), "ns/placement")
}

// completeJobs stores n noop jobs, each created, placed, completed and
// ended, as the scale test's jobs are.
func completeJobs(b *testing.B, h *harness, first, n int) {
	for i := first; i < first+n; i++ {
		id := fmt.Sprintf("j-%08d-c836-45eb-b033-2034b60603ea", i)
		job := newJob(id, api.JobTypeBatch, h.now())
		job.Labels = map[string]string{"group": fmt.Sprintf("g%d", i%100)}
		job.Meta = map[string]string{api.MetaRequesterID: "n-c4b17ddf-3b57-4dd9-9fdc-31a08b8b0001"}
		ok[JobRegisterResult](h, &JobRegisterRequest{Job: job, EvalID: "ev-" + id, Now: job.CreateTime,
			IdempotencyToken: "t-" + id, TokenExpiry: job.CreateTime + 24*3600e9})
		ex := fmt.Sprintf("e-%08d-b2aa-45d4-9a1c-af9955a2af1e", i)
		h.place(id, newExec(ex, id, "n-1", 0.01, api.ExecutionStateBidAccepted))
		res := h.report("n-1", api.ExecutionUpdate{ExecutionID: ex, ComputeState: api.ExecutionStateCompleted,
			RunOutput: &api.RunCommandResult{}})
		// The scheduler's answer to the report: the job completes and the
		// evaluation the report raised is done (left pending, it would be
		// counted here though a cluster removes it).
		plan := &Plan{JobID: id, JobRevision: 1, EvalStatus: api.EvalStatusComplete, Now: h.now(),
			JobState: &api.State[api.JobStateType]{StateType: api.JobStateTypeCompleted}}
		if len(res.EvalIDs) > 0 {
			plan.EvalID, plan.CoalescedEvalIDs = res.EvalIDs[0], res.EvalIDs[1:]
		}
		ok[PlanResult](h, plan)
	}
	last := fmt.Sprintf("j-%08d-c836-45eb-b033-2034b60603ea", first+n-1)
	if j, err := h.txn().Job(last); err != nil || j.State.StateType != api.JobStateTypeCompleted {
		b.Fatalf("the last job did not complete: %v %v", j, err)
	}
}

// BenchmarkStoreFootprint measures the live heap a completed job costs the
// store (B/job, issue 10's budget), and the free slots of the spans it holds
// (unused-B/job), before and after a repack (FSM.Compact, -compacted).
// HEAPPROF=<file> writes a heap profile of
// the full store.
func BenchmarkStoreFootprint(b *testing.B) {
	if os.Getenv("SHOAL_BENCH_MEMLIMIT") != "" {
		defer serveMemoryPolicy()()
	}
	h := newHarness(b)
	h.fsm.SetObserver(nil) // the test observer keeps every evaluation
	h.registerNode("n-1", cpu(1e6))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	completeJobs(b, h, 0, b.N)
	b.StopTimer()
	report := func(suffix string) {
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "B/job"+suffix)
		// Free slots in spans that hold live objects: resident memory that
		// only the objects' deaths give back (fragmentation).
		b.ReportMetric(float64(int64(after.HeapInuse-after.HeapAlloc)-int64(before.HeapInuse-before.HeapAlloc))/float64(b.N), "unused-B/job"+suffix)
	}
	report("")
	// What an idle replica's repack (FSM.Compact) leaves.
	start := time.Now()
	h.fsm.Compact()
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "compact-ms")
	report("-compacted")
	if path := os.Getenv("HEAPPROF"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
	}
	runtime.KeepAlive(h)
}

// BenchmarkRestore restores a snapshot of SHOAL_RESTORE_JOBS (default
// 20,000) completed jobs: what a restarted replica does before it serves.
// SHOAL_BENCH_MEMLIMIT=1 runs it under serve's memory policy.
func BenchmarkRestore(b *testing.B) {
	if os.Getenv("SHOAL_BENCH_MEMLIMIT") != "" {
		defer serveMemoryPolicy()()
	}
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("SHOAL_RESTORE_JOBS")); err == nil && v > 0 {
		n = v
	}
	h := newHarness(b)
	h.fsm.SetObserver(nil)
	h.registerNode("n-1", cpu(1e6))
	completeJobs(b, h, 0, n)
	snap := h.snapshotBytes()
	b.ReportMetric(float64(len(snap))/float64(n), "snapshot-B/job")
	b.ResetTimer()
	for range b.N {
		into := newHarness(b)
		if err := into.fsm.Restore(readCloser(snap)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n)*1000, "ns/job")
}

// BenchmarkLifecycleAtScale stores SHOAL_PRELOAD_JOBS (default 100,000)
// completed jobs, then times whole job lifecycles (register, place, report,
// complete) on top: what a replica pays per job once its store is large.
// SHOAL_BENCH_MEMLIMIT=1 runs it under serve's memory policy (400 MiB,
// following the live heap).
func BenchmarkLifecycleAtScale(b *testing.B) {
	if os.Getenv("SHOAL_BENCH_MEMLIMIT") != "" {
		defer serveMemoryPolicy()()
	}
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("SHOAL_PRELOAD_JOBS")); err == nil && v >= 0 {
		n = v
	}
	h := newHarness(b)
	h.fsm.SetObserver(nil)
	h.registerNode("n-1", cpu(1e6))
	if n > 0 {
		completeJobs(b, h, 0, n)
	}
	b.ResetTimer()
	completeJobs(b, h, n, b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/job")
}

// BenchmarkRestoreFile restores the snapshot in SHOAL_SNAPSHOT_FILE (from
// "shoal operator snapshot save", or the one `make scale` keeps with
// SHOAL_SCALE_OUT) under serve's memory policy: a restarted replica's restore,
// on real rows.
func BenchmarkRestoreFile(b *testing.B) {
	path := os.Getenv("SHOAL_SNAPSHOT_FILE")
	if path == "" {
		b.Skip("set SHOAL_SNAPSHOT_FILE")
	}
	snap, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer serveMemoryPolicy()()
	b.ResetTimer()
	for range b.N {
		into := newHarness(b)
		if err := into.fsm.Restore(readCloser(snap)); err != nil {
			b.Fatal(err)
		}
	}
}

// serveMemoryPolicy puts the benchmark under serve's default memory policy
// (400 MiB, following the live heap) and returns what lifts it.
func serveMemoryPolicy() func() {
	tu := memlimit.Start(400<<20, 1.5, nil)
	return func() { tu.Stop(); debug.SetMemoryLimit(math.MaxInt64) }
}
