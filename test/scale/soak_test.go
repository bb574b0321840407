package scale

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/test/testcluster"
)

// TestSoakScale creates jobs at SHOAL_SOAK_RATE a second (default 500) for
// SHOAL_SOAK_DURATION (default 20m) on 3 replicas and 2 compute nodes that
// keep terminal jobs for 2 minutes, and prints a line a minute: each
// replica's RSS and data folder, the jobs stored, and a follower's list p99.
// After the first 5 minutes (SHOAL_SOAK_WARMUP) none of the RSSs, data
// folders, the job count or the list p99 may trend upward, and the cluster
// must have taken at least 90% of the rate.
func TestSoakScale(t *testing.T) {
	if os.Getenv("SHOAL_SOAK_SCALE") == "" {
		t.Skip("set SHOAL_SOAK_SCALE=1 to run")
	}
	duration := testcluster.EnvDuration("SHOAL_SOAK_DURATION", 20*time.Minute)
	rate := testcluster.EnvInt("SHOAL_SOAK_RATE", 500)
	gcAge := testcluster.EnvDuration("SHOAL_SOAK_GC_AGE", 2*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), duration+10*time.Minute)
	defer cancel()
	args := append(append([]string{}, replicaArgs...), "--job-gc-age", gcAge.String())
	cl := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 2, ReplicaArgs: args, ComputeArgs: computeArgs,
	})
	leader, err := cl.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	follower := cl.Followers(leader)[0]
	cs := []*client.Client{newClient(t, cl.Replicas[0]), newClient(t, cl.Replicas[1]), newClient(t, cl.Replicas[2])}

	loadCtx, stopLoad := context.WithTimeout(ctx, duration)
	defer stopLoad()
	loaded := make(chan int, 1)
	go func() {
		// submit fails the test only through t.Fatalf on this goroutine's
		// caller side: report an empty count instead of blocking the test.
		defer func() {
			select {
			case loaded <- -1:
			default:
			}
		}()
		ids := submit(loadCtx, t, cs, 0, rate*int(duration/time.Second), 64, rate)
		n := 0
		for _, id := range ids {
			if id != "" {
				n++
			}
		}
		loaded <- n
	}()

	t.Logf("%-5s %-32s %-32s %-32s %8s %10s", "min", "o1 rss/dir MB", "o2 rss/dir MB", "o3 rss/dir MB", "jobs", "list p99")
	start := time.Now()
	var counts []int
	rss := make([]series, len(cl.Replicas))
	dirs := make([]series, len(cl.Replicas))
	for i, p := range cl.Replicas {
		rss[i] = series{name: p.ID + " RSS (MB)", frac: 0.15, floor: 25}
		dirs[i] = series{name: p.ID + " data folder (MB)", frac: 0.15, floor: 25}
	}
	stored := series{name: "jobs stored", frac: 0.15, floor: 1000}
	lists := series{name: "follower list p99 (ms)", frac: 0.5, floor: 5}
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for minute := 1; ; minute++ {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-tick.C:
		}
		line := fmt.Sprintf("%-5d", minute)
		for i, p := range cl.Replicas {
			r, d := rssMB(p.PID()), dirMB(p.DataDir)
			rss[i].ys, dirs[i].ys = append(rss[i].ys, r), append(dirs[i].ys, d)
			line += fmt.Sprintf(" %-32s", fmt.Sprintf("%.0f / %.0f", r, d))
		}
		jobs := storedJobs(ctx, follower)
		counts = append(counts, jobs)
		stored.ys = append(stored.ys, float64(jobs))
		lp := p99(ctx, t, follower, "/api/v1/orchestrator/jobs?limit=10", 100)
		lists.ys = append(lists.ys, float64(lp.Microseconds())/1000)
		line += fmt.Sprintf(" %8d %10v", jobs, lp.Round(10*time.Microsecond))
		t.Log(line)
		if time.Since(start) >= duration {
			break
		}
	}
	stopLoad()
	if out := os.Getenv("SHOAL_SCALE_OUT"); out != "" {
		for _, p := range cl.Replicas {
			if b, err := os.ReadFile(p.LogPath); err == nil {
				_ = os.MkdirAll(out, 0o755)
				_ = os.WriteFile(filepath.Join(out, "soak-"+p.ID+".log"), b, 0o644)
			}
		}
	}
	n := <-loaded
	t.Logf("%d jobs created in %s (%.0f/s)", n, duration, float64(n)/duration.Seconds())
	// A cluster that cannot take the rate soaks at a lower one: what it
	// holds then says little about the rate asked for.
	if got := float64(n) / duration.Seconds(); got < 0.9*float64(rate) {
		t.Errorf("created %.0f jobs/s, less than 90%% of the %d/s asked for", got, rate)
	}
	// After the warm-up (the store fills until the first jobs age out) no
	// measurement may keep climbing.
	warmup := int(testcluster.EnvDuration("SHOAL_SOAK_WARMUP", 5*time.Minute) / time.Minute)
	for _, s := range append(append(append([]series{}, rss...), dirs...), stored, lists) {
		if err := s.trendsUp(warmup); err != nil {
			t.Error(err)
		}
	}
	// Once the first jobs age out the count stays near rate × (age + the
	// collector's minute); it must not keep growing with the run.
	if bound := int(float64(rate) * (gcAge + 3*time.Minute).Seconds()); len(counts) > 0 && counts[len(counts)-1] > bound {
		t.Errorf("%d jobs stored at the end, more than the %d retention allows", counts[len(counts)-1], bound)
	}
}

// storedJobs counts the jobs a replica holds (from its metrics).
func storedJobs(ctx context.Context, p *testcluster.Process) int {
	r, err := p.Get(ctx, "/metrics")
	if err != nil || r.Status != http.StatusOK {
		return -1
	}
	// The gauge of state objects by kind (named shoal_state_objects when
	// this was written); -1 when no such line is found.
	for _, line := range strings.Split(string(r.Body), "\n") {
		if strings.HasPrefix(line, "shoal_state") && strings.Contains(line, `kind="jobs"`) {
			fields := strings.Fields(line)
			if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
				return int(v)
			}
		}
	}
	return -1
}
