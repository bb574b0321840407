package cluster_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
)

// Bad input of every kind gets its 4xx, in the one error shape, on every
// replica — and leaves nothing written.
func TestBadRequestsGetClearErrorsAndWriteNothing(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3, ReplicaArgs: []string{"--leader-wait", "2s"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Two jobs, so "j-" is an ambiguous prefix.
	createJob(t, ctx, c.Running()[0], "one")
	createJob(t, ctx, c.Running()[1], "two")
	before, err := c.WaitDigestsSettled(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}

	huge := append([]byte(`{"Job":{"Name":"`), bytes.Repeat([]byte("x"), 11<<20)...)
	huge = append(huge, []byte(`"}}`)...)
	validJobWith := func(field, value string) []byte {
		return []byte(`{"Job":{"Type":"batch","Count":1,` + field + `:` + value + `,"Tasks":[{"Name":"t","Engine":{"Type":"noop"}}]}}`)
	}
	tests := []struct {
		name         string
		method, path string
		body         []byte
		status       int
		code         string
		mention      string
	}{
		{"malformed JSON", http.MethodPut, "/api/v1/orchestrator/jobs", []byte(`{"Job":`), 400, api.CodeBadRequest, "invalid JSON"},
		{"wrong JSON type", http.MethodPut, "/api/v1/orchestrator/jobs", validJobWith(`"Count"`, `"three"`), 400, api.CodeBadRequest, "Count"},
		{"no job", http.MethodPut, "/api/v1/orchestrator/jobs", []byte(`{}`), 400, api.CodeValidationError, "nil job"},
		{"failed validation", http.MethodPut, "/api/v1/orchestrator/jobs", []byte(`{"Job":{"Type":"sometimes","Count":-1}}`), 400, api.CodeValidationError, "invalid job type"},
		{"bad constraint", http.MethodPut, "/api/v1/orchestrator/jobs", validJobWith(`"Constraints"`, `[{"Key":"zone","Operator":"in"}]`), 400, api.CodeValidationError, "constraint"},
		{"body over 10 MB", http.MethodPut, "/api/v1/orchestrator/jobs", huge, 413, api.CodeRequestTooLarge, "larger than"},
		{"bad label selector", http.MethodGet, "/api/v1/orchestrator/jobs?labels=env+in+(prod", nil, 400, "", "label selector"},
		{"bad next_token", http.MethodGet, "/api/v1/orchestrator/jobs?next_token=%21%21", nil, 400, "", "token"},
		{"unknown order_by", http.MethodGet, "/api/v1/orchestrator/jobs?order_by=colour", nil, 400, "", "colour"},
		{"bad limit", http.MethodGet, "/api/v1/orchestrator/jobs?limit=ten", nil, 400, "", "limit"},
		{"unknown event_type", http.MethodGet, "/api/v1/orchestrator/jobs/j-/history?event_type=everything", nil, 400, "", "event_type"},
		{"ambiguous short ID", http.MethodGet, "/api/v1/orchestrator/jobs/j-", nil, 400, api.CodeMultipleFound, "j-"},
		{"unknown job", http.MethodGet, "/api/v1/orchestrator/jobs/j-00000000-0000-0000-0000-000000000000", nil, 404, api.CodeNotFound, "not found"},
		{"stop unknown job", http.MethodDelete, "/api/v1/orchestrator/jobs/j-00000000-0000-0000-0000-000000000000", nil, 404, api.CodeNotFound, "not found"},
		{"unknown node", http.MethodGet, "/api/v1/orchestrator/nodes/nope", nil, 404, api.CodeNotFound, "nope"},
		{"unknown node order", http.MethodGet, "/api/v1/orchestrator/nodes?order_by=colour", nil, 400, "", "colour"},
		{"unknown route", http.MethodGet, "/api/v1/orchestrator/widgets", nil, 404, "", "no route"},
		// POST on a job is a stop (upstream's v1.2.3 CLI sends its stops so).
		{"wrong method", http.MethodPatch, "/api/v1/orchestrator/jobs/j-1", nil, 405, api.CodeMethodNotAllowed, "not allowed"},
		{"bad consistency", http.MethodGet, "/api/v1/orchestrator/jobs?consistency=eventually", nil, 400, "", "consistency"},
	}
	for _, p := range c.Running() {
		for _, tt := range tests {
			t.Run(p.ID+"/"+tt.name, func(t *testing.T) {
				r, err := p.Do(ctx, tt.method, tt.path, tt.body)
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tt.status, truncated(r.Body))
				}
				var e api.APIError
				if err := r.Decode(&e); err != nil {
					t.Fatal(err)
				}
				if e.Status != tt.status || e.Message == "" || e.RequestID == "" || e.Component == "" || e.Code == "" {
					t.Fatalf("error body %s lacks a field", r.Body)
				}
				if tt.code != "" && e.Code != tt.code {
					t.Fatalf("code %q, want %q (%s)", e.Code, tt.code, r.Body)
				}
				if !strings.Contains(strings.ToLower(e.Message+" "+e.Hint), strings.ToLower(tt.mention)) {
					t.Fatalf("message %q does not mention %q", e.Message, tt.mention)
				}
			})
		}
	}
	after, err := c.WaitDigestsSettled(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if after.Digest != before.Digest {
		t.Fatal("a bad request changed the replicated state")
	}

	// With no quorum, a write waits --leader-wait for a leader, then 503.
	leader, _ := c.WaitLeader(ctx)
	for _, p := range c.Followers(leader) {
		p.Kill()
	}
	start := time.Now()
	r, err := leader.Do(ctx, http.MethodPut, "/api/v1/orchestrator/jobs", sampleJob("no quorum"))
	if err != nil {
		t.Fatal(err)
	}
	var e api.APIError
	_ = r.Decode(&e)
	if r.Status != http.StatusServiceUnavailable || e.Code == "" {
		t.Fatalf("write without quorum answered %d %s", r.Status, r.Body)
	}
	t.Logf("write without quorum: %d %s after %s", r.Status, e.Code, time.Since(start).Round(time.Millisecond))
}

func truncated(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
