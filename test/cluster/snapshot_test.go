package cluster_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
)

// A backup taken from any replica, restored into a fresh cluster, gives the
// same state (digest) and answers the same reads.
func TestSnapshotSaveRestoreIntoFreshCluster(t *testing.T) {
	skipShort(t)
	src := testcluster.Start(t, testcluster.Options{Replicas: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var ids []string
	for i, p := range src.Running() {
		id, _ := createJob(t, ctx, p, "backup-"+p.ID)
		ids = append(ids, id)
		if i == 0 {
			if r, err := p.Do(ctx, http.MethodDelete, "/api/v1/orchestrator/jobs/"+id, map[string]string{"reason": "testing backups"}); err != nil || r.Status != http.StatusOK {
				t.Fatalf("stop: %v %v", err, r)
			}
		}
	}
	want, err := src.WaitDigestsEqual(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader, err := src.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	backup, err := src.Followers(leader)[0].Get(ctx, "/api/v1/operator/snapshot?consistency=linearizable")
	if err != nil || backup.Status != http.StatusOK || len(backup.Body) == 0 {
		t.Fatalf("snapshot save: %v %+v", err, backup)
	}

	dst := testcluster.Start(t, testcluster.Options{Replicas: 3})
	target := dst.Running()[1]
	r, err := target.Do(ctx, http.MethodPut, "/api/v1/operator/snapshot", backup.Body)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("snapshot restore: %v %s", err, r.Body)
	}
	got, err := dst.WaitDigestsEqual(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != want.Digest {
		t.Fatalf("restored cluster's digest %s, want the source's %s", got.Digest, want.Digest)
	}
	for _, p := range dst.Running() {
		for _, id := range ids {
			if _, _, err := getJob(ctx, p, id, "?consistency=linearizable"); err != nil {
				t.Fatalf("restored cluster misses job %s: %v", id, err)
			}
		}
	}
	// The restored cluster keeps taking writes, at indexes past the restore.
	if _, index := createJob(t, ctx, dst.Running()[0], "after-restore"); index <= got.Index {
		t.Fatalf("write after restore at index %d, not past the restored state's %d", index, got.Index)
	}
	bad, err := target.Do(ctx, http.MethodPut, "/api/v1/operator/snapshot", []byte("not a snapshot"))
	if err != nil || bad.Status != http.StatusBadRequest {
		t.Fatalf("restoring garbage answered %+v (%v), want 400", bad, err)
	}
	var apiErr api.APIError
	_ = bad.Decode(&apiErr)
	if apiErr.Message == "" {
		t.Fatalf("restoring garbage gave no message: %s", r.Body)
	}
}
