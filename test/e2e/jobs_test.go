package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/testimage"
)

const wasmSource = `package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	data, err := os.ReadFile("/inputs/data.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, "no input:", err)
		os.Exit(2)
	}
	fmt.Printf("hello from wasm %s, GREETING=%s\n", strings.Join(os.Args[1:], " "), os.Getenv("GREETING"))
	if err := os.WriteFile("/outputs/result.txt", []byte(strings.ToUpper(string(data))), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "no output:", err)
		os.Exit(3)
	}
}
`

func task(engine *api.SpecConfig) *api.Task {
	return &api.Task{Name: "main", Engine: engine, Resources: &api.ResourcesConfig{CPU: "100m", Memory: "64mb"}}
}

// One cluster runs every scenario: starting one per test would dominate the
// run time.
func TestJobsOnACluster(t *testing.T) {
	// The image first: cleanups run last-in first-out, so it is removed
	// after the cluster stopped and no compute node can start a container
	// from it any more.
	image := testimage.Build(context.Background(), t)
	e := newEnv(t)
	module := buildWasm(t, wasmSource)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/job.wasm":
			_, _ = w.Write(module)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(files.Close)

	t.Run("wasm batch job completes with output and results", func(t *testing.T) {
		job := &api.Job{Name: "wasm", Type: api.JobTypeBatch, Count: 1, Tasks: []*api.Task{task(&api.SpecConfig{Type: "wasm", Params: map[string]any{
			"EntryModule":          map[string]any{"Source": map[string]any{"Type": "urlDownload", "Params": map[string]any{"URL": files.URL + "/job.wasm"}}},
			"Parameters":           []string{"shoal", "test"},
			"EnvironmentVariables": map[string]string{"GREETING": "hi"},
		}})}}
		job.Tasks[0].InputSources = []*api.InputSource{{Target: "/inputs/data.txt",
			Source: &api.SpecConfig{Type: "inline", Params: map[string]any{"URL": "data:text/plain,shoal%20rocks"}}}}
		job.Tasks[0].Publisher = &api.SpecConfig{Type: "local"}
		job.Tasks[0].ResultPaths = []*api.ResultPath{{Name: "outputs", Path: "/outputs"}}
		id := e.submit(t, job)
		r := e.waitState(t, id, api.JobStateTypeCompleted, 3*time.Minute)
		done := executionsIn(r, api.ExecutionStateCompleted)
		if len(done) != 1 {
			t.Fatalf("completed executions: %s", describe(r))
		}
		x := done[0]
		if x.RunOutput == nil || x.RunOutput.STDOUT != "hello from wasm shoal test, GREETING=hi\n" || x.RunOutput.ExitCode != 0 {
			t.Fatalf("run output %+v", x.RunOutput)
		}
		if x.DesiredState.StateType != api.ExecutionDesiredStateStopped {
			t.Fatalf("desired state %v after completion", x.DesiredState)
		}
		assertBatchHistory(t, r, x.ID)
		res, _, err := e.api.Jobs().Results(context.Background(), id)
		if err != nil || len(res.Results) != 1 || res.Results[0].Type != "urlDownload" {
			t.Fatalf("results %+v %v", res, err)
		}
		got := e.download(t, id, x.ID)
		if got["outputs/result.txt"] != "SHOAL ROCKS" || got["stdout"] != x.RunOutput.STDOUT {
			t.Fatalf("result archive holds %v", got)
		}
	})

	t.Run("docker batch job completes with output and results", func(t *testing.T) {
		job := &api.Job{Name: "docker", Type: api.JobTypeBatch, Count: 1, Tasks: []*api.Task{task(&api.SpecConfig{Type: "docker", Params: map[string]any{
			"Image": image, "Entrypoint": []string{"/bin/sh", "-c"},
			"Parameters":           []string{"echo hello world; echo $GREETING; printf docker-result > /outputs/x.txt"},
			"EnvironmentVariables": []string{"GREETING=from docker"},
		}})}}
		job.Tasks[0].Publisher = &api.SpecConfig{Type: "local"}
		job.Tasks[0].ResultPaths = []*api.ResultPath{{Name: "outputs", Path: "/outputs"}}
		id := e.submit(t, job)
		r := e.waitState(t, id, api.JobStateTypeCompleted, 3*time.Minute)
		x := executionsIn(r, api.ExecutionStateCompleted)[0]
		if x.RunOutput.STDOUT != "hello world\nfrom docker\n" {
			t.Fatalf("stdout %q", x.RunOutput.STDOUT)
		}
		if got := e.download(t, id, x.ID); got["outputs/x.txt"] != "docker-result" {
			t.Fatalf("result archive holds %v", got)
		}
	})

	t.Run("a task that exits non-zero fails the execution, retries, then fails the job", func(t *testing.T) {
		job := &api.Job{Name: "exit-3", Type: api.JobTypeBatch, Count: 1, Tasks: []*api.Task{task(&api.SpecConfig{Type: "docker", Params: map[string]any{
			"Image": image, "Entrypoint": []string{"/bin/sh", "-c", "echo failing >&2; exit 3"},
		}})}}
		id := e.submit(t, job)
		r := e.waitState(t, id, api.JobStateTypeFailed, 3*time.Minute)
		failed := executionsIn(r, api.ExecutionStateFailed)
		if len(failed) < 2 {
			t.Fatalf("want retries before failing: %s", describe(r))
		}
		for _, x := range failed {
			if x.RunOutput == nil || x.RunOutput.ExitCode != 3 || x.RunOutput.STDERR != "failing\n" || !strings.Contains(x.ComputeState.Message, "exit code 3") {
				t.Fatalf("failed execution %+v %+v", x.ComputeState, x.RunOutput)
			}
		}
		if !strings.Contains(r.Job.State.Message, "exit code 3") {
			t.Fatalf("job message %q does not say why", r.Job.State.Message)
		}
	})

	t.Run("a job stopped while running cancels its execution", func(t *testing.T) {
		job := &api.Job{Name: "sleeper", Type: api.JobTypeBatch, Count: 1, Tasks: []*api.Task{task(&api.SpecConfig{Type: "docker", Params: map[string]any{
			"Image": image, "Entrypoint": []string{"sleep", "300"},
		}})}}
		id := e.submit(t, job)
		e.waitJob(t, id, 2*time.Minute, "a running execution", func(r *api.GetJobResponse) bool {
			return len(executionsIn(r, api.ExecutionStateBidAccepted)) == 1
		})
		if _, _, err := e.api.Jobs().Stop(context.Background(), id, "enough"); err != nil {
			t.Fatal(err)
		}
		r := e.waitJob(t, id, time.Minute, "stopped with its execution cancelled", func(r *api.GetJobResponse) bool {
			return r.Job.State.StateType == api.JobStateTypeStopped && len(executionsIn(r, api.ExecutionStateCancelled)) == 1
		})
		if r.Job.State.Message != "enough" {
			t.Fatalf("stop reason %q", r.Job.State.Message)
		}
		// Stopping again is harmless; a finished job cannot be stopped.
		if resp, _, err := e.api.Jobs().Stop(context.Background(), id, "again"); err != nil || resp.EvaluationID != "" {
			t.Fatalf("second stop: %+v %v", resp, err)
		}
	})

	t.Run("ops runs once on every matching node", func(t *testing.T) {
		job := &api.Job{Name: "ops", Type: api.JobTypeOps, Tasks: []*api.Task{task(&api.SpecConfig{Type: "noop"})}}
		id := e.submit(t, job)
		r := e.waitState(t, id, api.JobStateTypeCompleted, 2*time.Minute)
		nodes := map[string]bool{}
		for _, x := range executionsIn(r, api.ExecutionStateCompleted) {
			nodes[x.NodeID] = true
		}
		if len(nodes) != 2 || len(r.Executions.Executions) != 2 {
			t.Fatalf("ops executions: %s", describe(r))
		}
	})

	t.Run("constraints pick the matching node", func(t *testing.T) {
		job := &api.Job{Name: "zone-b", Type: api.JobTypeBatch, Count: 1,
			Constraints: []*api.LabelSelectorRequirement{{Key: "zone", Operator: "=", Values: []string{"b"}}},
			Tasks:       []*api.Task{task(&api.SpecConfig{Type: "noop"})}}
		id := e.submit(t, job)
		r := e.waitState(t, id, api.JobStateTypeCompleted, 2*time.Minute)
		if x := executionsIn(r, api.ExecutionStateCompleted); len(x) != 1 || x[0].NodeID != e.c.Computes[1].ID {
			t.Fatalf("ran on %s, want %s", describe(r), e.c.Computes[1].ID)
		}
	})

	t.Run("a job no node can take waits with the reason, then fails naming each node", func(t *testing.T) {
		for name, job := range map[string]*api.Job{
			"no label match": {Type: api.JobTypeBatch, Count: 1,
				Constraints: []*api.LabelSelectorRequirement{{Key: "zone", Operator: "=", Values: []string{"mars"}}},
				Tasks:       []*api.Task{task(&api.SpecConfig{Type: "noop"})}},
			"too big": {Type: api.JobTypeBatch, Count: 1, Tasks: []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "noop"},
				Resources: &api.ResourcesConfig{CPU: "1000", Memory: "64mb"}}}},
		} {
			t.Run(name, func(t *testing.T) {
				job.Tasks[0].Timeouts = &api.TimeoutConfig{QueueTimeout: 6}
				id := e.submit(t, job)
				e.waitJob(t, id, time.Minute, "a waiting message", func(r *api.GetJobResponse) bool {
					return r.Job.State.StateType == api.JobStateTypePending && r.Job.State.Message != ""
				})
				r := e.waitState(t, id, api.JobStateTypeFailed, 2*time.Minute)
				for _, n := range e.c.Computes {
					if !strings.Contains(r.Job.State.Message, n.ID) {
						t.Fatalf("failure message %q does not say why %s was rejected", r.Job.State.Message, n.ID)
					}
				}
				if len(r.Executions.Executions) != 0 {
					t.Fatalf("placed anyway: %s", describe(r))
				}
			})
		}
	})

	t.Run("daemon and service jobs keep running until stopped", func(t *testing.T) {
		daemon := e.submit(t, &api.Job{Name: "daemon", Type: api.JobTypeDaemon, Tasks: []*api.Task{task(&api.SpecConfig{Type: "docker", Params: map[string]any{
			"Image": image, "Entrypoint": []string{"sleep", "300"}}})}})
		service := e.submit(t, &api.Job{Name: "service", Type: api.JobTypeService, Count: 2, Tasks: []*api.Task{task(&api.SpecConfig{Type: "docker", Params: map[string]any{
			"Image": image, "Entrypoint": []string{"sleep", "300"}}})}})
		for id, want := range map[string]int{daemon: 2, service: 2} {
			e.waitJob(t, id, 2*time.Minute, "running executions", func(r *api.GetJobResponse) bool {
				return r.Job.State.StateType == api.JobStateTypeRunning && len(executionsIn(r, api.ExecutionStateBidAccepted)) == want
			})
		}
		if res, _, err := e.api.Jobs().Results(context.Background(), service); err == nil {
			t.Fatalf("results of a service job answered %+v, want an error", res)
		}
		for _, id := range []string{daemon, service} {
			if _, _, err := e.api.Jobs().Stop(context.Background(), id, ""); err != nil {
				t.Fatal(err)
			}
			e.waitJob(t, id, time.Minute, "stopped", func(r *api.GetJobResponse) bool {
				return r.Job.State.StateType == api.JobStateTypeStopped && len(executionsIn(r, api.ExecutionStateCancelled)) == 2
			})
		}
	})
}

