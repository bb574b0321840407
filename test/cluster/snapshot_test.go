package cluster_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
)

// A replica stopped with SIGTERM leaves a snapshot of everything it
// applied, far below Raft's own entry threshold, so its restart restores
// instead of replaying the log.
func TestShutdownLeavesSnapshot(t *testing.T) {
	skipShort(t)
	// 8 commands between snapshots: the shutdown snapshot takes what is
	// left from 1 command on (an eighth), where Raft's own threshold counts
	// 1024 entries.
	c := testcluster.Start(t, testcluster.Options{Replicas: 1, ReplicaArgs: []string{"--raft-snapshot-commands", "8"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := c.Replicas[0]
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	nowhere := []*api.LabelSelectorRequirement{{Key: "zone", Operator: "=", Values: []string{"nowhere"}}}
	var ids []string
	for range 5 {
		id, err := putJob(ctx, p, noopJob(nowhere))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// The replica's own policy may have taken a snapshot meanwhile (it
	// looks every 5 s): write until the newest write is past it, then stop
	// at once.
	var applied uint64
	for {
		id, err := putJob(ctx, p, noopJob(nowhere))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		r, err := p.Get(ctx, "/api/v1/orchestrator/jobs?limit=1")
		if err != nil {
			t.Fatal(err)
		}
		applied = r.Index()
		if newestSnapshotIndex(t, p) < applied {
			break
		}
	}
	p.Stop()
	if got := newestSnapshotIndex(t, p); got < applied {
		t.Fatalf("after SIGTERM the newest snapshot is at index %d, want at least %d", got, applied)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		r, err := p.Get(ctx, "/api/v1/orchestrator/jobs/"+id)
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("job %s after restart: %v %v", id, err, r)
		}
	}
}

// newestSnapshotIndex reads the Raft snapshot store's metadata in p's data
// folder: the highest index a snapshot there holds (0 for none).
func newestSnapshotIndex(t *testing.T, p *testcluster.Process) uint64 {
	t.Helper()
	metas, err := filepath.Glob(filepath.Join(p.DataDir, "raft", "snapshots", "*", "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var newest uint64
	for _, m := range metas {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct{ Index uint64 }
		if err := json.Unmarshal(b, &meta); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		newest = max(newest, meta.Index)
	}
	return newest
}

// A backup downloaded from the API (streamed, not buffered in the replica)
// restores the state it was taken at.
func TestSnapshotDownloadRestores(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nowhere := []*api.LabelSelectorRequirement{{Key: "zone", Operator: "=", Values: []string{"nowhere"}}}
	kept, err := putJob(ctx, p, noopJob(nowhere))
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Get(ctx, "/api/v1/orchestrator/jobs/"+kept) // settles the store at the job's index
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("read job: %v %v", err, r)
	}
	backup, err := p.Get(ctx, "/api/v1/operator/snapshot")
	if err != nil || backup.Status != http.StatusOK || len(backup.Body) == 0 || backup.Body[len(backup.Body)-1] != 0 {
		t.Fatalf("snapshot download: %v %v", err, backup)
	}
	later, err := putJob(ctx, p, noopJob(nowhere))
	if err != nil {
		t.Fatal(err)
	}
	r, err = p.Do(ctx, http.MethodPut, "/api/v1/operator/snapshot", backup.Body)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("restore: %v %v", err, r)
	}
	for id, want := range map[string]int{kept: http.StatusOK, later: http.StatusNotFound} {
		r, err := p.Get(ctx, "/api/v1/orchestrator/jobs/"+id+"?consistency=linearizable")
		if err != nil || r.Status != want {
			t.Fatalf("job %s after restore: %v %v, want status %d", id, err, r, want)
		}
	}
}
