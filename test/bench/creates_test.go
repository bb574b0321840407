// Package bench measures Shoal against its ceilings. Run with `make bench`;
// figures are printed, never asserted (the machines are shared and noisy):
// compare the ratios within one run.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
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

type row struct {
	name string
	r    load.Result
}

func BenchmarkCreates(b *testing.B) {
	d := benchDuration()
	ctx := context.Background()
	var rows []row

	br := startBareRaft(b)
	leader := br.leader(b)
	entry := bytes.Repeat([]byte("x"), 1024)
	for _, clients := range []int{1, 64} {
		r := load.Run(ctx, clients, time.Second, d, func(ctx context.Context, _ int) error {
			return leader.Apply(entry, 0).Error()
		})
		rows = append(rows, row{"bare-raft", r})
	}
	br.close()

	c := testcluster.Start(b, testcluster.Options{Replicas: 3, ReplicaArgs: replicaArgs()})
	lp, err := c.WaitLeader(ctx)
	if err != nil {
		b.Fatal(err)
	}
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	body := createBody()
	put := func(ctx context.Context, url string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, url+"/api/v1/orchestrator/jobs", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("create: %d %s", resp.StatusCode, data)
		}
		return nil
	}
	for _, clients := range []int{1, 64} {
		r := load.Run(ctx, clients, time.Second, d, func(ctx context.Context, _ int) error { return put(ctx, lp.URL()) })
		rows = append(rows, row{"shoal-leader", r})
	}
	replicas := c.Running()
	r := load.Run(ctx, 64, time.Second, d, func(ctx context.Context, client int) error {
		return put(ctx, replicas[client%len(replicas)].URL())
	})
	rows = append(rows, row{"shoal-any-replica", r})

	var sb strings.Builder
	fmt.Fprintf(&sb, "\nacknowledged creates, 3 replicas on loopback, %s per run\n", d)
	for _, rw := range rows {
		fmt.Fprintf(&sb, "  %-18s %s\n", rw.name, rw.r)
		if rw.r.FirstErr != nil {
			fmt.Fprintf(&sb, "  %-18s first error: %v\n", "", rw.r.FirstErr)
		}
	}
	ratio := func(a, bb load.Result) float64 { return a.Rate() / bb.Rate() }
	fmt.Fprintf(&sb, "  shoal/bare throughput: 1 client %.2fx, 64 clients %.2fx\n", ratio(rows[2].r, rows[0].r), ratio(rows[3].r, rows[1].r))
	fmt.Fprintf(&sb, "  shoal/bare p50 at 1 client: %.2fx\n", float64(rows[2].r.P50)/float64(rows[0].r.P50))
	b.Log(sb.String())
	b.ReportMetric(rows[3].r.Rate(), "creates/s@64")
	b.ReportMetric(float64(rows[3].r.P99.Microseconds())/1000, "p99-ms@64")
	b.ReportMetric(ratio(rows[3].r, rows[1].r), "x-bare@64")
}
