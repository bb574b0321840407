package cluster_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
)

// Retention: `shoal operator gc --age 0s` removes every terminal job with
// its executions and history from every replica, keeps the job still
// waiting for a node, and leaves the replicas agreeing.
func TestOperatorGCRemovesTerminalJobsOnly(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 1,
		ComputeArgs: []string{"--engines", "noop", "--cpu", "100", "--memory", "100gb"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const done = 200
	ids := make([]string, done)
	var wg sync.WaitGroup
	errs := make(chan error, done)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := c.Running()[w%len(c.Running())]
			for i := w; i < done; i += 8 {
				id, err := putJob(ctx, p, noopJob(nil))
				if err != nil {
					errs <- err
					return
				}
				ids[i] = id
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waiting, err := putJob(ctx, c.Running()[0], noopJob([]*api.LabelSelectorRequirement{{Key: "zone", Operator: "=", Values: []string{"nowhere"}}}))
	if err != nil {
		t.Fatal(err)
	}
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	follower := c.Followers(leader)[0]
	for _, id := range ids {
		waitJobState(t, ctx, follower, id, api.JobStateTypeCompleted)
	}

	// The CLI, pointed at a follower: the pass is forwarded to the leader.
	bin, err := testcluster.Binary()
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(follower.APIAddr)
	out, err := exec.CommandContext(ctx, bin, "operator", "gc", "--age", "0s", "--api-host", host, "--api-port", port).CombinedOutput()
	if err != nil {
		t.Fatalf("shoal operator gc: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("Removed %d terminal jobs", done); !strings.Contains(string(out), want) {
		t.Fatalf("shoal operator gc printed %q, want %q", out, want)
	}
	d, err := c.WaitDigestsEqual(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Running() {
		listed, err := p.JobIDsAt(ctx, d.Index, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != 1 || listed[0] != waiting {
			t.Fatalf("%s lists %d jobs after gc, want only the waiting job %s", p.ID, len(listed), waiting)
		}
		if r, err := p.Get(ctx, "/api/v1/orchestrator/jobs/"+ids[0]+"/history"); err != nil || r.Status != http.StatusNotFound {
			t.Fatalf("history of a collected job on %s: %v %v", p.ID, err, r)
		}
	}
	// A second pass finds nothing; a bad age is a clear 400.
	r, err := leader.Do(ctx, http.MethodPost, "/api/v1/operator/gc?age=0s", nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("second pass: %v %v", err, r)
	}
	var res api.JobGCResponse
	if err := r.Decode(&res); err != nil || res.JobsRemoved != 0 {
		t.Fatalf("second pass removed %d (%v), want 0", res.JobsRemoved, err)
	}
	r, err = follower.Do(ctx, http.MethodPost, "/api/v1/operator/gc", api.JobGCRequest{Age: "yesterday"})
	if err != nil || r.Status != http.StatusBadRequest {
		t.Fatalf("bad age answered %v %v, want 400", err, r)
	}
}

func noopJob(constraints []*api.LabelSelectorRequirement) *api.Job {
	return &api.Job{
		Type: api.JobTypeBatch, Count: 1, Constraints: constraints,
		Tasks: []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "noop"},
			Resources: &api.ResourcesConfig{CPU: "10m", Memory: "1mb"}}},
	}
}

func putJob(ctx context.Context, p *testcluster.Process, job *api.Job) (string, error) {
	r, err := p.Do(ctx, http.MethodPut, "/api/v1/orchestrator/jobs", api.PutJobRequest{Job: job})
	if err != nil {
		return "", err
	}
	if r.Status != http.StatusOK {
		return "", fmt.Errorf("create on %s: %d %s", p.ID, r.Status, r.Body)
	}
	var resp api.PutJobResponse
	if err := r.Decode(&resp); err != nil {
		return "", err
	}
	return resp.JobID, nil
}

func waitJobState(t *testing.T, ctx context.Context, p *testcluster.Process, id string, want api.JobStateType) {
	t.Helper()
	var index uint64
	for {
		resp, r, err := getJob(ctx, p, id, fmt.Sprintf("?index=%d&wait=10s", index))
		if err != nil {
			t.Fatalf("job %s on %s: %v", id, p.ID, err)
		}
		if resp.Job.State.StateType == want {
			return
		}
		if resp.Job.State.StateType.IsTerminal() {
			t.Fatalf("job %s ended %s, want %s", id, resp.Job.State.StateType, want)
		}
		index = r.Index()
	}
}
