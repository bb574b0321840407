// Package bench measures Shoal against its ceilings. Run with `make bench`;
// figures are printed, never asserted (the machines are shared and noisy):
// compare the ratios within one run.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/load"
	"github.com/shoal-io/shoal/test/testcluster"
)

func benchDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SHOAL_BENCH_DURATION")); err == nil {
		return d
	}
	return 10 * time.Second
}

// replicaArgs are the flags benchmark replicas run with: the log level a
// production cluster runs at (test clusters log at debug, which costs a log
// line per plan), then the caller's, then SHOAL_BENCH_REPLICA_ARGS.
func replicaArgs(extra ...string) []string {
	args := append([]string{"--log-level", "info"}, extra...)
	return append(args, strings.Fields(os.Getenv("SHOAL_BENCH_REPLICA_ARGS"))...)
}

// createBody is a ~1 KiB job, the size the bare Raft entries have.
func createBody() []byte {
	job := map[string]any{"Job": map[string]any{
		"Name": "bench", "Type": "batch", "Count": 1,
		"Labels": map[string]string{"bench": "creates", "team": "platform", "env": "load"},
		"Tasks": []any{map[string]any{
			"Name": "main",
			"Engine": map[string]any{"Type": "docker", "Params": map[string]any{
				"Image": "ubuntu:22.04", "Entrypoint": []string{"/bin/sh", "-c"},
				"Parameters": []string{strings.Repeat("echo benchmark payload; ", 24)},
			}},
			"Publisher": map[string]any{"Type": "noop"},
			"Resources": map[string]any{"CPU": "100m", "Memory": "64mb"},
		}},
	}}
	b, _ := json.Marshal(job)
	return b
}

// point is one measured load level: the load result, and the CPU each
// measured process spent per acknowledged write over the whole run.
type point struct {
	name   string
	r      load.Result
	labels []string
	cpu    []time.Duration // per acknowledged write, one per process
}

func (p point) cpuTotal() time.Duration {
	var t time.Duration
	for _, c := range p.cpu {
		t += c
	}
	return t
}

// measure runs the load and the CPU meter over the same span. pids are the
// processes whose CPU is charged to the writes (0: this process).
func measure(name string, clients int, labels []string, pids []int, op func(ctx context.Context, client int) error) point {
	var acked atomic.Int64
	m := startCPU(pids...)
	r := load.Run(context.Background(), clients, time.Second, benchDuration(), func(ctx context.Context, c int) error {
		err := op(ctx, c)
		if err == nil {
			acked.Add(1)
		}
		return err
	})
	spent := m.stop()
	p := point{name: name, r: r, labels: labels}
	for _, s := range spent {
		p.cpu = append(p.cpu, s/time.Duration(max(acked.Load(), 1)))
	}
	return p
}

func newLoadClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
}