// Upstream's daemons ignore nodes that join later (its issue #3826); ours
// follow membership.
func TestDaemonReachesNodesThatJoinLater(t *testing.T) {
	// The image first: cleanups run last-in first-out, so it is removed
	// after the cluster stopped and no compute node can start a container
	// from it any more.
	image := testimage.Build(context.Background(), t)
	e := newEnv(t)
	id := e.submit(t, &api.Job{Name: "daemon", Type: api.JobTypeDaemon, Tasks: []*api.Task{task(&api.SpecConfig{Type: "docker", Params: map[string]any{
		"Image": image, "Entrypoint": []string{"sleep", "300"}}})}})
	running := func(want int) func(r *api.GetJobResponse) bool {
		return func(r *api.GetJobResponse) bool {
			nodes := map[string]bool{}
			for _, x := range r.Executions.Executions {
				if !x.ComputeState.StateType.IsTerminal() {
					nodes[x.NodeID] = true
				}
			}
			return r.Job.State.StateType == api.JobStateTypeRunning && len(nodes) == want
		}
	}
	e.waitJob(t, id, 2*time.Minute, "a daemon on both nodes", running(2))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := e.c.AddCompute(ctx, "--labels", "zone=c"); err != nil {
		t.Fatal(err)
	}
	e.waitJob(t, id, 2*time.Minute, "the daemon on the new node too", running(3))
}

