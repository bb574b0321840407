package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/auth"
	"github.com/shoal-io/shoal/fsm"
)

// aclTestServer is a replica without Raft: enough for the middleware, which
// reads only the state store. Handlers that need Raft are never reached by
// refused requests, which is what these tests check. Unknown and revoked
// tokens make the middleware ask the leader, so test/acl checks those.
type aclTestServer struct {
	t      *testing.T
	s      *Server
	h      http.Handler
	index  uint64
	tokens map[string]string // name -> secret
}

func newACLTestServer(t *testing.T) *aclTestServer {
	s := &Server{cfg: Config{ACL: true, EnableDebug: true, MaxBodyBytes: 1 << 20, MaxSnapshotBytes: 1 << 20}, logger: slog.New(slog.DiscardHandler), fsm: fsm.New(fsm.Config{})}
	s.metrics = newMetrics(s)
	ts := &aclTestServer{t: t, s: s, h: s.router(), tokens: map[string]string{}}
	for _, tc := range []struct{ name, role, ns string }{
		{"read", api.RoleRead, ""}, {"submit", api.RoleSubmit, ""}, {"team-a", api.RoleSubmit, "team-a"},
		{"operator", api.RoleOperator, ""}, {"management", api.RoleManagement, ""}, {"node", api.RoleNode, ""},
		{"revoked", api.RoleManagement, ""},
	} {
		ts.token(tc.name, tc.role, tc.ns, 0)
	}
	ts.token("expired", api.RoleManagement, "", time.Now().Add(-time.Second).UnixNano())
	ts.apply(&fsm.ACLTokenDeleteRequest{AccessorID: "acc-revoked", Now: time.Now().UnixNano()})
	for _, j := range []struct{ id, ns string }{{"j-default", api.DefaultNamespace}, {"j-team-a", "team-a"}} {
		ts.apply(registerJob(j.id, j.ns))
	}
	ts.apply(&fsm.NodeRegisterRequest{Node: &api.NodeInfo{NodeID: "n-1", NodeType: api.NodeTypeCompute, Labels: map[string]string{},
		ComputeNodeInfo: &api.ComputeNodeInfo{ExecutionEngines: []string{"noop"}, MaxCapacity: api.Resources{CPU: 4}}}, Now: time.Now().UnixNano()})
	ts.apply(&fsm.Plan{EvalID: "ev-j-default", JobID: "j-default", JobRevision: 1, EvalStatus: api.EvalStatusComplete, Now: time.Now().UnixNano(),
		NewExecutions: []*api.Execution{{ID: "e-1", JobID: "j-default", Namespace: api.DefaultNamespace, NodeID: "n-1", EvalID: "ev-j-default",
			DesiredState: api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateRunning},
			ComputeState: api.State[api.ExecutionStateType]{StateType: api.ExecutionStateBidAccepted}}}})
	return ts
}

// registerJob is the command that creates a pending noop batch job.
func registerJob(id, ns string) fsm.Command {
	return &fsm.JobRegisterRequest{Job: &api.Job{ID: id, Name: id, Namespace: ns, Type: api.JobTypeBatch, Count: 1,
		Meta: map[string]string{}, Labels: map[string]string{}, Tasks: []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "noop"}}},
		State: api.State[api.JobStateType]{StateType: api.JobStateTypePending}, Revision: 1}, EvalID: "ev-" + id, Now: time.Now().UnixNano()}
}

func (ts *aclTestServer) apply(cmd fsm.Command) {
	ts.t.Helper()
	data, err := fsm.Encode(cmd)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.index++
	if res, ok := ts.s.fsm.Apply(&raft.Log{Index: ts.index, Term: 1, Type: raft.LogCommand, Data: data}).(fsm.Result); !ok || res.Err != nil {
		ts.t.Fatalf("apply %s: %+v", cmd.MessageType(), res)
	}
}

func (ts *aclTestServer) token(name, role, ns string, expires int64) {
	secret := "secret-" + name
	ts.tokens[name] = secret
	ts.apply(&fsm.ACLTokenCreateRequest{Token: &api.ACLToken{AccessorID: "acc-" + name, Name: name, Role: role, Namespace: ns, ExpirationTime: expires},
		SecretHash: auth.HashSecret(secret), Now: time.Now().UnixNano()})
}

