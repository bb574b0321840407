// Package scale measures how Shoal's replicas hold a large job history:
// resident memory per job, list latency on a follower, restart and catch-up
// times (TestScale), and a long soak with retention (TestSoakScale). Both
// run only when asked: they take minutes.
package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/test/testcluster"
)

// replicaArgs are added to every replica: the profiler, and quieter logs
// (debug logs of 100,000 jobs fill a disk).
var replicaArgs = []string{"--enable-debug", "--log-level", "info"}

var computeArgs = []string{"--log-level", "info", "--engines", "noop", "--cpu", "1000", "--memory", "1000gb"}

func startCluster(t *testing.T, extra ...string) *testcluster.Cluster {
	args := append(append([]string{}, replicaArgs...), strings.Fields(os.Getenv("SHOAL_SCALE_ARGS"))...)
	return testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 1,
		ReplicaArgs: append(args, extra...),
		ComputeArgs: computeArgs,
	})
}

// collectAll adds a job that waits for a node, runs `gc --age 0s` through
// a follower, and checks that only that job remains on every replica, that
// the replicas agree, and that the largest RSS falls to half or less within
// a minute.
func collectAll(ctx context.Context, t *testing.T, cl *testcluster.Cluster, f *testcluster.Process, report func(string)) {
	wait := noopJob(0, false)
	wait.Constraints = []*api.LabelSelectorRequirement{{Key: "zone", Operator: "=", Values: []string{"nowhere"}}}
	resp, _, err := newClient(t, f).Jobs().Put(ctx, &api.PutJobRequest{Job: wait})
	if err != nil {
		t.Fatal(err)
	}
	largest := func() (mb float64) {
		for _, p := range cl.Running() {
			mb = max(mb, rssMB(p.PID()))
		}
		return mb
	}
	before := largest()
	start := time.Now()
	// The client asks again while a long pass answers in parts.
	res, _, err := newClient(t, f).Operator().JobGC(ctx, 0)
	if err != nil {
		t.Fatalf("gc: %v", err)
	}
	t.Logf("gc --age 0s removed %d jobs in %v", res.JobsRemoved, time.Since(start).Round(10*time.Millisecond))
	d, err := cl.WaitDigestsEqual(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cl.Running() {
		ids, err := p.JobIDsAt(ctx, d.Index, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1 || ids[0] != resp.JobID {
			t.Fatalf("%s lists %d jobs after gc, want only the waiting job %s", p.ID, len(ids), resp.JobID)
		}
	}
	collected := time.Now()
	for time.Since(collected) < time.Minute && largest() > before/2 {
		time.Sleep(time.Second)
	}
	after := largest()
	report("collected")
	t.Logf("largest RSS %.0f MB before gc, %.0f MB %v after the pass ended", before, after, time.Since(collected).Round(time.Second))
	if after > before/2 {
		t.Errorf("largest RSS fell from %.0f to %.0f MB in a minute, want half or less", before, after)
	}
}

// listPaths are the follower reads TestScale times; %s is a job's ID.
var listPaths = []string{
	"/api/v1/orchestrator/jobs?limit=10",
	"/api/v1/orchestrator/jobs?limit=10&order_by=modify_time",
	"/api/v1/orchestrator/jobs?limit=10&order_by=id",
	"/api/v1/orchestrator/jobs?limit=10&reverse=true",
	"/api/v1/orchestrator/jobs?limit=10&labels=group%3Dg7",
	"/api/v1/orchestrator/jobs?limit=10&labels=uniq%3Dyes",
	"/api/v1/orchestrator/jobs/%s/history?limit=10",
	"/api/v1/orchestrator/jobs/%s/executions?limit=10",
	"/api/v1/orchestrator/nodes?limit=10",
}

// TestScale loads SHOAL_SCALE_JOBS completed noop jobs into a 3-replica
// cluster and reports every replica's RSS, the follower list p99s, restart
// times and a new replica's catch-up. SHOAL_SCALE_OUT keeps heap profiles;
// SHOAL_SCALE_READS sets the reads timed per list (300).
func TestScale(t *testing.T) {
	n := testcluster.EnvInt("SHOAL_SCALE_JOBS", 0)
	if n == 0 {
		t.Skip("set SHOAL_SCALE_JOBS to run")
	}
	out := os.Getenv("SHOAL_SCALE_OUT")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	cl := startCluster(t)
	leader, err := cl.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	followers := cl.Followers(leader)
	cs := []*client.Client{newClient(t, cl.Replicas[0]), newClient(t, cl.Replicas[1]), newClient(t, cl.Replicas[2])}
	var ids []string
	steps := testcluster.EnvInt("SHOAL_SCALE_STEPS", 4)
	report := func(label string) {
		line := fmt.Sprintf("%-8s", label)
		for _, p := range cl.Running() {
			line += fmt.Sprintf("  %s rss=%4.0fMB (file %3.0f) dir=%4.0fMB", p.ID, rssMB(p.PID()), statusMB(p.PID(), "RssFile:"), dirMB(p.DataDir))
		}
		t.Log(line)
	}
	report("empty")
	for s := range steps {
		chunk := n/steps + map[bool]int{true: n % steps}[s == steps-1]
		start := time.Now()
		ids = append(ids, submit(ctx, t, cs, len(ids), chunk, 64, 0)...)
		waitTerminal(ctx, t, newClient(t, followers[0]), ids[len(ids)-chunk:])
		t.Logf("%d jobs submitted and completed in %s (%.0f/s)", len(ids), time.Since(start).Round(time.Second),
			float64(chunk)/time.Since(start).Seconds())
		report(fmt.Sprint(len(ids)))
		for _, p := range cl.Running() {
			if err := saveProfile(ctx, p, out, fmt.Sprintf("heap-%s-%d.pb.gz", p.ID, len(ids))); err != nil {
				t.Logf("profile %s: %v", p.ID, err)
			}
		}
	}
	if _, err := cl.WaitDigestsEqual(ctx); err != nil {
		t.Fatal(err)
	}
	// Let the collector and scavenger settle, as a user looking later would.
	time.Sleep(testcluster.EnvDuration("SHOAL_SCALE_SETTLE", 30*time.Second))
	report("settled")
	for _, p := range cl.Running() {
		if err := saveProfile(ctx, p, out, fmt.Sprintf("heap-%s-settled.pb.gz", p.ID)); err != nil {
			t.Logf("profile %s: %v", p.ID, err)
		}
	}
	// The whole state, for profiling a restore offline (fsm's
	// BenchmarkRestoreFile).
	if err := saveURL(ctx, leader, "/api/v1/operator/snapshot", out, "state.snap"); err != nil {
		t.Logf("snapshot: %v", err)
	}

	f := followers[0]
	reads := testcluster.EnvInt("SHOAL_SCALE_READS", 300) // per list
	for _, path := range listPaths {
		if strings.Contains(path, "%s") {
			path = fmt.Sprintf(path, ids[0])
		}
		t.Logf("follower p99 %-70s %v", path, p99(ctx, t, f, path, reads))
	}
	// Second page of the default order.
	r, err := f.Get(ctx, "/api/v1/orchestrator/jobs?limit=10")
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ NextToken string }
	if err := r.Decode(&page); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/orchestrator/jobs?limit=10&next_token=" + page.NextToken
	t.Logf("follower p99 %-70s %v", "jobs?limit=10&next_token=…", p99(ctx, t, f, path, reads))

	// Restarts: SIGTERM, then kill -9, each timed to serving at the
	// leader's index.
	for i, stop := range []func(*testcluster.Process){(*testcluster.Process).Stop, (*testcluster.Process).Kill} {
		f := followers[i]
		li, err := leader.Get(ctx, "/api/v1/orchestrator/jobs?limit=1")
		if err != nil {
			t.Fatal(err)
		}
		stop(f)
		start := time.Now()
		if err := f.Start(); err != nil {
			t.Fatal(err)
		}
		d, err := waitServing(ctx, f, li.Index(), start)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s restarted (%s) serving at leader index %d after %v", f.ID, []string{"SIGTERM", "kill -9"}[i], li.Index(), d.Round(10*time.Millisecond))
	}
	li, err := leader.Get(ctx, "/api/v1/orchestrator/jobs?limit=1")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	nr, err := cl.AddReplica()
	if err != nil {
		t.Fatal(err)
	}
	d, err := waitServing(ctx, nr, li.Index(), start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("new replica %s serving at leader index %d after %v", nr.ID, li.Index(), d.Round(10*time.Millisecond))
	report("final")
	collectAll(ctx, t, cl, followers[0], report)
	if out != "" {
		for _, p := range cl.Replicas {
			if b, err := os.ReadFile(p.LogPath); err == nil {
				_ = os.WriteFile(filepath.Join(out, p.ID+".log"), b, 0o644)
			}
		}
	}
}
