// Package e2e_test runs jobs on a real cluster — three replicas and two
// compute nodes on loopback, Docker and WebAssembly engines — and checks
// what a user reads back: states, executions, history, output and results.
package e2e_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/test/testcluster"
)

type env struct {
	c   *testcluster.Cluster
	api *client.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster with compute nodes")
	}
	c := testcluster.Start(t, testcluster.Options{
		Replicas:     3,
		ComputeNodes: 2,
		ComputeArgs:  []string{"--engines", "docker,wasm,noop"},
		PerCompute: map[int][]string{
			0: {"--labels", "zone=a,disk=ssd"},
			1: {"--labels", "zone=b"},
		},
	})
	var urls []string
	for _, p := range c.Replicas {
		urls = append(urls, p.URL())
	}
	cl, err := client.New(urls)
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, api: cl}
}

func (e *env) submit(t *testing.T, job *api.Job) string {
	t.Helper()
	resp, _, err := e.api.Jobs().Put(context.Background(), &api.PutJobRequest{Job: job})
	if err != nil {
		t.Fatalf("submit %s: %v", job.Name, err)
	}
	return resp.JobID
}

// waitJob waits, with blocking queries, until cond holds for the job.
func (e *env) waitJob(t *testing.T, id string, timeout time.Duration, what string, cond func(*api.GetJobResponse) bool) *api.GetJobResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var index uint64
	var last *api.GetJobResponse
	for {
		resp, meta, err := e.api.Jobs().Get(ctx, id, client.GetJobOptions{Include: []string{"executions", "history"}, WaitIndex: index, WaitTime: 10 * time.Second})
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				t.Fatalf("job %s: timed out waiting for %s; last seen: %s", id, what, describe(last))
			}
			t.Fatalf("job %s: %v", id, err)
		}
		last = resp
		if cond(resp) {
			return resp
		}
		index = meta.Index
	}
}

func (e *env) waitState(t *testing.T, id string, want api.JobStateType, timeout time.Duration) *api.GetJobResponse {
	t.Helper()
	return e.waitJob(t, id, timeout, "state "+want.String(), func(r *api.GetJobResponse) bool {
		if r.Job.State.StateType.IsTerminal() && r.Job.State.StateType != want {
			t.Fatalf("job %s ended %s, want %s: %s", id, r.Job.State.StateType, want, describe(r))
		}
		return r.Job.State.StateType == want
	})
}

func describe(r *api.GetJobResponse) string {
	if r == nil {
		return "nothing"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q;", r.Job.State.StateType, r.Job.State.Message)
	if r.Executions != nil {
		for _, x := range r.Executions.Executions {
			fmt.Fprintf(&b, " [%s on %s: %s %q / desired %s]", api.ShortID(x.ID), x.NodeID, x.ComputeState.StateType,
				x.ComputeState.Message, x.DesiredState.StateType)
		}
	}
	return b.String()
}

func executionsIn(r *api.GetJobResponse, state api.ExecutionStateType) []*api.Execution {
	var out []*api.Execution
	for _, x := range r.Executions.Executions {
		if x.ComputeState.StateType == state {
			out = append(out, x)
		}
	}
	return out
}

// download fetches a urlDownload result through the replica relay and
// returns the archive's files.
func (e *env) download(t *testing.T, jobID, execID string) map[string]string {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		_, err := e.api.Do(context.Background(), http.MethodGet, "/api/v1/orchestrator/jobs/"+jobID+"/executions/"+execID+"/result", nil, nil, pw)
		pw.CloseWithError(err)
	}()
	files, err := untar(pr)
	if err != nil {
		t.Fatalf("result of %s: %v", execID, err)
	}
	return files
}

func untar(r io.Reader) (map[string]string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			files[strings.TrimPrefix(h.Name, "./")] = string(b)
		}
	}
}

// buildWasm compiles a Go program for WASI.
func buildWasm(t *testing.T, src string) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module wasmjob\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "job.wasm")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build wasm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
