package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/load"
	"github.com/shoal-io/shoal/test/testcluster"
)

// BenchmarkCreatesTLS measures what TLS costs acknowledged creates: the same
// 3-replica cluster shape without TLS and with it (HTTPS API, mutual-TLS
// Raft, HTTPS forwarding between replicas), alternated plain, TLS, plain,
// TLS, … (SHOAL_BENCH_TLS_ROUNDS pairs, default 2) so that a noisy
// neighbour hurts both alike. The client keeps its
// connections, as real clients do; a run that made a new TLS connection per
// request would measure handshakes instead.
func BenchmarkCreatesTLS(b *testing.B) {
	d := benchDuration()
	ctx := context.Background()
	body := createBody()
	type result struct {
		tls               bool
		leader1, anyRep64 load.Result
		// CPU seconds per create at 64 clients: the three replicas', and
		// this process's (the clients').
		srvCPU, cliCPU float64
	}
	var results []result
	pairs := 2
	if n, err := strconv.Atoi(os.Getenv("SHOAL_BENCH_TLS_ROUNDS")); err == nil && n > 0 {
		pairs = n
	}
	for round := range 2 * pairs {
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
		srv0, cli0 := replicasCPU(b, replicas), selfCPU(b)
		res.anyRep64 = load.Run(ctx, 64, time.Second, d, func(ctx context.Context, client int) error {
			return put(ctx, replicas[client%len(replicas)].URL())
		})
		// CPU per create resists the machine's noise better than the rate:
		// a neighbour steals time, not work. (The 1 s warm-up is included.)
		ops := float64(max(res.anyRep64.Ops, 1))
		res.srvCPU = (replicasCPU(b, replicas) - srv0) / ops
		res.cliCPU = (selfCPU(b) - cli0) / ops
		results = append(results, res)
		for _, p := range c.Replicas {
			p.Kill()
		}
		tr.CloseIdleConnections()
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "\nacknowledged creates with and without TLS, 3 replicas on loopback, %s per run\n", d)
	var plain1, tls1, plain64, tls64, plainCPU, tlsCPU float64
	for _, r := range results {
		name := "plain"
		if r.tls {
			name = "tls"
		}
		fmt.Fprintf(&sb, "  %-5s leader, 1 client      %s\n", name, r.leader1)
		fmt.Fprintf(&sb, "  %-5s any replica, 64 cl.  %s  cpu/create: replicas %.0fµs client %.0fµs\n",
			name, r.anyRep64, r.srvCPU*1e6, r.cliCPU*1e6)
		for _, e := range []error{r.leader1.FirstErr, r.anyRep64.FirstErr} {
			if e != nil {
				fmt.Fprintf(&sb, "        first error: %v\n", e)
			}
		}
		if r.tls {
			tls1, tls64 = tls1+r.leader1.Rate(), tls64+r.anyRep64.Rate()
			tlsCPU += r.srvCPU + r.cliCPU
		} else {
			plain1, plain64 = plain1+r.leader1.Rate(), plain64+r.anyRep64.Rate()
			plainCPU += r.srvCPU + r.cliCPU
		}
	}
	fmt.Fprintf(&sb, "  TLS/plain throughput (sums over the rounds): 1 client %.3f, 64 clients %.3f\n", tls1/plain1, tls64/plain64)
	fmt.Fprintf(&sb, "  TLS/plain CPU per create at 64 clients (replicas + client, summed over the rounds): %.3f\n", tlsCPU/plainCPU)
	// Printed, not b.Log: the benchmark log is cut after a few lines.
	fmt.Print(sb.String())
	b.ReportMetric(tls64/plain64, "tls/plain@64")
	b.ReportMetric(tls1/plain1, "tls/plain@1")
	b.ReportMetric(tlsCPU/plainCPU, "tls/plain-cpu")
}

// replicasCPU is the user+system CPU seconds the processes have used.
func replicasCPU(b *testing.B, ps []*testcluster.Process) float64 {
	var sum float64
	for _, p := range ps {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid()))
		if err != nil {
			b.Fatal(err)
		}
		// Fields after the command name (which may hold spaces): utime is
		// the 14th field of the line, stime the 15th.
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		sum += (ut + st) / 100 // USER_HZ
	}
	return sum
}

// selfCPU is this process's user+system CPU seconds.
func selfCPU(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