// assertBatchHistory checks the execution walked upstream's states for a
// batch job: 1→1, 1→2, 2→3, 3→3 (approved), 3→5, 5→7, and the job
// Pending→Pending (created), Pending→Running, Running→Completed.
func assertBatchHistory(t *testing.T, r *api.GetJobResponse, execID string) {
	t.Helper()
	var execSteps, jobSteps []string
	for _, h := range r.History.History {
		switch h.Type {
		case api.JobHistoryTypeExecutionLevel:
			if h.ExecutionID == execID {
				execSteps = append(execSteps, h.ExecutionState.Previous.String()+">"+h.ExecutionState.New.String())
			}
		case api.JobHistoryTypeJobLevel:
			jobSteps = append(jobSteps, h.JobState.Previous.String()+">"+h.JobState.New.String())
		}
	}
	wantExec := "New>New AskForBid>AskForBidAccepted AskForBidAccepted>AskForBidAccepted AskForBidAccepted>BidAccepted BidAccepted>Completed"
	if got := strings.Join(execSteps, " "); got != "New>New New>AskForBid "+wantExec[len("New>New "):] {
		t.Fatalf("execution history %s", got)
	}
	if got := strings.Join(jobSteps, " "); got != "Pending>Pending Pending>Running Running>Completed" {
		t.Fatalf("job history %s", got)
	}
}
