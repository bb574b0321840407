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

// A replica stopped with SIGTERM answers the blocking queries waiting on it
// (with what it has) before it exits, instead of holding its API drain for
// them until the drain times out and their connections are cut.
func TestShutdownAnswersBlockingQueries(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := c.Replicas[0]
	id, err := putJob(ctx, p, noopJob([]*api.LabelSelectorRequirement{{Key: "zone", Operator: "=", Values: []string{"nowhere"}}}))
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		// An index far ahead: the query waits for its whole ?wait=.
		r, err := p.Get(ctx, fmt.Sprintf("/api/v1/orchestrator/jobs/%s?index=%d&wait=2m", id, uint64(1)<<40))
		if err != nil {
			answers <- answer{err: err}
			return
		}
		answers <- answer{status: r.Status}
	}()
	time.Sleep(500 * time.Millisecond) // the query is waiting
	p.Stop()
	select {
	case a := <-answers:
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("the waiting query got status %d, error %v; want a full 200 answer", a.status, a.err)
		}
	case <-ctx.Done():
		t.Fatal("the waiting query was never answered")
	}
}
