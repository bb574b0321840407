package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/load"
	"github.com/shoal-io/shoal/test/testcluster"
)

// BenchmarkCreatesTLS measures what TLS costs acknowledged creates: the same
// 3-replica cluster shape without TLS and with it (HTTPS API, mutual-TLS
// Raft, HTTPS forwarding between replicas), alternated plain, TLS, plain,
// TLS so that a noisy neighbour hurts both alike. The client keeps its
// connections, as real clients do; a run that made a new TLS connection per
// request would measure handshakes instead.
func BenchmarkCreatesTLS(b *testing.B) {
	d := benchDuration()
	ctx := context.Background()
	body := createBody()
	type result struct {
		tls               bool
		leader1, anyRep64 load.Result
	}
	var results []result
	for round := range 4 {
		useTLS := round%2 == 1
		c := testcluster.Start(b, testcluster.Options{Replicas: 3, TLS: useTLS, ReplicaArgs: replicaArgs()})
		lp, err := c.WaitLeader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
		if c.TLS != nil {
			tr = c.TLS.Client.Transport.(*http.Transport).Clone()
			tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
		}
		httpc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
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
		res := result{tls: useTLS}
		res.leader1 = load.Run(ctx, 1, time.Second, d, func(ctx context.Context, _ int) error { return put(ctx, lp.URL()) })
		replicas := c.Running()
		res.anyRep64 = load.Run(ctx, 64, time.Second, d, func(ctx context.Context, client int) error {
			return put(ctx, replicas[client%len(replicas)].URL())
		})
		results = append(results, res)
		for _, p := range c.Replicas {
			p.Kill()
		}
		tr.CloseIdleConnections()
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "\nacknowledged creates with and without TLS, 3 replicas on loopback, %s per run\n", d)
	var plain1, tls1, plain64, tls64 float64
	for _, r := range results {
		name := "plain"
		if r.tls {
			name = "tls"
		}
		fmt.Fprintf(&sb, "  %-5s leader, 1 client      %s\n", name, r.leader1)
		fmt.Fprintf(&sb, "  %-5s any replica, 64 cl.  %s\n", name, r.anyRep64)
		for _, e := range []error{r.leader1.FirstErr, r.anyRep64.FirstErr} {
			if e != nil {
				fmt.Fprintf(&sb, "        first error: %v\n", e)
			}
		}
		if r.tls {
			tls1, tls64 = tls1+r.leader1.Rate(), tls64+r.anyRep64.Rate()
		} else {
			plain1, plain64 = plain1+r.leader1.Rate(), plain64+r.anyRep64.Rate()
		}
	}
	fmt.Fprintf(&sb, "  TLS/plain throughput (sum of both rounds): 1 client %.3f, 64 clients %.3f\n", tls1/plain1, tls64/plain64)
	b.Log(sb.String())
	b.ReportMetric(tls64/plain64, "tls/plain@64")
	b.ReportMetric(tls1/plain1, "tls/plain@1")
}
