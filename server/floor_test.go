package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/auth"
	"github.com/shoal-io/shoal/fsm"
)

// TestReadsWaitForAcknowledgedWrites: once this replica has relayed the
// leader's answer to a write it has not applied yet, its reads wait for that
// write, or answer 503, never without it.
func TestReadsWaitForAcknowledgedWrites(t *testing.T) {
	tests := []struct {
		name   string
		write  fsm.Command
		method string
		target string
		who    string
		// want is the status once the write is applied.
		want int
	}{
		{"a job created here is found", registerJob("j-new", api.DefaultNamespace), http.MethodGet, "/api/v1/orchestrator/jobs/j-new", "read", http.StatusOK},
		{"a job created here is listed", registerJob("j-listed", api.DefaultNamespace), http.MethodGet, "/api/v1/orchestrator/jobs/j-listed/history", "read", http.StatusOK},
		// A revoked token is then unknown here, and an unknown token makes
		// the middleware ask the leader (test/acl); a new one is found.
		{"a token created here is accepted", &fsm.ACLTokenCreateRequest{Token: &api.ACLToken{AccessorID: "acc-new", Name: "new", Role: api.RoleRead},
			SecretHash: auth.HashSecret("secret-new"), Now: time.Now().UnixNano()},
			http.MethodGet, "/api/v1/orchestrator/jobs", "new", http.StatusOK},
		{"a node registered here may watch", &fsm.NodeRegisterRequest{Node: &api.NodeInfo{NodeID: "n-new", NodeType: api.NodeTypeCompute, Labels: map[string]string{},
			ComputeNodeInfo: &api.ComputeNodeInfo{ExecutionEngines: []string{"noop"}, MaxCapacity: api.Resources{CPU: 4}}}, Now: time.Now().UnixNano()},
			http.MethodGet, "/api/v1/compute/nodes/n-new/executions", "node", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newACLTestServer(t)
			ts.tokens["new"] = "secret-new"
			ts.s.relay(context.Background(), httptest.NewRecorder(), &forwarded{status: http.StatusOK,
				header: http.Header{headerIndex: {fmt.Sprint(ts.index + 1)}}, body: []byte(`{}`)})

			read := func(ctx context.Context) *httptest.ResponseRecorder {
				r := httptest.NewRequest(tt.method, tt.target, nil).WithContext(ctx)
				r.Header.Set("Authorization", "Bearer "+ts.tokens[tt.who])
				w := httptest.NewRecorder()
				ts.h.ServeHTTP(w, r)
				return w
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if w := read(ctx); w.Code != http.StatusServiceUnavailable {
				t.Fatalf("before the write is applied: %d %s, want 503", w.Code, w.Body)
			}

			done := make(chan *httptest.ResponseRecorder, 1)
			go func() { done <- read(context.Background()) }()
			select {
			case w := <-done:
				t.Fatalf("answered before the write was applied: %d %s", w.Code, w.Body)
			case <-time.After(50 * time.Millisecond):
			}
			ts.apply(tt.write)
			select {
			case w := <-done:
				if w.Code != tt.want {
					t.Fatalf("after the write: %d %s, want %d", w.Code, w.Body, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the read did not end once the write was applied")
			}
		})
	}
}

// TestForwardedWriteWaitsOnlyFarAhead: a write relayed while this replica is
// within maxFloorDebt entries of it is answered at once; one further ahead
// waits until the replica is back within that distance.
func TestForwardedWriteWaitsOnlyFarAhead(t *testing.T) {
	ts := newACLTestServer(t)
	answer := func(index uint64) *forwarded {
		return &forwarded{status: http.StatusOK, header: http.Header{headerIndex: {fmt.Sprint(index)}}, body: []byte(`{}`)}
	}
	near := ts.index + maxFloorDebt
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.s.relay(ctx, httptest.NewRecorder(), answer(near))
	if got := ts.s.ackFloor.Load(); got != near {
		t.Fatalf("floor %d after a write %d entries ahead, want %d", got, maxFloorDebt, near)
	}

	far := ts.index + maxFloorDebt + 2
	done := make(chan struct{})
	go func() {
		ts.s.relay(context.Background(), httptest.NewRecorder(), answer(far))
		close(done)
	}()
	for i := range 2 {
		select {
		case <-done:
			t.Fatalf("a write %d entries ahead was answered", maxFloorDebt+2-i)
		case <-time.After(50 * time.Millisecond):
		}
		ts.apply(registerJob(fmt.Sprintf("j-far-%d", i), api.DefaultNamespace))
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the write was not answered once the replica was back within the debt")
	}
	if got := ts.s.ackFloor.Load(); got != far {
		t.Fatalf("floor %d, want %d", got, far)
	}
}
