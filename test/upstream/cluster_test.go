package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/test/testcluster"
)

// env is a three-replica cluster with one compute node, and a follower to
// talk to.
type env struct {
	c        *testcluster.Cluster
	follower *testcluster.Process
	api      *client.Client
}

func newEnv(t *testing.T, computeNodes int) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := testcluster.Start(t, testcluster.Options{Replicas: 3, ComputeNodes: computeNodes,
		ComputeArgs: []string{"--engines", "wasm,noop"}})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	follower := c.Followers(leader)[0]
	cl, err := client.New([]string{follower.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, follower: follower, api: cl}
}

// nodes lists every node the follower knows, by NodeID.
func (e *env) nodes(t *testing.T) map[string]*api.NodeInfo {
	t.Helper()
	resp, _, err := e.api.Nodes().List(t.Context(), client.ListNodesOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*api.NodeInfo{}
	for _, n := range resp.Nodes {
		out[n.NodeID] = n
	}
	return out
}

// serveHelloWasm builds deploy/examples/hello-wasm and serves it at the
// returned URL.
func serveHelloWasm(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	out := filepath.Join(t.TempDir(), "hello.wasm")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-o", out, "./deploy/examples/hello-wasm")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build hello-wasm: %v\n%s", err, b)
	}
	module, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hello.wasm" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(module)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hello.wasm"
}
