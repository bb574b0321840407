package compute

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/internal/testutil"
)

type testNode struct {
	*Node
	orch   *fakeOrchestrator
	url    string
	cancel context.CancelFunc
	done   chan error
}

// startNode runs a node against orch until the test ends.
func startNode(t *testing.T, orch *fakeOrchestrator, mutate func(*Config)) *testNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		NodeID:            "n1",
		DataDir:           t.TempDir(),
		Orchestrator:      orch,
		Engines:           []string{"noop"},
		Listener:          ln,
		WatchWait:         5 * time.Second,
		RetryBackoff:      5 * time.Millisecond,
		MaxRetryBackoff:   50 * time.Millisecond,
		InputRetryBackoff: time.Millisecond,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tn := &testNode{Node: n, orch: orch, url: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { tn.done <- n.Run(ctx) }()
	t.Cleanup(func() { tn.stop(t) })
	return tn
}

// stop ends Run and waits for it; it may be called more than once.
func (tn *testNode) stop(t *testing.T) {
	t.Helper()
	tn.cancel()
	select {
	case err, ok := <-tn.done:
		if ok {
			close(tn.done)
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		}
	case <-time.After(60 * time.Second):
		t.Error("Run did not return after its context ended")
	}
}

func (tn *testNode) phase(id string) phase { return tn.execs.view(id).phase }

func (tn *testNode) waitPhase(t *testing.T, id string, want phase) {
	t.Helper()
	testutil.Eventually(t, "execution "+id+" to be "+want.String()+" on the node", func() bool { return tn.phase(id) == want })
}

func newJob(id, typ string, task *api.Task) *api.Job {
	return &api.Job{ID: id, Name: id, Namespace: api.DefaultNamespace, Type: typ, Count: 1, Tasks: []*api.Task{task}}
}

func noopTask() *api.Task {
	return &api.Task{Name: "main", Engine: &api.SpecConfig{Type: "noop"}, Publisher: &api.SpecConfig{Type: ""}}
}

func assigned(id string, job *api.Job, cs api.ExecutionStateType, ds api.ExecutionDesiredStateType) *api.AssignedExecution {
	ex := &api.Execution{ID: id}
	if job != nil {
		ex.JobID, ex.Namespace = job.ID, job.Namespace
	}
	ex.ComputeState.StateType = cs
	ex.DesiredState.StateType = ds
	return &api.AssignedExecution{Execution: ex, Job: job}
}

func states(updates []api.ExecutionUpdate) []string {
	var out []string
	for _, u := range updates {
		out = append(out, u.ComputeState.String())
	}
	return out
}

