// Package acl_test checks ACLs on a real three-replica cluster started with
// --acl: every route × every kind of caller on every replica, admitted
// compute nodes, namespace limits, the clientkey handshake and revocation.
package acl_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/auth"
	"github.com/shoal-io/shoal/test/testcluster"
)

// revocationBound is how soon every replica must refuse a revoked token.
const revocationBound = 2 * time.Second

type env struct {
	t       *testing.T
	c       *testcluster.Cluster
	bin     string
	mgmt    string
	secrets map[string]string // caller -> secret ("" for none)
}

// call sends one request to a replica as a caller.
func (e *env) call(p *testcluster.Process, who, method, path string, body any) *testcluster.Response {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := p.DoAs(ctx, e.secrets[who], method, path, body)
	if err != nil {
		e.t.Fatalf("%s %s on %s as %s: %v", method, path, p.ID, who, err)
	}
	return r
}

// cli runs the shoal CLI against the cluster.
func (e *env) cli(token string, args ...string) []byte {
	e.t.Helper()
	var hosts []string
	for _, p := range e.c.Replicas {
		hosts = append(hosts, p.URL())
	}
	cmd := exec.Command(e.bin, append(args, "--api-host", strings.Join(hosts, ","))...)
	cmd.Env = append(os.Environ(), "SHOAL_TOKEN="+token)
	if e.c.TLS != nil {
		cmd.Env = append(cmd.Env, e.c.TLS.CLIEnv()...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("shoal %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

func (e *env) createToken(name, role string, extra ...string) string {
	e.t.Helper()
	var tok api.ACLToken
	out := e.cli(e.mgmt, append([]string{"acl", "token", "create", "--name", name, "--role", role, "--output", "json"}, extra...)...)
	if err := json.Unmarshal(out, &tok); err != nil || tok.SecretID == "" {
		e.t.Fatalf("token create answered %s (%v)", out, err)
	}
	return tok.SecretID
}

func noopJob(ns string) map[string]any {
	return map[string]any{"Job": map[string]any{
		"Name": "acl-" + ns, "Namespace": ns, "Type": "batch", "Count": 1,
		"Tasks": []map[string]any{{"Name": "main", "Engine": map[string]any{"Type": "noop"}}},
	}}
}

// withAndWithoutTLS runs a test on a plaintext cluster and on one with TLS
// on every connection.
func withAndWithoutTLS(t *testing.T, test func(t *testing.T, tls bool)) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "plaintext", true: "tls"}[tls], func(t *testing.T) { test(t, tls) })
	}
}

