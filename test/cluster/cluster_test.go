// Package cluster_test runs three real shoal replicas on loopback and checks
// what a client of any replica sees: reads of its own writes, linearizable
// reads everywhere, and no acknowledged write lost to a leader crash or a
// restart of the whole cluster.
package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
)

func sampleJob(name string) map[string]any {
	return map[string]any{"Job": map[string]any{
		"Name": name, "Type": "batch", "Count": 1,
		"Labels": map[string]string{"suite": "cluster"},
		"Tasks": []any{map[string]any{
			"Name":   "main",
			"Engine": map[string]any{"Type": "docker", "Params": map[string]any{"Image": "ubuntu:latest", "Entrypoint": []string{"echo", "hello"}}},
		}},
	}}
}

func createJob(t *testing.T, ctx context.Context, p *testcluster.Process, name string) (string, uint64) {
	t.Helper()
	r, err := p.Do(ctx, http.MethodPut, "/api/v1/orchestrator/jobs", sampleJob(name))
	if err != nil {
		t.Fatalf("create on %s: %v", p.ID, err)
	}
	if r.Status != http.StatusOK {
		t.Fatalf("create on %s: %d %s", p.ID, r.Status, r.Body)
	}
	var out api.PutJobResponse
	if err := r.Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.JobID == "" || out.EvaluationID == "" || r.Index() == 0 {
		t.Fatalf("create answered %s with index %d", r.Body, r.Index())
	}
	return out.JobID, r.Index()
}

func getJob(ctx context.Context, p *testcluster.Process, id, query string) (*api.GetJobResponse, *testcluster.Response, error) {
	r, err := p.Get(ctx, "/api/v1/orchestrator/jobs/"+id+query)
	if err != nil {
		return nil, nil, err
	}
	if r.Status != http.StatusOK {
		return nil, r, fmt.Errorf("describe %s on %s: %d %s", id, p.ID, r.Status, r.Body)
	}
	var out api.GetJobResponse
	return &out, r, r.Decode(&out)
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-replica cluster")
	}
}

func TestWriteOnFollowerIsReadableEverywhere(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, follower := range c.Followers(leader) {
		id, index := createJob(t, ctx, follower, "on-"+follower.ID)
		// Read your own write on the replica you wrote to, without asking for
		// consistency.
		got, r, err := getJob(ctx, follower, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Job.ID != id || r.Index() < index {
			t.Fatalf("follower %s answered job %s at index %d, want %s at >= %d", follower.ID, got.Job.ID, r.Index(), id, index)
		}
		for _, p := range c.Running() {
			got, _, err := getJob(ctx, p, id, "?consistency=linearizable")
			if err != nil {
				t.Fatal(err)
			}
			if got.Job.State.StateType.IsTerminal() || got.Job.Revision == 0 {
				t.Fatalf("%s: unexpected job %+v", p.ID, got.Job)
			}
		}
	}
}

func TestLeaderKillKeepsAcknowledgedWrites(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, p := range c.Running() {
		id, _ := createJob(t, ctx, p, fmt.Sprintf("before-%d", i))
		ids = append(ids, id)
	}
	leader.Kill()
	newLeader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if newLeader == leader {
		t.Fatal("killed leader still leads")
	}
	for _, id := range ids {
		if _, _, err := getJob(ctx, newLeader, id, "?consistency=linearizable"); err != nil {
			t.Fatalf("acknowledged job lost after leader kill: %v", err)
		}
	}
	for _, p := range c.Running() {
		ids = append(ids, func() string { id, _ := createJob(t, ctx, p, "after-"+p.ID); return id }())
	}
	if err := leader.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitDigestsEqual(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, _, err := getJob(ctx, leader, id, ""); err != nil {
			t.Fatalf("restarted replica misses a job: %v", err)
		}
	}
}

func TestWholeClusterRestartKeepsEverything(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var ids []string
	for i := range 9 {
		p := c.Running()[i%3]
		id, _ := createJob(t, ctx, p, fmt.Sprintf("job-%d", i))
		ids = append(ids, id)
	}
	before, err := c.WaitDigestsEqual(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Replicas {
		p.Kill()
	}
	for _, p := range c.Replicas {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	// Restarted replicas agree at index 0 until the new leader's first
	// commit lets them replay their logs: wait for agreement past that.
	after, err := c.WaitDigestsEqual(ctx)
	for err == nil && after.Index < before.Index && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		after, err = c.WaitDigestsEqual(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	if after.Index < before.Index {
		t.Fatalf("state went back from index %d to %d", before.Index, after.Index)
	}
	for _, p := range c.Replicas {
		for _, id := range ids {
			if _, _, err := getJob(ctx, p, id, "?consistency=linearizable"); err != nil {
				t.Fatalf("job lost in restart: %v", err)
			}
		}
	}
}