// synced has the node answer one ask for a bid, so its first listing is
// behind it.
func (tn *testNode) synced(t *testing.T) {
	t.Helper()
	task := noopTask()
	task.Engine.Type = "unsupported"
	tn.orch.add(assigned("e-warmup", newJob("j-warmup", api.JobTypeBatch, task), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
	tn.orch.waitState(t, "e-warmup", api.ExecutionStateAskForBidRejected)
}

func TestNodeRunsNoopThroughTheBidCycle(t *testing.T) {
	orch := newFakeOrchestrator()
	tn := startNode(t, orch, nil)
	orch.add(assigned("e-1", newJob("j-1", api.JobTypeBatch, noopTask()), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
	ex := orch.waitState(t, "e-1", api.ExecutionStateCompleted)
	if ex.RunOutput == nil || ex.RunOutput.ExitCode != 0 || ex.RunOutput.STDOUT != "" {
		t.Errorf("RunOutput = %+v", ex.RunOutput)
	}
	if ex.PublishedResult == nil || ex.PublishedResult.Type != "" {
		t.Errorf("PublishedResult = %+v", ex.PublishedResult)
	}
	if got := strings.Join(states(orch.reportsFor("e-1")), ","); got != "AskForBidAccepted,Completed" {
		t.Errorf("reports = %s", got)
	}
	if orch.registrationCount() != 1 || orch.registrations[0].NodeID != "n1" {
		t.Errorf("registrations = %d", orch.registrationCount())
	}
	// The noop fast path leaves nothing on disk.
	if _, err := os.Stat(tn.execDir("e-1")); !os.IsNotExist(err) {
		t.Errorf("noop execution left a folder: %v", err)
	}
	// Once the cluster confirmed the end, the node forgets it.
	testutil.Eventually(t, "the node to forget e-1", func() bool { return tn.phase("e-1") == phaseUnknown })
}

func TestNodeRejectsBidsItCannotRun(t *testing.T) {
	orch := newFakeOrchestrator()
	startNode(t, orch, func(c *Config) { c.Engines = []string{"noop", "wasm"} })
	withTask := func(mutate func(*api.Task)) *api.Job {
		task := noopTask()
		mutate(task)
		return newJob("j", api.JobTypeBatch, task)
	}
	tests := []struct {
		id   string
		job  *api.Job
		want string
	}{
		{id: "e-engine", job: withTask(func(t *api.Task) { t.Engine.Type = "docker" }), want: `engine "docker" is not enabled on node n1`},
		{id: "e-publisher", job: withTask(func(t *api.Task) { t.Publisher.Type = "s3" }), want: `publisher "s3" is not supported`},
		{id: "e-input", job: withTask(func(t *api.Task) {
			t.InputSources = []*api.InputSource{{Source: &api.SpecConfig{Type: "ipfs"}, Target: "/in"}}
		}), want: `input source type "ipfs" is not supported`},
		{id: "e-notask", job: &api.Job{ID: "j", Type: api.JobTypeBatch}, want: "job has no task"},
		{id: "e-nojob", job: nil, want: "job has no task"},
		{id: "e-wasm-module", job: withTask(func(t *api.Task) {
			t.Engine = &api.SpecConfig{Type: "wasm", Params: map[string]any{"EntryModule": map[string]any{
				"Source": map[string]any{"Type": "ipfs", "Params": map[string]any{"CID": "Qm"}}}}}
		}), want: `EntryModule source type "ipfs" is not supported`},
		{id: "e-wasm-params", job: withTask(func(t *api.Task) { t.Engine = &api.SpecConfig{Type: "WASM"} }), want: "missing EntryModule"},
	}
	for _, tt := range tests {
		orch.add(assigned(tt.id, tt.job, api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			ex := orch.waitState(t, tt.id, api.ExecutionStateAskForBidRejected)
			if !strings.Contains(ex.ComputeState.Message, tt.want) {
				t.Fatalf("reason = %q, want it to contain %q", ex.ComputeState.Message, tt.want)
			}
		})
	}
}

func TestNodeRunsWorkPlacedRunning(t *testing.T) {
	orch := newFakeOrchestrator()
	tn := startNode(t, orch, nil)
	tn.synced(t)
	badTask := noopTask()
	badTask.Engine.Type = "docker"
	orch.add(assigned("e-ops", newJob("j-ops", api.JobTypeOps, noopTask()), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	orch.add(assigned("e-bad", newJob("j-bad", api.JobTypeOps, badTask), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	orch.waitState(t, "e-ops", api.ExecutionStateCompleted)
	ex := orch.waitState(t, "e-bad", api.ExecutionStateFailed)
	if !strings.Contains(ex.ComputeState.Message, `engine "docker" is not enabled`) {
		t.Errorf("failure message = %q", ex.ComputeState.Message)
	}
	if got := strings.Join(states(orch.reportsFor("e-ops")), ","); got != "Completed" {
		t.Errorf("ops reports = %s, want a single Completed", got)
	}
}

func TestNodeExecutionTimeout(t *testing.T) {
	orch := newFakeOrchestrator()
	startNode(t, orch, func(c *Config) { c.NoopDelay = time.Hour })
	task := noopTask()
	task.Timeouts = &api.TimeoutConfig{ExecutionTimeout: 1}
	orch.add(assigned("e-1", newJob("j-1", api.JobTypeBatch, task), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
	ex := orch.waitState(t, "e-1", api.ExecutionStateFailed)
	const want = "execution timed out after 1s"
	if ex.ComputeState.Message != want || ex.RunOutput == nil || ex.RunOutput.ErrorMsg != want {
		t.Fatalf("state %+v, RunOutput %+v; want %q", ex.ComputeState, ex.RunOutput, want)
	}
}

func TestNodeStopsWorkTheClusterGaveUpOn(t *testing.T) {
	tests := []struct {
		name string
		cs   api.ExecutionStateType
		ds   api.ExecutionDesiredStateType
	}{
		{name: "cancelled", cs: api.ExecutionStateCancelled, ds: api.ExecutionDesiredStateStopped},
		{name: "desired stopped", cs: api.ExecutionStateBidAccepted, ds: api.ExecutionDesiredStateStopped},
		{name: "failed: node declared lost", cs: api.ExecutionStateFailed, ds: api.ExecutionDesiredStateStopped},
	}
	orch := newFakeOrchestrator()
	tn := startNode(t, orch, func(c *Config) { c.NoopDelay = time.Hour })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "e-" + strings.ReplaceAll(tt.name, " ", "-")
			id = strings.NewReplacer(":", "").Replace(id)
			orch.add(assigned(id, newJob("j", api.JobTypeBatch, noopTask()), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
			tn.waitPhase(t, id, phaseRunning)
			orch.set(id, tt.cs, tt.ds)
			// The run ends (its goroutine drops the record) without a report.
			tn.waitPhase(t, id, phaseUnknown)
			if got := strings.Join(states(orch.reportsFor(id)), ","); got != "AskForBidAccepted" {
				t.Fatalf("reports = %s, want only the bid", got)
			}
		})
	}
}

func TestNodeRestart(t *testing.T) {
	orch := newFakeOrchestrator()
	dataDir := t.TempDir()
	withDir := func(c *Config) {
		c.DataDir = dataDir
		c.NoopDelay = time.Hour
	}
	first := startNode(t, orch, withDir)
	// Past its first listing, everything placed is new work to start.
	first.synced(t)
	orch.add(assigned("e-batch", newJob("j-batch", api.JobTypeBatch, noopTask()), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
	orch.add(assigned("e-ops", newJob("j-ops", api.JobTypeOps, noopTask()), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	orch.add(assigned("e-service", newJob("j-service", api.JobTypeService, noopTask()), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	orch.add(assigned("e-daemon", newJob("j-daemon", api.JobTypeDaemon, noopTask()), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	for _, id := range []string{"e-batch", "e-ops", "e-service", "e-daemon"} {
		first.waitPhase(t, id, phaseRunning)
	}
	first.stop(t)

	// A result saved by a run that ended just before the restart, whose
	// report never went out.
	saved := api.ExecutionUpdate{ExecutionID: "e-saved", ComputeState: api.ExecutionStateCompleted,
		RunOutput: &api.RunCommandResult{STDOUT: "saved\n"}}
	data, _ := json.Marshal(saved)
	if err := os.MkdirAll(filepath.Join(dataDir, "executions", "e-saved"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "executions", "e-saved", finalFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	orch.add(assigned("e-saved", newJob("j-saved", api.JobTypeBatch, noopTask()), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	// Asked while the node was down: still a normal bid.
	orch.add(assigned("e-ask", newJob("j-ask", api.JobTypeBatch, noopTask()), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
	for _, id := range []string{"e-batch", "e-ops", "e-service", "e-daemon"} {
		if got := orch.reportsFor(id); len(got) > 0 && got[len(got)-1].ComputeState.IsTerminal() {
			t.Fatalf("%s reported %s on shutdown", id, got[len(got)-1].ComputeState)
		}
	}

	second := startNode(t, orch, withDir)
	for _, id := range []string{"e-batch", "e-ops"} {
		ex := orch.waitState(t, id, api.ExecutionStateFailed)
		if ex.ComputeState.Message != "execution interrupted: compute node restarted" {
			t.Errorf("%s: message %q", id, ex.ComputeState.Message)
		}
	}
	ex := orch.waitState(t, "e-saved", api.ExecutionStateCompleted)
	if ex.RunOutput == nil || ex.RunOutput.STDOUT != "saved\n" {
		t.Errorf("saved result not reported: %+v", ex.RunOutput)
	}
	second.waitPhase(t, "e-service", phaseRunning)
	second.waitPhase(t, "e-daemon", phaseRunning)
	second.waitPhase(t, "e-ask", phaseRunning)
	// After the first listing, work placed running is new work, not
	// interrupted work.
	orch.add(assigned("e-ops-2", newJob("j-ops-2", api.JobTypeOps, noopTask()), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	second.waitPhase(t, "e-ops-2", phaseRunning)
	for _, id := range []string{"e-service", "e-daemon", "e-ops-2"} {
		if got := orch.reportsFor(id); len(got) != 0 {
			t.Errorf("%s: unexpected reports %v", id, states(got))
		}
	}
}

func TestNodeRegistersAgainWhenTheClusterForgetsIt(t *testing.T) {
	orch := newFakeOrchestrator()
	tn := startNode(t, orch, func(c *Config) { c.NoopDelay = time.Hour })
	tn.synced(t)
	orch.add(assigned("e-long", newJob("j-long", api.JobTypeService, noopTask()), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	tn.waitPhase(t, "e-long", phaseRunning)

	// A restore to a snapshot that knows neither the node nor e-long.
	orch.mu.Lock()
	delete(orch.execs, "e-long")
	orch.mu.Unlock()
	orch.setUnknownNode()

	testutil.Eventually(t, "a second registration", func() bool { return orch.registrationCount() == 2 })
	// The full listing after registering no longer holds e-long: stop it.
	tn.waitPhase(t, "e-long", phaseUnknown)
	orch.add(assigned("e-after", newJob("j-after", api.JobTypeOps, noopTask()), api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
	tn.waitPhase(t, "e-after", phaseRunning)
}

func TestNodeResendsAFinalReportTheClusterLost(t *testing.T) {
	orch := newFakeOrchestrator()
	tn := startNode(t, orch, nil)
	orch.add(assigned("e-1", newJob("j-1", api.JobTypeBatch, noopTask()), api.ExecutionStateAskForBid, api.ExecutionDesiredStatePending))
	orch.waitState(t, "e-1", api.ExecutionStateCompleted)
	tn.waitPhase(t, "e-1", phaseUnknown)
	// Put back the record of an accepted final report, as if the
	// confirmation had not arrived yet, then show the execution running
	// again (restored from an older snapshot).
	orch.mu.Lock()
	ex := orch.execs["e-1"].Execution
	ex.ComputeState.StateType = api.ExecutionStateBidAccepted
	ex.DesiredState.StateType = api.ExecutionDesiredStateRunning
	orch.mu.Unlock()
	tn.execs.put(&localExec{id: "e-1", phase: phaseFinished, ackIndex: 1,
		final: &api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateCompleted, Message: "the saved report"}})
	orch.mu.Lock()
	orch.bump("e-1")
	orch.mu.Unlock()
	ex = orch.waitState(t, "e-1", api.ExecutionStateCompleted)
	if ex.ComputeState.Message != "the saved report" {
		t.Fatalf("state %+v: the saved final report was not sent again", ex.ComputeState)
	}
	if got := strings.Join(states(orch.reportsFor("e-1")), ","); got != "AskForBidAccepted,Completed,Completed" {
		t.Fatalf("reports = %s", got)
	}
}

func TestNodeFirstListing(t *testing.T) {
	tests := []struct {
		name       string
		journal    *string // nil: a fresh DataDir; else the journal's content
		jobType    string
		nilJob     bool
		wantFailed bool
	}{
		{name: "fresh data dir: no job at all", nilJob: true, wantFailed: true},
		{name: "fresh data dir: batch may have been running", jobType: api.JobTypeBatch, wantFailed: true},
		{name: "fresh data dir: ops may have been running", jobType: api.JobTypeOps, wantFailed: true},
		{name: "fresh data dir: service restarts", jobType: api.JobTypeService},
		{name: "journal says it ran: ops interrupted", journal: ptr("e-x\ne-1\n"), jobType: api.JobTypeOps, wantFailed: true},
		{name: "journal says it never ran: ops starts", journal: ptr("e-x\n"), jobType: api.JobTypeOps},
		{name: "empty journal: batch starts", journal: ptr(""), jobType: api.JobTypeBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			if tt.journal != nil {
				if err := os.WriteFile(filepath.Join(dataDir, journalFile), []byte(*tt.journal), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			orch := newFakeOrchestrator()
			job := newJob("j-1", tt.jobType, noopTask())
			if tt.nilJob {
				job = nil
			}
			orch.add(assigned("e-1", job, api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning))
			tn := startNode(t, orch, func(c *Config) {
				c.DataDir = dataDir
				c.NoopDelay = time.Hour
			})
			if tt.wantFailed {
				ex := orch.waitState(t, "e-1", api.ExecutionStateFailed)
				if ex.ComputeState.Message != "execution interrupted: compute node restarted" {
					t.Fatalf("message = %q", ex.ComputeState.Message)
				}
				return
			}
			tn.waitPhase(t, "e-1", phaseRunning)
		})
	}
}

func ptr[T any](v T) *T { return &v }
