package compute

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine/docker"
	"github.com/shoal-io/shoal/compute/internal/testutil"
	"github.com/shoal-io/shoal/compute/internal/wasmtest"
	"github.com/shoal-io/shoal/compute/testimage"
)

// fetchTarball downloads a published result and returns its entries.
func fetchTarball(t *testing.T, published *api.SpecConfig) map[string]string {
	t.Helper()
	if published == nil || published.Type != "urlDownload" {
		t.Fatalf("published result = %+v, want urlDownload", published)
	}
	url, _ := published.Params["URL"].(string)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[hdr.Name] = string(data)
	}
}

func fetchLogs(t *testing.T, url string) []api.ExecutionLog {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []api.ExecutionLog
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l api.ExecutionLog
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func inline(content, target string) *api.InputSource {
	return &api.InputSource{Target: target, Source: &api.SpecConfig{Type: "inline",
		Params: map[string]any{"URL": "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte(content))}}}
}

func TestNodeRunsWasm(t *testing.T) {
	module := wasmtest.Build(t, wasmtest.Program)
	moduleSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, module)
	}))
	defer moduleSrv.Close()

	orch := newFakeOrchestrator()
	tn := startNode(t, orch, func(c *Config) { c.Engines = []string{"wasm"} })
	wasmJob := func(id string, args ...any) *api.Job {
		return newJob("j-"+id, api.JobTypeBatch, &api.Task{
			Name: "main",
			Engine: &api.SpecConfig{Type: "wasm", Params: map[string]any{
				"EntryModule": map[string]any{"Source": map[string]any{"Type": "urlDownload",
					"Params": map[string]any{"URL": moduleSrv.URL + "/main.wasm"}}, "Target": "/app/main.wasm"},
				"Parameters":           args,
				"EnvironmentVariables": map[string]any{"GREETING": "hi"},
			}},
			Publisher:    &api.SpecConfig{Type: "local"},
			InputSources: []*api.InputSource{inline("some data\n", "/inputs/data.txt")},
			ResultPaths:  []*api.ResultPath{{Name: "outputs", Path: "/outputs"}},
		})
	}
	orch.add(assigned("e-ok", wasmJob("ok", "hello"), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
	orch.add(assigned("e-fail", wasmJob("fail", "fail"), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))

	ex := orch.waitState(t, "e-ok", api.ExecutionStateCompleted)
	wantStdout := "args: main.wasm hello\nenv: hi\ninput: some data\n"
	if ex.RunOutput == nil || ex.RunOutput.STDOUT != wantStdout || ex.RunOutput.STDERR != "to stderr\n" || ex.RunOutput.ExitCode != 0 {
		t.Errorf("RunOutput = %+v", ex.RunOutput)
	}
	if url := ex.PublishedResult.Params["URL"]; url != tn.url+"/results/e-ok.tar.gz" {
		t.Errorf("published URL = %v", url)
	}
	entries := fetchTarball(t, ex.PublishedResult)
	want := map[string]string{"stdout": wantStdout, "stderr": "to stderr\n", "exitCode": "0",
		"outputs/": "", "outputs/result.txt": "result of some data\n"}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("tarball = %v, want %v", entries, want)
	}
	logs := fetchLogs(t, tn.url+"/logs/e-ok")
	wantLogs := []api.ExecutionLog{{Type: 1, Line: "args: main.wasm hello\n"}, {Type: 1, Line: "env: hi\n"},
		{Type: 1, Line: "input: some data\n"}, {Type: 2, Line: "to stderr\n"}}
	if !reflect.DeepEqual(logs, wantLogs) {
		t.Errorf("logs = %+v", logs)
	}

	ex = orch.waitState(t, "e-fail", api.ExecutionStateFailed)
	if ex.ComputeState.Message != "exit code 7" || ex.RunOutput == nil || ex.RunOutput.ExitCode != 7 ||
		!strings.HasPrefix(ex.RunOutput.STDOUT, "args: main.wasm fail\n") {
		t.Errorf("failed execution: state %+v, RunOutput %+v", ex.ComputeState, ex.RunOutput)
	}
}

func TestNodeRunsDocker(t *testing.T) {
	ctx := context.Background()
	image := testimage.Build(ctx, t)
	cli := testimage.Client(ctx, t)
	shared := t.TempDir()
	if err := os.WriteFile(filepath.Join(shared, "b.txt"), []byte("local file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	orch := newFakeOrchestrator()
	// A node ID of its own: at start a node removes the containers its
	// ID left behind, and other tests' containers must not look like it.
	nodeID := "n-test-" + strings.ToLower(rand.Text()[:8])
	tn := startNode(t, orch, func(c *Config) {
		c.NodeID = nodeID
		c.Engines = []string{"docker"}
		c.MaxOutputBytes = 1000
		c.AllowedLocalPaths = []string{shared}
	})
	dockerJob := func(id, script string, mutate func(*api.Task)) *api.Job {
		task := &api.Task{
			Name: "main",
			Engine: &api.SpecConfig{Type: "docker", Params: map[string]any{
				"Image": image, "Entrypoint": []any{"/bin/sh", "-c"}, "Parameters": []any{script}}},
			Publisher: &api.SpecConfig{Type: "local"},
		}
		if mutate != nil {
			mutate(task)
		}
		return newJob("j-"+id, api.JobTypeBatch, task)
	}
	containers := func(id string) int {
		list, err := cli.ContainerList(ctx, container.ListOptions{All: true,
			Filters: filters.NewArgs(filters.Arg("label", docker.LabelExecution+"="+id))})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	t.Run("inputs, results and publishing", func(t *testing.T) {
		orch.add(assigned("e-ok", dockerJob("ok", "cat /inputs/a.txt /data/b.txt; cat /inputs/a.txt > /outputs/r.txt", func(task *api.Task) {
			task.InputSources = []*api.InputSource{inline("inline file\n", "/inputs/a.txt"),
				{Target: "/data", Source: &api.SpecConfig{Type: "localDirectory", Params: map[string]any{"SourcePath": shared}}}}
			task.ResultPaths = []*api.ResultPath{{Name: "outputs", Path: "/outputs"}}
		}), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
		ex := orch.waitState(t, "e-ok", api.ExecutionStateCompleted)
		if ex.RunOutput.STDOUT != "inline file\nlocal file\n" {
			t.Errorf("stdout = %q (stderr %q)", ex.RunOutput.STDOUT, ex.RunOutput.STDERR)
		}
		entries := fetchTarball(t, ex.PublishedResult)
		want := map[string]string{"stdout": "inline file\nlocal file\n", "stderr": "", "exitCode": "0",
			"outputs/": "", "outputs/r.txt": "inline file\n"}
		if !reflect.DeepEqual(entries, want) {
			t.Errorf("tarball = %v, want %v", entries, want)
		}
		if n := containers("e-ok"); n != 0 {
			t.Errorf("%d containers left", n)
		}
	})
	t.Run("non-zero exit fails", func(t *testing.T) {
		orch.add(assigned("e-exit", dockerJob("exit", "echo bye; exit 3", nil), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
		ex := orch.waitState(t, "e-exit", api.ExecutionStateFailed)
		if ex.ComputeState.Message != "exit code 3" || ex.RunOutput.ExitCode != 3 || ex.RunOutput.STDOUT != "bye\n" {
			t.Errorf("state %+v RunOutput %+v", ex.ComputeState, ex.RunOutput)
		}
	})
	t.Run("missing image fails clearly", func(t *testing.T) {
		orch.add(assigned("e-noimage", dockerJob("noimage", "true", func(task *api.Task) {
			task.Engine.Params["Image"] = "shoal-test-missing:nope"
		}), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
		ex := orch.waitState(t, "e-noimage", api.ExecutionStateFailed)
		want := `image "shoal-test-missing:nope" is not present on node ` + nodeID + ` and could not be pulled: `
		if !strings.HasPrefix(ex.ComputeState.Message, want) || ex.RunOutput.ErrorMsg != ex.ComputeState.Message {
			t.Errorf("message %q, RunOutput %+v", ex.ComputeState.Message, ex.RunOutput)
		}
	})
	t.Run("output truncated in RunOutput, whole in the tarball", func(t *testing.T) {
		orch.add(assigned("e-big", dockerJob("big", "yes abc | head -c 100000", nil), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
		ex := orch.waitState(t, "e-big", api.ExecutionStateCompleted)
		if len(ex.RunOutput.STDOUT) != 1000 || !ex.RunOutput.StdoutTruncated || ex.RunOutput.StderrTruncated {
			t.Errorf("RunOutput: %d bytes, truncated %v/%v", len(ex.RunOutput.STDOUT), ex.RunOutput.StdoutTruncated, ex.RunOutput.StderrTruncated)
		}
		if got := len(fetchTarball(t, ex.PublishedResult)["stdout"]); got != 100000 {
			t.Errorf("tarball stdout: %d bytes", got)
		}
	})
	t.Run("logs follow a running container", func(t *testing.T) {
		orch.add(assigned("e-logs", dockerJob("logs", "echo one; sleep 1; echo two >&2; sleep 1; echo three", nil),
			api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
		tn.waitPhase(t, "e-logs", phaseRunning)
		logs := fetchLogs(t, tn.url+"/logs/e-logs?follow=true")
		want := []api.ExecutionLog{{Type: 1, Line: "one\n"}, {Type: 2, Line: "two\n"}, {Type: 1, Line: "three\n"}}
		if !reflect.DeepEqual(logs, want) {
			t.Errorf("logs = %+v, want %+v", logs, want)
		}
		orch.waitState(t, "e-logs", api.ExecutionStateCompleted)
	})
	// Cancelled as soon as the container exists (often before it starts:
	// the create/start window) and once it really runs.
	for _, when := range []string{"created", "running"} {
		t.Run("cancel kills the container once "+when, func(t *testing.T) {
			id := "e-cancel-" + when
			orch.add(assigned(id, dockerJob(id, "echo started; sleep 300", nil), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
			tn.waitPhase(t, id, phaseRunning)
			testutil.Eventually(t, "the container to be "+when, func() bool {
				list, err := cli.ContainerList(ctx, container.ListOptions{All: true,
					Filters: filters.NewArgs(filters.Arg("label", docker.LabelExecution+"="+id))})
				return err == nil && len(list) == 1 && (when == "created" || list[0].State == "running")
			})
			orch.set(id, api.ExecutionStateCancelled, api.ExecutionDesiredStateStopped)
			tn.waitPhase(t, id, phaseUnknown)
			if n := containers(id); n != 0 {
				t.Errorf("%d containers left after cancel", n)
			}
			if got := strings.Join(states(orch.reportsFor(id)), ","); got != "AskForBidAccepted" {
				t.Errorf("reports = %s", got)
			}
		})
	}
}
