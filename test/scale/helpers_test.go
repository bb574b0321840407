package scale

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/test/testcluster"
)

// noopJob is a completed-in-a-moment job; label "uniq" is set on one job
// only, so a selector can pick one job out of all of them.
func noopJob(i int, uniq bool) *api.Job {
	j := &api.Job{
		Type: api.JobTypeBatch, Count: 1,
		Labels: map[string]string{"group": "g" + strconv.Itoa(i%100)},
		Tasks: []*api.Task{{
			Name:      "main",
			Engine:    &api.SpecConfig{Type: "noop"},
			Resources: &api.ResourcesConfig{CPU: "10m", Memory: "1mb"},
		}},
	}
	if uniq {
		j.Labels["uniq"] = "yes"
	}
	return j
}

func newClient(t testing.TB, ps ...*testcluster.Process) *client.Client {
	var urls []string
	for _, p := range ps {
		urls = append(urls, p.URL())
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
	c, err := client.New(urls, client.WithHTTPClient(hc), client.WithTimeout(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// submit creates n jobs from clients goroutines, spread over the replicas,
// optionally paced to rate jobs/s (0: as fast as they go), and returns their
// IDs. Job first (counting from 0) carries the unique label.
func submit(ctx context.Context, t testing.TB, cs []*client.Client, first, n, clients, rate int) []string {
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cs[k%len(cs)]
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				// A loaded loopback cluster may lose its leader: an unknown
				// outcome is retried (a duplicate job does no harm here).
				for attempt := 1; ; attempt++ {
					resp, _, err := c.Jobs().Put(ctx, &api.PutJobRequest{Job: noopJob(first+i, first+i == 0)})
					if err == nil {
						ids[i] = resp.JobID
						break
					}
					if ctx.Err() != nil {
						return // the run is over (a soak stops its load this way)
					}
					if attempt == 30 {
						firstErr.CompareAndSwap(nil, err)
						return
					}
					time.Sleep(time.Duration(min(attempt, 10)) * 200 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatalf("submit: %v", err)
	}
	return ids
}

// waitTerminal waits until every job has ended, asking from 16 goroutines.
func waitTerminal(ctx context.Context, t testing.TB, c *client.Client, ids []string) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				var index uint64
				for {
					resp, meta, err := c.Jobs().Get(ctx, ids[i], client.GetJobOptions{WaitIndex: index, WaitTime: 30 * time.Second})
					if err != nil {
						firstErr.CompareAndSwap(nil, fmt.Errorf("job %s: %w", ids[i], err))
						return
					}
					if resp.Job.State.StateType.IsTerminal() {
						break
					}
					index = meta.Index
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		t.Fatal(err)
	}
}

// rssMB is the process's resident memory (VmRSS) in MB.
func rssMB(pid int) float64 { return statusMB(pid, "VmRSS:") }

// statusMB is a field of /proc/PID/status (VmRSS:, RssAnon:, RssFile:) in MB.
func statusMB(pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// dirMB is the size of the files under dir in MB.
func dirMB(dir string) float64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return float64(total) / (1 << 20)
}

// p99 asks path reps times and returns the 99th percentile latency. Any
// non-200 answer fails the test.
func p99(ctx context.Context, t testing.TB, p *testcluster.Process, path string, reps int) time.Duration {
	lat := make([]time.Duration, 0, reps)
	for range reps {
		start := time.Now()
		r, err := p.Get(ctx, path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return lat[(len(lat)*99)/100-min(1, len(lat)/100)]
}

// saveProfile stores a replica's heap profile under dir (nothing without
// dir).
func saveProfile(ctx context.Context, p *testcluster.Process, dir, name string) error {
	return saveURL(ctx, p, "/debug/pprof/heap?gc=1", dir, name)
}

// saveURL writes what a GET of path on p answers to dir/name (nothing when
// dir is empty).
func saveURL(ctx context.Context, p *testcluster.Process, path, dir, name string) error {
	if dir == "" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// waitServing waits until p answers reads at index at least want and
// returns how long that took from start.
func waitServing(ctx context.Context, p *testcluster.Process, want uint64, start time.Time) (time.Duration, error) {
	for {
		r, err := p.Get(ctx, "/api/v1/orchestrator/jobs?limit=1")
		if err == nil && r.Status == http.StatusOK && r.Index() >= want {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("%s not serving at index %d: %w", p.ID, want, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