func startACLCluster(t *testing.T, tls bool) *env {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := testcluster.Start(t, testcluster.Options{
		Replicas:    3,
		TLS:         tls,
		ReplicaArgs: []string{"--acl", "--enable-debug", "--clientkey-ttl", "10m"},
	})
	bin, err := testcluster.Binary()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, c: c, bin: bin, secrets: map[string]string{"none": ""}}

	// Before the bootstrap nothing but the open routes answers.
	if r := e.call(c.Replicas[1], "none", "GET", "/api/v1/orchestrator/jobs", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("before bootstrap: %d %s", r.Status, r.Body)
	}
	var boot api.ACLToken
	if err := json.Unmarshal(e.cli("", "acl", "bootstrap", "--output", "json"), &boot); err != nil || boot.SecretID == "" || boot.AccessorID == "" || boot.Role != api.RoleManagement {
		t.Fatalf("bootstrap: %+v %v", boot, err)
	}
	e.mgmt = boot.SecretID
	for _, p := range c.Replicas {
		p.Token = e.mgmt
	}
	// A second bootstrap is refused, on any replica.
	for _, p := range c.Replicas {
		r := e.call(p, "none", "POST", "/api/v1/acl/bootstrap", nil)
		if r.Status != http.StatusConflict || !bytes.Contains(r.Body, []byte(api.CodeACLBootstrapped)) {
			t.Fatalf("second bootstrap on %s: %d %s", p.ID, r.Status, r.Body)
		}
	}
	e.secrets[api.RoleManagement] = e.mgmt
	for _, role := range []string{api.RoleRead, api.RoleSubmit, api.RoleOperator, api.RoleNode} {
		e.secrets[role] = e.createToken("matrix-"+role, role)
	}
	e.secrets["revoked"] = e.createToken("matrix-revoked", api.RoleManagement)
	var list []*api.ACLToken
	if err := json.Unmarshal(e.cli(e.mgmt, "acl", "token", "list", "--output", "json"), &list); err != nil {
		t.Fatal(err)
	}
	for _, tok := range list {
		if tok.SecretID != "" {
			t.Fatalf("token list shows a secret: %+v", tok)
		}
		if tok.Name == "matrix-revoked" {
			e.cli(e.mgmt, "acl", "token", "revoke", tok.AccessorID)
		}
	}
	if _, err := c.WaitDigestsEqual(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// matrixCase is one route of auth.Routes made concrete.
type matrixCase struct {
	method, path string
	body         any
	need         auth.Permission
}

// matrixCases turns every rule into a request that is harmless when
// allowed: unknown IDs, bodies the handler refuses after the check.
func matrixCases() []matrixCase {
	ids := strings.NewReplacer("{id}", "x-none", "{execution}", "e-none", "{method}", "clientkey", "{accessor}", "a-none")
	bodies := map[string]any{
		"PUT /api/v1/orchestrator/jobs":                  noopJob("default"),
		"POST /api/v1/orchestrator/jobs":                 noopJob("default"),
		"POST /api/v1/operator/raft/transfer-leadership": map[string]string{"ID": "nobody"},
		"PUT /api/v1/operator/snapshot":                  []byte("not a snapshot"),
		"PUT /api/v1/acl/tokens":                         map[string]string{"Name": "", "Role": "nope"},
		"PUT /api/v1/compute/nodes/{id}":                 map[string]any{},
		"POST /api/v1/compute/nodes/{id}/executions":     map[string]any{"Updates": []any{}},
		"POST /api/v1/auth/{method}":                     map[string]any{},
	}
	var out []matrixCase
	for key, need := range auth.Routes {
		method, pattern, _ := strings.Cut(key, " ")
		path := ids.Replace(pattern)
		if strings.HasSuffix(pattern, "/executions") && method == "GET" && strings.HasPrefix(pattern, "/api/v1/compute") {
			path += "?wait=1ms"
		}
		out = append(out, matrixCase{method, path, bodies[key], need})
	}
	out = append(out,
		matrixCase{"GET", "/metrics", nil, auth.Read},
		matrixCase{"GET", "/debug/pprof/", nil, auth.Operator},
	)
	sort.Slice(out, func(i, j int) bool { return out[i].method+out[i].path < out[j].method+out[j].path })
	return out
}

// TestRouteRoleMatrix sends every route as every kind of caller to every
// replica: no token and a revoked token get 401 Unauthenticated, a role the
// route does not allow gets 403 PermissionDenied naming the role needed,
// an allowed one reaches the handler.
func TestRouteRoleMatrix(t *testing.T) { withAndWithoutTLS(t, routeRoleMatrix) }

func routeRoleMatrix(t *testing.T, tls bool) {
	e := startACLCluster(t, tls)
	callers := []string{"none", api.RoleRead, api.RoleSubmit, api.RoleOperator, api.RoleManagement, api.RoleNode, "revoked"}
	checked := 0
	for _, mc := range matrixCases() {
		// A rule for a route this build does not serve (another branch's)
		// answers 404 to everyone who may see it.
		if r := e.call(e.c.Replicas[0], api.RoleManagement, mc.method, mc.path, mc.body); r.Status == http.StatusNotFound && bytes.Contains(r.Body, []byte(api.CodeRouteNotFound)) {
			t.Logf("skipping %s %s: not served by this build", mc.method, mc.path)
			continue
		}
		for _, p := range e.c.Replicas {
			for _, who := range callers {
				r := e.call(p, who, mc.method, mc.path, mc.body)
				checked++
				var body api.APIError
				_ = json.Unmarshal(r.Body, &body)
				where := fmt.Sprintf("%s %s on %s as %s: %d %s", mc.method, mc.path, p.ID, who, r.Status, r.Body)
				switch {
				case mc.need == auth.Replica && tls:
					// The test's client shows a cli.shoal certificate.
					if r.Status != http.StatusForbidden || body.Code != api.CodePermissionDenied {
						t.Errorf("a replica-only route let a client in: %s", where)
					}
				case mc.need == auth.Open || mc.need == auth.Replica:
					// The handshake answers its own 401 to a bad proof; only
					// an ACL refusal is wrong here.
					if body.Code == api.CodeUnauthenticated || body.Code == api.CodePermissionDenied {
						t.Errorf("open route refused: %s", where)
					}
				case who == "none" || who == "revoked":
					if r.Status != http.StatusUnauthorized || body.Code != api.CodeUnauthenticated {
						t.Errorf("want 401 Unauthenticated: %s", where)
					}
				case auth.Allows(who, mc.need):
					if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden {
						t.Errorf("allowed caller refused: %s", where)
					}
				default:
					if r.Status != http.StatusForbidden || body.Code != api.CodePermissionDenied || !strings.Contains(body.Message, auth.Needed(mc.need)) {
						t.Errorf("want 403 PermissionDenied naming %q: %s", auth.Needed(mc.need), where)
					}
				}
			}
		}
	}
	t.Logf("checked %d route × caller × replica combinations", checked)
	// Spot checks that do not lean on auth.Allows.
	for _, tc := range []struct {
		who, method, path string
		body              any
		want              int
	}{
		{api.RoleOperator, "PUT", "/api/v1/operator/snapshot", []byte("x"), http.StatusForbidden},
		{api.RoleSubmit, "GET", "/api/v1/operator/snapshot", nil, http.StatusForbidden},
		{api.RoleOperator, "GET", "/api/v1/operator/digest", nil, http.StatusOK},
		{api.RoleRead, "GET", "/metrics", nil, http.StatusOK},
		{api.RoleNode, "GET", "/api/v1/orchestrator/nodes", nil, http.StatusForbidden},
		{api.RoleRead, "PUT", "/api/v1/orchestrator/jobs", noopJob("default"), http.StatusForbidden},
		{api.RoleSubmit, "PUT", "/api/v1/orchestrator/jobs", noopJob("default"), http.StatusOK},
		{"none", "GET", "/api/v1/agent/alive", nil, http.StatusOK},
	} {
		for _, p := range e.c.Replicas {
			if r := e.call(p, tc.who, tc.method, tc.path, tc.body); r.Status != tc.want {
				t.Errorf("%s %s on %s as %s: %d, want %d: %s", tc.method, tc.path, p.ID, tc.who, r.Status, tc.want, r.Body)
			}
		}
	}
}

// TestRevocationAndExpiry revokes a token through one replica and expects
// every replica to refuse it within revocationBound, and a token with a
// short TTL to be refused everywhere once it expires.
func TestRevocationAndExpiry(t *testing.T) {
	e := startACLCluster(t, false)
	secret := e.createToken("short-lived", api.RoleRead)
	e.secrets["victim"] = secret
	var self api.ACLToken
	if err := json.Unmarshal(e.cli(secret, "acl", "token", "self", "--output", "json"), &self); err != nil || self.Name != "short-lived" || self.Role != api.RoleRead {
		t.Fatalf("token self: %+v %v", self, err)
	}
	for _, p := range e.c.Replicas {
		if r := e.call(p, "victim", "GET", "/api/v1/orchestrator/jobs", nil); r.Status != http.StatusOK {
			t.Fatalf("before revoke on %s: %d", p.ID, r.Status)
		}
	}
	if r := e.call(e.c.Replicas[2], api.RoleManagement, "DELETE", "/api/v1/acl/tokens/"+self.AccessorID, nil); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	revoked := time.Now()
	for _, p := range e.c.Replicas {
		for {
			r := e.call(p, "victim", "GET", "/api/v1/orchestrator/jobs", nil)
			if r.Status == http.StatusUnauthorized {
				t.Logf("%s refuses the revoked token after %s", p.ID, time.Since(revoked).Round(time.Millisecond))
				break
			}
			if time.Since(revoked) > revocationBound {
				t.Fatalf("%s still accepts a token revoked %s ago", p.ID, time.Since(revoked))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	e.secrets["ttl"] = e.createToken("ttl", api.RoleRead, "--ttl", "3s")
	for _, p := range e.c.Replicas {
		if r := e.call(p, "ttl", "GET", "/api/v1/orchestrator/jobs", nil); r.Status != http.StatusOK {
			t.Fatalf("fresh TTL token on %s: %d", p.ID, r.Status)
		}
	}
	time.Sleep(3 * time.Second)
	for _, p := range e.c.Replicas {
		if r := e.call(p, "ttl", "GET", "/api/v1/orchestrator/jobs", nil); r.Status != http.StatusUnauthorized || !bytes.Contains(r.Body, []byte("expired")) {
			t.Fatalf("expired token on %s: %d %s", p.ID, r.Status, r.Body)
		}
	}
}

// TestAdmittedComputeNodes: a compute node with a node token registers and
// runs a job; one without is in gossip but never listed and never gets
// work; a node may not report another node's execution; a namespaced
// submit token stays in its namespace.
func TestAdmittedComputeNodesAndNamespaces(t *testing.T) {
	withAndWithoutTLS(t, admittedComputeNodesAndNamespaces)
}

func admittedComputeNodesAndNamespaces(t *testing.T, tls bool) {
	e := startACLCluster(t, tls)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nodeSecret := e.secrets[api.RoleNode]
	if _, err := e.c.AddCompute(ctx, "--engines", "noop", "--node-token", nodeSecret); err != nil {
		t.Fatalf("compute node with a token: %v", err)
	}
	shortCtx, cancelShort := context.WithTimeout(ctx, 6*time.Second)
	stranger, err := e.c.AddCompute(shortCtx, "--engines", "noop")
	cancelShort()
	if err == nil {
		t.Fatal("a compute node without a node token was admitted")
	}
	if !stranger.Running() {
		t.Fatal("the refused compute node exited instead of waiting")
	}
	var nodes api.ListNodesResponse
	if err := e.call(e.c.Replicas[0], api.RoleRead, "GET", "/api/v1/orchestrator/nodes", nil).Decode(&nodes); err != nil {
		t.Fatal(err)
	}
	if len(nodes.Nodes) != 1 || nodes.Nodes[0].NodeID != "c1" {
		t.Fatalf("listed nodes: %+v, want only c1", nodes.Nodes)
	}

	// Jobs land on the admitted node only; run a few to give the stranger a
	// chance.
	var ids []string
	for range 3 {
		var put api.PutJobResponse
		if err := e.call(e.c.Replicas[1], api.RoleSubmit, "PUT", "/api/v1/orchestrator/jobs", noopJob("default")).Decode(&put); err != nil || put.JobID == "" {
			t.Fatalf("submit: %+v %v", put, err)
		}
		ids = append(ids, put.JobID)
	}
	for _, id := range ids {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var execs api.ListJobExecutionsResponse
			r := e.call(e.c.Replicas[2], api.RoleRead, "GET", "/api/v1/orchestrator/jobs/"+id+"/executions", nil)
			if err := r.Decode(&execs); err != nil {
				t.Fatal(err)
			}
			done := false
			for _, x := range execs.Executions {
				if x.NodeID != "c1" {
					t.Fatalf("job %s placed on %s", id, x.NodeID)
				}
				done = done || x.ComputeState.StateType == api.ExecutionStateCompleted
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s did not complete: %s", id, r.Body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// A node reporting an execution placed on another node is refused.
	var execs api.ListJobExecutionsResponse
	if err := e.call(e.c.Replicas[0], api.RoleRead, "GET", "/api/v1/orchestrator/jobs/"+ids[0]+"/executions", nil).Decode(&execs); err != nil || len(execs.Executions) == 0 {
		t.Fatalf("executions: %v", err)
	}
	report := map[string]any{"Updates": []map[string]any{{"ExecutionID": execs.Executions[0].ID, "ComputeState": "Failed"}}}
	for _, p := range e.c.Replicas {
		if r := e.call(p, api.RoleNode, "POST", "/api/v1/compute/nodes/c2/executions", report); r.Status != http.StatusForbidden {
			t.Fatalf("c2 reporting c1's execution on %s: %d %s", p.ID, r.Status, r.Body)
		}
	}

	// Namespaces.
	e.secrets["team-a"] = e.createToken("team-a", api.RoleSubmit, "--namespace", "team-a")
	var own api.PutJobResponse
	if r := e.call(e.c.Replicas[2], "team-a", "PUT", "/api/v1/orchestrator/jobs", noopJob("team-a")); r.Decode(&own) != nil || own.JobID == "" {
		t.Fatalf("submit in own namespace: %d %s", r.Status, r.Body)
	}
	for _, p := range e.c.Replicas {
		if r := e.call(p, "team-a", "PUT", "/api/v1/orchestrator/jobs", noopJob("default")); r.Status != http.StatusForbidden {
			t.Fatalf("submit into another namespace on %s: %d %s", p.ID, r.Status, r.Body)
		}
		// DELETE, and POST as upstream's CLI sends its stops.
		for _, method := range []string{"DELETE", "POST"} {
			if r := e.call(p, "team-a", method, "/api/v1/orchestrator/jobs/"+ids[0], nil); r.Status != http.StatusForbidden {
				t.Fatalf("stop (%s) of another namespace's job on %s: %d %s", method, p.ID, r.Status, r.Body)
			}
		}
	}
	// The noop job may already have completed: a 409 for its state still
	// shows the stop got past the namespace check to the job store.
	if r := e.call(e.c.Replicas[1], "team-a", "DELETE", "/api/v1/orchestrator/jobs/"+own.JobID, nil); r.Status != http.StatusOK &&
		!(r.Status == http.StatusConflict && strings.Contains(string(r.Body), api.CodeConflictJobState)) {
		t.Fatalf("stop of own job: %d %s", r.Status, r.Body)
	}
}

// TestClientKeyHandshake: a verified client key gets a submit token any
// replica honours; revoking it revokes the key.
func TestClientKeyHandshake(t *testing.T) {
	e := startACLCluster(t, false)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	handshake := func(p *testcluster.Process) *testcluster.Response {
		var req struct {
			Params map[string]any `json:"Params"`
		}
		if err := e.call(p, "none", "GET", "/api/v1/auth/clientkey", nil).Decode(&req); err != nil {
			t.Fatal(err)
		}
		phrase, _ := req.Params["InputPhrase"].(string)
		raw, err := jsonBytes(phrase)
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256(raw)
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		proof, _ := json.Marshal(map[string]any{"PhraseSignature": sig, "PublicKey": x509.MarshalPKCS1PublicKey(&key.PublicKey)})
		return e.call(p, "none", "POST", "/api/v1/auth/clientkey", map[string]any{"Name": "clientkey", "MethodData": proof})
	}
	var got struct {
		Authentication struct {
			Success bool   `json:"success"`
			Token   string `json:"token"`
		} `json:"Authentication"`
	}
	if err := handshake(e.c.Replicas[1]).Decode(&got); err != nil || !got.Authentication.Success {
		t.Fatalf("handshake: %+v %v", got, err)
	}
	e.secrets["clientkey"] = got.Authentication.Token
	for _, p := range e.c.Replicas {
		if r := e.call(p, "clientkey", "PUT", "/api/v1/orchestrator/jobs", noopJob("default")); r.Status != http.StatusOK {
			t.Fatalf("clientkey token creating on %s: %d %s", p.ID, r.Status, r.Body)
		}
		if r := e.call(p, "clientkey", "GET", "/api/v1/acl/tokens", nil); r.Status != http.StatusForbidden {
			t.Fatalf("clientkey token (submit) listing tokens on %s: %d", p.ID, r.Status)
		}
	}
	var self api.ACLToken
	if err := e.call(e.c.Replicas[0], "clientkey", "GET", "/api/v1/acl/token/self", nil).Decode(&self); err != nil || self.ClientKey == "" || self.Role != api.RoleSubmit || self.ExpirationTime == 0 {
		t.Fatalf("clientkey token self: %+v %v", self, err)
	}
	out := e.cli(e.mgmt, "acl", "token", "revoke", self.AccessorID)
	if !bytes.Contains(out, []byte("client key")) {
		t.Fatalf("revoke output: %s", out)
	}
	deadline := time.Now().Add(revocationBound)
	for _, p := range e.c.Replicas {
		for e.call(p, "clientkey", "GET", "/api/v1/orchestrator/jobs", nil).Status != http.StatusUnauthorized {
			if time.Now().After(deadline) {
				t.Fatalf("%s still honours a revoked client key's token", p.ID)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if r := handshake(e.c.Replicas[2]); r.Status != http.StatusUnauthorized || !bytes.Contains(r.Body, []byte("revoked")) {
		t.Fatalf("handshake with a revoked key: %d %s", r.Status, r.Body)
	}
}

// jsonBytes is what the client signs: the phrase as the server encoded it
// (a []byte travels as base64).
func jsonBytes(b64 string) ([]byte, error) {
	var out []byte
	err := json.Unmarshal([]byte(`"`+b64+`"`), &out)
	return out, err
}