// BenchmarkCreates measures acknowledged creates against two ceilings in one
// run: bare hashicorp/raft in this process (the targets' reference), and
// three bare-Raft processes behind minimal HTTP endpoints. Writes are spread
// over all three replicas, so two in three are forwarded. With
// SHOAL_BENCH_SHOAL_ONLY set only Shoal is measured (bench-compare uses it),
// and SHOAL_BENCH_PROFILE=<dir> saves CPU and allocation profiles of the
// leader and a follower during the 64-client run.
func BenchmarkCreates(b *testing.B) {
	shoalOnly := os.Getenv("SHOAL_BENCH_SHOAL_ONLY") != ""
	profileDir := os.Getenv("SHOAL_BENCH_PROFILE")
	var bare1, bare64, wal64, http1, http64 point
	if !shoalOnly {
		entry := bytes.Repeat([]byte("x"), 1024)
		br := startBareRaft(b, false)
		leader := br.leader(b)
		apply := func(context.Context, int) error { return leader.Apply(entry, 0).Error() }
		bare1 = measure("bare-raft", 1, []string{"process"}, []int{0}, apply)
		bare64 = measure("bare-raft", 64, []string{"process"}, []int{0}, apply)
		br.close()

		// The same on raft-wal: what the log store alone is worth.
		bw := startBareRaft(b, true)
		wleader := bw.leader(b)
		wal64 = measure("bare-raft-wal", 64, []string{"process"}, []int{0}, func(context.Context, int) error {
			return wleader.Apply(entry, 0).Error()
		})
		bw.close()

		hc := startBareHTTP(b)
		client := newLoadClient()
		put := func(ctx context.Context, c int) error {
			return putBody(ctx, client, hc.urls[c%len(hc.urls)]+"/", entry)
		}
		labels := []string{"h0", "h1", "h2"}
		http1 = measure("bare-raft-http", 1, labels, hc.pids(), func(ctx context.Context, _ int) error {
			return putBody(ctx, client, hc.urls[int(time.Now().UnixNano())%len(hc.urls)]+"/", entry)
		})
		http64 = measure("bare-raft-http", 64, labels, hc.pids(), put)
		hc.close()
	}

	args := replicaArgs()
	if profileDir != "" {
		args = append(args, "--enable-debug")
	}
	c := testcluster.Start(b, testcluster.Options{Replicas: 3, ReplicaArgs: args})
	lp, err := c.WaitLeader(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	// Leader first, then the followers, for the CPU columns.
	replicas := append([]*testcluster.Process{lp}, c.Followers(lp)...)
	var pids []int
	labels := []string{"leader", "follower", "follower"}
	for _, p := range replicas {
		pids = append(pids, p.Pid())
	}
	// What the replicas burn with no load (gossip, heartbeats, loops): at
	// low rates it is a visible part of the CPU per create.
	idle := startCPU(pids...)
	time.Sleep(2 * time.Second)
	var idleParts []string
	for i, c := range idle.stop() {
		idleParts = append(idleParts, fmt.Sprintf("%s %dms/s", labels[i], c.Milliseconds()/2))
	}
	client := newLoadClient()
	body := createBody()
	create := func(ctx context.Context, url string) error {
		return putBody(ctx, client, url+"/api/v1/orchestrator/jobs", body)
	}
	var rr atomic.Int64
	shoal1 := measure("shoal", 1, labels, pids, func(ctx context.Context, _ int) error {
		return create(ctx, replicas[rr.Add(1)%3].URL())
	})
	stopProfiles := func() {}
	if profileDir != "" {
		stopProfiles = captureProfiles(b, profileDir, lp, replicas[1])
	}
	cmd0, ent0 := batchStats(context.Background(), lp)
	shoal64 := measure("shoal", 64, labels, pids, func(ctx context.Context, client int) error {
		return create(ctx, replicas[client%3].URL())
	})
	stopProfiles()
	cmd1, ent1 := batchStats(context.Background(), lp)

	var sb strings.Builder
	fmt.Fprintf(&sb, "\nacknowledged writes, 3 nodes on loopback, writes spread over all of them, %s per point\n", benchDuration())
	points := []point{shoal1, shoal64}
	if !shoalOnly {
		points = []point{bare1, bare64, wal64, http1, http64, shoal1, shoal64}
	}
	for _, p := range points {
		fmt.Fprintf(&sb, "  %-15s %s\n", p.name, p.r)
		var parts []string
		for i, c := range p.cpu {
			parts = append(parts, fmt.Sprintf("%s %dµs", p.labels[i], c.Microseconds()))
		}
		fmt.Fprintf(&sb, "  %-15s CPU per write: %dµs (%s)\n", "", p.cpuTotal().Microseconds(), strings.Join(parts, ", "))
		if p.r.FirstErr != nil {
			fmt.Fprintf(&sb, "  %-15s first error: %v (%d errors)\n", "", p.r.FirstErr, p.r.Errors)
		}
	}
	fmt.Fprintf(&sb, "  shoal replicas idle, CPU: %s\n", strings.Join(idleParts, ", "))
	if ent1 > ent0 {
		// Creates and the scheduler's plans both go through the batcher.
		fmt.Fprintf(&sb, "  shoal at 64 clients: %.0f Raft entries/s from the batcher, %.1f commands each\n",
			(ent1-ent0)/benchDuration().Seconds(), (cmd1-cmd0)/(ent1-ent0))
	}
	if !shoalOnly {
		fmt.Fprintf(&sb, "\n  %-40s %12s %12s %12s\n", "shoal ÷ ceiling", "rate@64", "p99@64", "p50@1")
		for _, ceil := range [][2]point{{bare1, bare64}, {http1, http64}} {
			fmt.Fprintf(&sb, "  %-40s %11.2fx %11.2fx %11.2fx\n", ceil[1].name+" (target ≥0.4, ≤3, ≤2.5)",
				shoal64.r.Rate()/ceil[1].r.Rate(), float64(shoal64.r.P99)/float64(ceil[1].r.P99), float64(shoal1.r.P50)/float64(ceil[0].r.P50))
		}
	}
	// Straight to stdout: go test cuts a benchmark's b.Log output short
	// unless -v is given.
	fmt.Println(sb.String())
	b.ReportMetric(shoal64.r.Rate(), "creates/s@64")
	b.ReportMetric(float64(shoal64.r.P99.Microseconds())/1000, "p99-ms@64")
	b.ReportMetric(float64(shoal1.r.P50.Microseconds())/1000, "p50-ms@1")
	b.ReportMetric(float64(shoal64.cpuTotal().Microseconds()), "cpu-µs/create@64")
	b.ReportMetric(float64(shoal64.cpu[0].Microseconds()), "leader-cpu-µs@64")
	b.ReportMetric(float64((shoal64.cpu[1]+shoal64.cpu[2]).Microseconds())/2, "follower-cpu-µs@64")
	if !shoalOnly {
		b.ReportMetric(shoal64.r.Rate()/bare64.r.Rate(), "x-bare-rate@64")
		b.ReportMetric(float64(shoal64.r.P99)/float64(bare64.r.P99), "x-bare-p99@64")
		b.ReportMetric(float64(shoal1.r.P50)/float64(bare1.r.P50), "x-bare-p50@1")
	}
}