func (ts *aclTestServer) do(method, target, who, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if who != "" {
		r.Header.Set("Authorization", "Bearer "+ts.tokens[who])
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	ts.h.ServeHTTP(w, r)
	return w
}

// TestEveryRouteHasARule walks the real router: a route added without a
// rule in auth.Routes would be closed to everyone, so it fails here first.
func TestEveryRouteHasARule(t *testing.T) {
	ts := newACLTestServer(t)
	err := chi.Walk(ts.s.apiRouter(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.Replace(route, "/*/", "/", 1)
		if auth.Lookup(method, route) == auth.Deny {
			t.Errorf("%s %s has no rule in auth.Routes", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestACLMiddleware(t *testing.T) {
	ts := newACLTestServer(t)
	jobBody := func(ns string) string {
		return `{"Job":{"Name":"x","Namespace":"` + ns + `","Type":"batch","Count":1,"Tasks":[{"Name":"main","Engine":{"Type":"noop"}}]}}`
	}
	const pass = 0 // reached the handler: neither 401 nor 403
	tests := []struct {
		name, method, target, who, body string
		want                            int
		code                            string
	}{
		{"alive is open", "GET", "/api/v1/agent/alive", "", "", http.StatusOK, ""},
		{"auth methods open", "GET", "/api/v1/auth", "", "", http.StatusOK, ""},
		{"no token", "GET", "/api/v1/orchestrator/jobs", "", "", http.StatusUnauthorized, api.CodeUnauthenticated},
		{"expired", "GET", "/api/v1/orchestrator/jobs", "expired", "", http.StatusUnauthorized, api.CodeUnauthenticated},
		{"unknown route needs a token", "GET", "/api/v1/nope", "", "", http.StatusUnauthorized, api.CodeUnauthenticated},
		{"unknown route with token", "GET", "/api/v1/nope", "read", "", http.StatusNotFound, api.CodeRouteNotFound},
		{"read lists", "GET", "/api/v1/orchestrator/jobs", "read", "", http.StatusOK, ""},
		{"node may not read jobs", "GET", "/api/v1/orchestrator/jobs", "node", "", http.StatusForbidden, api.CodePermissionDenied},
		{"read may not create", "PUT", "/api/v1/orchestrator/jobs", "read", jobBody("default"), http.StatusForbidden, api.CodePermissionDenied},
		{"operator may not create", "PUT", "/api/v1/orchestrator/jobs", "operator", jobBody("default"), http.StatusForbidden, api.CodePermissionDenied},
		{"submit creates", "PUT", "/api/v1/orchestrator/jobs", "submit", jobBody("default"), pass, ""},
		{"namespaced submit in its namespace", "PUT", "/api/v1/orchestrator/jobs", "team-a", jobBody("team-a"), pass, ""},
		{"namespaced submit elsewhere", "PUT", "/api/v1/orchestrator/jobs", "team-a", jobBody("default"), http.StatusForbidden, api.CodePermissionDenied},
		{"namespaced submit, default namespace", "POST", "/api/v1/orchestrator/jobs", "team-a", jobBody(""), http.StatusForbidden, api.CodePermissionDenied},
		{"namespaced stop of own job", "DELETE", "/api/v1/orchestrator/jobs/j-team-a", "team-a", "", pass, ""},
		{"namespaced stop of another's job", "DELETE", "/api/v1/orchestrator/jobs/j-default", "team-a", "", http.StatusForbidden, api.CodePermissionDenied},
		{"metrics need a token", "GET", "/metrics", "", "", http.StatusUnauthorized, api.CodeUnauthenticated},
		{"metrics with read", "GET", "/metrics", "read", "", http.StatusOK, ""},
		{"pprof with read", "GET", "/debug/pprof/", "read", "", http.StatusForbidden, api.CodePermissionDenied},
		{"pprof with operator", "GET", "/debug/pprof/", "operator", "", http.StatusOK, ""},
		{"snapshot save with read", "GET", "/api/v1/operator/snapshot", "read", "", http.StatusForbidden, api.CodePermissionDenied},
		{"restore with operator", "PUT", "/api/v1/operator/snapshot", "operator", "x", http.StatusForbidden, api.CodePermissionDenied},
		{"peer removal with operator", "DELETE", "/api/v1/operator/raft/peers/x", "operator", "", http.StatusForbidden, api.CodePermissionDenied},
		{"token list with operator", "GET", "/api/v1/acl/tokens", "operator", "", http.StatusForbidden, api.CodePermissionDenied},
		{"token list with management", "GET", "/api/v1/acl/tokens", "management", "", http.StatusOK, ""},
		{"token self", "GET", "/api/v1/acl/token/self", "node", "", http.StatusOK, ""},
		{"token self without token", "GET", "/api/v1/acl/token/self", "", "", http.StatusUnauthorized, api.CodeUnauthenticated},
		{"submit may not register a node", "PUT", "/api/v1/compute/nodes/n-2", "submit", "{}", http.StatusForbidden, api.CodePermissionDenied},
		{"node watches", "GET", "/api/v1/compute/nodes/n-1/executions?wait=1ms", "node", "", http.StatusOK, ""},
		{"node reports own execution", "POST", "/api/v1/compute/nodes/n-1/executions", "node", `{"Updates":[{"ExecutionID":"e-1"}]}`, pass, ""},
		{"node reports another node's execution", "POST", "/api/v1/compute/nodes/n-2/executions", "node", `{"Updates":[{"ExecutionID":"e-1"}]}`, http.StatusForbidden, api.CodePermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ts.do(tt.method, tt.target, tt.who, tt.body)
			if tt.want == pass {
				if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
					t.Fatalf("refused with %d: %s", w.Code, w.Body)
				}
				return
			}
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.code != "" && !strings.Contains(w.Body.String(), `"Code":"`+tt.code+`"`) {
				t.Fatalf("body %s lacks Code %s", w.Body, tt.code)
			}
		})
	}
}

func TestACLWebsocketQueryToken(t *testing.T) {
	ts := newACLTestServer(t)
	target := "/api/v1/orchestrator/jobs/j-default/logs?access_token=" + ts.tokens["read"]
	// A plain GET may not carry its token in the URL.
	if w := ts.do("GET", target, "", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("plain GET with access_token: %d, want 401", w.Code)
	}
	w := ts.do("GET", target, "", "", "Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
		t.Fatalf("websocket upgrade with access_token refused: %d %s", w.Code, w.Body)
	}
}

func TestACLOffLeavesEverythingOpen(t *testing.T) {
	ts := newACLTestServer(t)
	ts.s.cfg.ACL = false
	h := ts.s.router()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/orchestrator/jobs", nil))
	if w.Code != http.StatusOK {
		body, _ := io.ReadAll(w.Body)
		t.Fatalf("ACLs off: %d %s", w.Code, body)
	}
}
