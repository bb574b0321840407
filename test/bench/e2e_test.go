package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/test/testcluster"
)

func noopJob(count int) *api.Job {
	return &api.Job{
		Type: api.JobTypeBatch, Count: count,
		Tasks: []*api.Task{{
			Name:      "main",
			Engine:    &api.SpecConfig{Type: "noop"},
			Resources: &api.ResourcesConfig{CPU: "10m", Memory: "1mb"},
		}},
	}
}

func newClient(b *testing.B, urls ...string) *client.Client {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
	c, err := client.New(urls, client.WithHTTPClient(hc), client.WithTimeout(2*time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// submitAll creates n jobs from clients goroutines and returns their IDs.
func submitAll(b *testing.B, c *client.Client, n, clients int, job func() *api.Job) []string {
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				resp, _, err := c.Jobs().Put(context.Background(), &api.PutJobRequest{Job: job()})
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				ids[i] = resp.JobID
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatalf("submit: %v", err)
	}
	return ids
}

// waitTerminal waits for every job to end and returns the latest time one of
// them changed state, and how many did not complete.
func waitTerminal(b *testing.B, c *client.Client, ids []string, timeout time.Duration) (time.Time, int) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last int64
	failed := 0
	for _, id := range ids {
		var index uint64
		for {
			resp, meta, err := c.Jobs().Get(ctx, id, client.GetJobOptions{WaitIndex: index, WaitTime: 30 * time.Second})
			if err != nil {
				b.Fatalf("job %s: %v", id, err)
			}
			if resp.Job.State.StateType.IsTerminal() {
				last = max(last, resp.Job.ModifyTime)
				if resp.Job.State.StateType != api.JobStateTypeCompleted {
					failed++
				}
				break
			}
			index = meta.Index
		}
	}
	return time.Unix(0, last), failed
}

// BenchmarkEndToEndNoop measures jobs completed per second end to end: three
// replicas and three compute nodes on loopback running noop executions.
func BenchmarkEndToEndNoop(b *testing.B) {
	jobs := testcluster.EnvInt("SHOAL_BENCH_JOBS", 5000)
	clients := testcluster.EnvInt("SHOAL_BENCH_CLIENTS", 64)
	c := testcluster.Start(b, testcluster.Options{
		Replicas: 3, ComputeNodes: 3,
		ReplicaArgs: replicaArgs(),
		ComputeArgs: []string{"--log-level", "info", "--engines", "noop", "--cpu", "1000", "--memory", "1000gb"},
	})
	var urls []string
	for _, p := range c.Replicas {
		urls = append(urls, p.URL())
	}
	cl := newClient(b, urls...)
	start := time.Now()
	ids := submitAll(b, cl, jobs, clients, func() *api.Job { return noopJob(1) })
	submitted := time.Since(start)
	last, failed := waitTerminal(b, cl, ids, 10*time.Minute)
	span := last.Sub(start)
	// How far completion trails acknowledgement: the scheduler, placement
	// and the noop runs together must keep up with the creates.
	lag := span - submitted
	b.Logf("\n%d noop jobs (Count 1) from %d clients, 3 replicas + 3 compute nodes: submitted in %s, all ended %s after the first submit (the last %s after the last acknowledgement): %.0f jobs completed/s (%d did not complete)",
		jobs, clients, submitted.Round(time.Millisecond), span.Round(time.Millisecond), lag.Round(time.Millisecond), float64(jobs-failed)/span.Seconds(), failed)
	b.ReportMetric(lag.Seconds(), "s-behind-acks")
	b.ReportMetric(float64(jobs-failed)/span.Seconds(), "jobs/s")
}

// BenchmarkPlacements5000Nodes measures placements per second with 5,000
// compute nodes registered through the API and a simulated executor that
// bids and completes every execution it is given, through the same compute
// endpoints real nodes use. The jobs have C1M's shape (Nomad placed 1,000
// jobs of 1,000 tasks on 5,000 nodes), fewer of them to keep the run short;
// SHOAL_BENCH_PLACEMENT_JOBS and SHOAL_BENCH_COUNT change it.
func BenchmarkPlacements5000Nodes(b *testing.B) {
	nodes := testcluster.EnvInt("SHOAL_BENCH_NODES", 5000)
	jobs := testcluster.EnvInt("SHOAL_BENCH_PLACEMENT_JOBS", 30)
	count := testcluster.EnvInt("SHOAL_BENCH_COUNT", 1000)
	c := testcluster.Start(b, testcluster.Options{
		Replicas: 3,
		// The simulated nodes are not in gossip: keep the leader from
		// declaring them lost during the run.
		ReplicaArgs: replicaArgs("--node-lost-grace", "1h"),
	})
	var urls []string
	for _, p := range c.Replicas {
		urls = append(urls, p.URL())
	}
	cl := newClient(b, urls...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	regStart := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := cl.Compute().Register(ctx, simNode(i)); err != nil {
				b.Errorf("register node %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	b.Logf("registered %d nodes in %s", nodes, time.Since(regStart).Round(time.Millisecond))

	total := int64(jobs * count)
	var placed atomic.Int64
	allPlaced := make(chan time.Time, 1)
	for i := range nodes {
		go simExecutor(ctx, cl, simNodeID(i), &placed, total, allPlaced)
	}
	start := time.Now()
	ids := submitAll(b, cl, jobs, 64, func() *api.Job { return noopJob(count) })
	submitted := time.Since(start)
	last, failed := waitTerminal(b, cl, ids, 15*time.Minute)
	span := last.Sub(start)
	var placedSpan time.Duration
	select {
	case at := <-allPlaced:
		placedSpan = at.Sub(start)
	default:
	}
	b.Logf("\n%d nodes, %d batch jobs of Count %d (%d placements), submitted in %s: the simulated executor had seen every placement %s after the first submit (%.0f placements/s); all jobs completed (bid, approval, run, report) %s after it (%.0f executions/s end to end; %d jobs did not complete)",
		nodes, jobs, count, total, submitted.Round(time.Millisecond), placedSpan.Round(time.Millisecond), float64(total)/placedSpan.Seconds(),
		span.Round(time.Millisecond), float64(placed.Load())/span.Seconds(), failed)
	b.ReportMetric(float64(total)/placedSpan.Seconds(), "placements/s")
	b.ReportMetric(float64(placed.Load())/span.Seconds(), "executions/s")
}

func simNodeID(i int) string { return fmt.Sprintf("sim-%05d", i) }

func simNode(i int) *api.NodeInfo {
	capacity := api.Resources{CPU: 64, Memory: 256 << 30, Disk: 1 << 40}
	return &api.NodeInfo{
		NodeID:   simNodeID(i),
		NodeType: api.NodeTypeCompute,
		PeerInfo: &api.PeerInfo{ID: simNodeID(i), Addrs: []string{}},
		Labels:   map[string]string{"zone": "zone-" + strconv.Itoa(i%8), "Operating-System": "linux", "Architecture": "amd64"},
		ComputeNodeInfo: &api.ComputeNodeInfo{
			ExecutionEngines: []string{"noop", "docker", "wasm"}, Publishers: []string{"noop", "local"},
			StorageSources: []string{"inline", "urlDownload"},
			MaxCapacity:    capacity, AvailableCapacity: capacity, MaxJobRequirements: capacity,
		},
	}
}

// simExecutor plays one compute node: it accepts every bid and completes
// every execution it is told to run.
func simExecutor(ctx context.Context, cl *client.Client, nodeID string, placed *atomic.Int64, total int64, allPlaced chan<- time.Time) {
	var index uint64
	seen := map[string]bool{}
	for ctx.Err() == nil {
		resp, err := cl.Compute().WatchExecutions(ctx, nodeID, index, 30*time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		index = resp.Index
		var updates []api.ExecutionUpdate
		for _, a := range resp.Executions {
			e := a.Execution
			if !seen[e.ID] {
				seen[e.ID] = true
				if placed.Add(1) == total {
					allPlaced <- time.Now()
				}
			}
			switch {
			case e.ComputeState.StateType == api.ExecutionStateAskForBid:
				updates = append(updates, api.ExecutionUpdate{ExecutionID: e.ID, ComputeState: api.ExecutionStateAskForBidAccepted})
			case e.ComputeState.StateType == api.ExecutionStateBidAccepted && e.DesiredState.StateType == api.ExecutionDesiredStateRunning:
				updates = append(updates, api.ExecutionUpdate{ExecutionID: e.ID, ComputeState: api.ExecutionStateCompleted,
					RunOutput: &api.RunCommandResult{}})
			}
		}
		if len(updates) > 0 {
			for ctx.Err() == nil {
				if _, err := cl.Compute().Report(ctx, nodeID, &api.UpdateExecutionsRequest{Updates: updates}); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
}
