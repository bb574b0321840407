package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/shoal-io/shoal/api"
	"sigs.k8s.io/yaml"
)

const runSpec = `Name: wasm-url-hello
Type: batch
Count: 1
Labels: {env: dev}
Tasks:
  - Name: main
    Engine:
      Type: wasm
      Params:
        EntryModule: {Source: {Type: urlDownload, Params: {URL: "http://127.0.0.1:8000/hello.wasm"}}}
`

const (
	putPath     = "PUT /api/v1/orchestrator/jobs"
	historyPath = "GET /api/v1/orchestrator/jobs/" + fixJobID + "/history"
	getJobPath  = "GET /api/v1/orchestrator/jobs/" + fixJobID
	logsPath    = "GET /api/v1/orchestrator/jobs/" + fixJobID + "/logs"
)

func writeSpec(t *testing.T, spec string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(p, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runAPI fakes the API for one job run: the create, the history (all at
// once) and the final read of the job.
func runAPI(t *testing.T, history []*api.JobHistory, final *api.GetJobResponse) *fakeAPI {
	t.Helper()
	return newFakeAPI(t, map[string]http.HandlerFunc{
		putPath: ok(mustJSON(t, api.PutJobResponse{JobID: fixJobID, EvaluationID: "ev-1",
			Warnings: []string{api.WarnCreateTimeIgnored}})),
		historyPath: reply(http.StatusOK, 7, mustJSON(t, api.ListJobHistoryResponse{History: history})),
		getJobPath:  ok(mustJSON(t, final)),
	})
}

func completedAnswer() *api.GetJobResponse {
	e := fixExecution(fixExecID, api.ExecutionStateCompleted, at(8, 35, 2), &api.RunCommandResult{STDOUT: "hello from wasm [x]\n"})
	e.PublishedResult = &api.SpecConfig{Type: "urlDownload", Params: map[string]any{"URL": "http://node/results/x.tar.gz"}}
	return &api.GetJobResponse{Job: fixJob(api.JobStateTypeCompleted, ""),
		Executions: &api.ListJobExecutionsResponse{Executions: []*api.Execution{e}}}
}

func TestJobRunWaitsAndPrintsOutcome(t *testing.T) {
	f := runAPI(t, fixHistory(), completedAnswer())
	res := runCLI(t, f, "job", "run", writeSpec(t, runSpec))
	if res.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if res.stdout != "hello from wasm [x]\n" {
		t.Errorf("stdout %q: want only what the job printed", res.stdout)
	}
	wantErr := `Warning: job create time is ignored when submitting a job
Job submitted: ` + fixJobID + `
Waiting for the job (Ctrl-C stops waiting; the job keeps running):
08:35:02  job         Pending            Job created
08:35:02  e-5b1c7b48  New                placed on node n-3f2a1b4c
08:35:02  e-5b1c7b48  AskForBid          asked node n-3f2a1b4c to run it
08:35:02  e-5b1c7b48  AskForBidAccepted  node n-3f2a1b4c can run it
08:35:02  job         Running            the job is running
08:35:02  e-5b1c7b48  BidAccepted        running on node n-3f2a1b4c
08:35:03  e-5b1c7b48  Completed          finished on node n-3f2a1b4c
08:35:03  job         Completed          the job completed
Job ` + fixJobID + ` completed.
Standard output of execution e-5b1c7b48:
To see its details: shoal job describe ` + fixJobID + `
To download its results: shoal job get ` + fixJobID + `
`
	if res.stderr != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", res.stderr, wantErr)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want create, history, read: %+v", len(reqs), reqs)
	}
	var put api.PutJobRequest
	if err := json.Unmarshal([]byte(reqs[0].Body), &put); err != nil {
		t.Fatal(err)
	}
	if put.IdempotencyToken == "" {
		t.Error("the create carries no idempotency token: a retry could create the job twice")
	}
	j := put.Job
	if j == nil || j.Name != "wasm-url-hello" || j.Namespace != "default" || j.Labels["env"] != "dev" ||
		j.Tasks[0].Network == nil || j.Tasks[0].Publisher == nil {
		t.Errorf("sent job %+v: want the spec, normalized", j)
	}
	if q := reqs[2].Query; q.Get("include") != "executions" || q.Get("consistency") != "linearizable" {
		t.Errorf("final read query %v: want include=executions, consistency=linearizable", q)
	}
}

func TestJobRunExitCodes(t *testing.T) {
	failedExec := fixExecution(fixExecID, api.ExecutionStateFailed, at(8, 35, 2),
		&api.RunCommandResult{STDERR: "boom\n", ExitCode: 1})
	failedExec.ComputeState.Message = "the module trapped"
	failed := &api.GetJobResponse{Job: fixJob(api.JobStateTypeFailed, "job failed after 3 failed executions"),
		Executions: &api.ListJobExecutionsResponse{Executions: []*api.Execution{failedExec}}}
	stopped := &api.GetJobResponse{Job: fixJob(api.JobStateTypeStopped, "Stopped at user request")}
	endIn := func(s api.JobStateType) []*api.JobHistory {
		h := fixHistory()
		h[len(h)-1].JobState.New = s
		return h
	}
	cases := []struct {
		name     string
		history  []*api.JobHistory
		final    *api.GetJobResponse
		code     int
		lastLine string
		stderr   []string
	}{
		{"failed", endIn(api.JobStateTypeFailed), failed, exitFailure,
			"Error: job " + fixJobID + " failed: job failed after 3 failed executions",
			[]string{"Execution e-5b1c7b48 on node n-3f2a1b4c: Failed: the module trapped; exit code 1\n",
				"Standard error of execution e-5b1c7b48:\nboom\n"}},
		{"stopped", endIn(api.JobStateTypeStopped), stopped, exitFailure,
			"Error: job " + fixJobID + " was stopped: Stopped at user request", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := runAPI(t, c.history, c.final)
			res := runCLI(t, f, "job", "run", writeSpec(t, runSpec))
			if res.code != c.code || lastLine(res.stderr) != c.lastLine {
				t.Errorf("exit %d, last line %q; want %d, %q", res.code, lastLine(res.stderr), c.code, c.lastLine)
			}
			for _, s := range c.stderr {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
				}
			}
		})
	}
}

func TestJobRunWithoutWaiting(t *testing.T) {
	cases := []struct {
		name           string
		args           []string
		stdout, stderr string
	}{
		{"wait=false", []string{"--wait=false"}, "",
			"Warning: job create time is ignored when submitting a job\nJob submitted: " + fixJobID +
				"\nCheck on it with: shoal job describe " + fixJobID + "\n"},
		{"id only", []string{"--wait=false", "--id-only"}, fixJobID + "\n",
			"Warning: job create time is ignored when submitting a job\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := runAPI(t, nil, nil)
			res := runCLI(t, f, append([]string{"job", "run", writeSpec(t, runSpec)}, c.args...)...)
			if res.code != 0 || res.stdout != c.stdout || res.stderr != c.stderr {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant stdout %q\nstderr %q", res.code, res.stdout, res.stderr, c.stdout, c.stderr)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests: want the create only", n)
			}
		})
	}
}

func TestJobRunIDOnlyWaitsQuietly(t *testing.T) {
	f := runAPI(t, fixHistory(), completedAnswer())
	res := runCLI(t, f, "job", "run", "--id-only", writeSpec(t, runSpec))
	if res.code != 0 || res.stdout != fixJobID+"\n" {
		t.Errorf("exit %d stdout %q: want 0 and the ID alone", res.code, res.stdout)
	}
	if strings.Contains(res.stderr, "Waiting") || strings.Contains(res.stderr, "completed") {
		t.Errorf("stderr %q: want no progress with --id-only", res.stderr)
	}
}

func TestJobRunDryRunSendsNothing(t *testing.T) {
	f := runAPI(t, nil, nil)
	spec := runSpec + "CreateTime: 1234\n"
	res := runCLI(t, f, "job", "run", "--dry-run", writeSpec(t, spec))
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("dry run sent %d requests", n)
	}
	var job api.Job
	if err := yaml.UnmarshalStrict([]byte(res.stdout), &job); err != nil {
		t.Fatalf("dry run printed no job: %v\n%s", err, res.stdout)
	}
	if job.Name != "wasm-url-hello" || job.Namespace != "default" || job.Constraints == nil || job.Tasks[0].Resources == nil {
		t.Errorf("printed job %+v: want the normalized job", job)
	}
	if !strings.Contains(res.stderr, "Warning: "+api.WarnCreateTimeIgnored) ||
		!strings.Contains(res.stderr, "nothing was sent") {
		t.Errorf("stderr %q: want the API's warnings and a note that nothing was sent", res.stderr)
	}
}

func TestJobRunGivesUpAfterWaitTimeout(t *testing.T) {
	running := fixHistory()[:7]
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		putPath:     ok(mustJSON(t, api.PutJobResponse{JobID: fixJobID})),
		historyPath: reply(http.StatusOK, 7, mustJSON(t, api.ListJobHistoryResponse{History: running})),
	})
	res := runCLI(t, f, "job", "run", "--wait-timeout", "50ms", writeSpec(t, runSpec))
	want := "Error: gave up waiting after 50ms: job " + fixJobID + " is still Running (follow it with: shoal job describe " +
		fixJobID + "; stop it with: shoal job stop " + fixJobID + ")"
	if res.code != exitWaitTimeout || lastLine(res.stderr) != want {
		t.Errorf("exit %d, %q; want %d, %q", res.code, lastLine(res.stderr), exitWaitTimeout, want)
	}
}

func TestJobRunInterruptedLeavesJobRunning(t *testing.T) {
	waiting := make(chan struct{})
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		putPath: ok(mustJSON(t, api.PutJobResponse{JobID: fixJobID})),
		historyPath: inTurn(
			reply(http.StatusOK, 7, mustJSON(t, api.ListJobHistoryResponse{History: fixHistory()[:7]})),
			func(w http.ResponseWriter, r *http.Request) {
				close(waiting) // the blocking query: held until the client leaves
				<-r.Context().Done()
			}),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-waiting
		cancel() // Ctrl-C
	}()
	env := testEnv(map[string]string{envAPIHost: f.hostPort()})
	res := runCLIWith(t, ctx, env, "", "job", "run", writeSpec(t, runSpec))
	want := "Error: stopped waiting; job " + fixJobID + " keeps running (stop it with: shoal job stop " + fixJobID + ")"
	if res.code != exitInterrupted || lastLine(res.stderr) != want {
		t.Errorf("exit %d, %q; want %d, %q", res.code, lastLine(res.stderr), exitInterrupted, want)
	}
	for _, r := range f.requests() {
		if r.Method == http.MethodDelete {
			t.Error("interrupting the wait stopped the job")
		}
	}
}

func TestJobRunRefusals(t *testing.T) {
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	cases := []struct {
		name     string
		put      http.HandlerFunc
		host     string
		spec     string
		code     int
		lastLine string
		sent     int
	}{
		{"invalid spec is refused before sending", nil, "", "Type: batchy\nCount: -1\n", exitUsage,
			`Error: invalid job: invalid job type: "batchy"; job count must be >= 0; missing job tasks`, 0},
		{"the API's refusal, on one line with its hint", reply(http.StatusBadRequest, 0,
			`{"Status":400,"Message":"task main validation failed: x\ntask main validation failed: y","Code":"ValidationError","Hint":"fix the spec"}`),
			"", runSpec, exitUsage,
			"Error: task main validation failed: x; task main validation failed: y (fix the spec)", 1},
		{"no leader", reply(http.StatusServiceUnavailable, 0, `{"Status":503,"Message":"no leader","Code":"NoLeader"}`),
			"", runSpec, exitUnreachable, "Error: no leader", 1},
		{"unreachable API", nil, closed, runSpec, exitUnreachable,
			"Error: cannot reach the Shoal API (last tried http://" + closed + "): connect: connection refused; " +
				"is a replica running there? Point --api-host/--api-port (or SHOAL_API_HOST/SHOAL_API_PORT) at one", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeAPI(t, map[string]http.HandlerFunc{putPath: c.put})
			host := f.hostPort()
			if c.host != "" {
				host = c.host
			}
			res := runCLIWith(t, context.Background(), testEnv(map[string]string{envAPIHost: host}), "",
				"job", "run", writeSpec(t, c.spec))
			if res.code != c.code || lastLine(res.stderr) != c.lastLine {
				t.Errorf("exit %d, %q\nwant %d, %q", res.code, lastLine(res.stderr), c.code, c.lastLine)
			}
			if n := len(f.requests()); n != c.sent {
				t.Errorf("%d requests sent, want %d", n, c.sent)
			}
		})
	}
}

func TestJobRunReadsStdin(t *testing.T) {
	f := runAPI(t, nil, nil)
	res := runCLIWith(t, context.Background(), testEnv(map[string]string{envAPIHost: f.hostPort()}), runSpec,
		"job", "run", "-", "--wait=false")
	if res.code != 0 || len(f.requests()) != 1 {
		t.Errorf("exit %d, %d requests: %s", res.code, len(f.requests()), res.stderr)
	}
}

func TestJobRunFollowStreamsLogs(t *testing.T) {
	queries := make(chan string, 1)
	f := runAPI(t, fixHistory(), completedAnswer())
	f.handle(logsPath, func(w http.ResponseWriter, r *http.Request) {
		queries <- r.URL.RawQuery
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx := r.Context()
		_ = wsjson.Write(ctx, conn, api.ExecutionLogFrame{Value: &api.ExecutionLog{Type: api.LogTypeStdout, Line: "hello from wasm [x]\n"}})
		_ = wsjson.Write(ctx, conn, api.ExecutionLogFrame{Value: &api.ExecutionLog{Type: api.LogTypeStderr, Line: "a warning"}})
		conn.Close(websocket.StatusNormalClosure, "")
	})
	res := runCLI(t, f, "job", "run", "-f", writeSpec(t, runSpec))
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if res.stdout != "hello from wasm [x]\n" {
		t.Errorf("stdout %q: want the streamed line, once", res.stdout)
	}
	if !strings.Contains(res.stderr, "Logs of execution e-5b1c7b48:\na warning\n") {
		t.Errorf("stderr lacks the stderr line:\n%s", res.stderr)
	}
	if q := <-queries; q != "execution_id="+fixExecID+"&follow=true" {
		t.Errorf("logs query %q", q)
	}
}

func TestJobRunShowsWhyAJobWaits(t *testing.T) {
	created := fixHistory()[:1]
	pending := fixJob(api.JobStateTypePending, "not enough nodes to run job. requested: 1, available: 0\nnode n-1: does not support engine wasm")
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		putPath: ok(mustJSON(t, api.PutJobResponse{JobID: fixJobID})),
		historyPath: inTurn(
			reply(http.StatusOK, 5, mustJSON(t, api.ListJobHistoryResponse{History: created})),
			reply(http.StatusOK, 6, mustJSON(t, api.ListJobHistoryResponse{History: created})),
			reply(http.StatusOK, 7, mustJSON(t, api.ListJobHistoryResponse{History: created})),
			reply(http.StatusOK, 8, mustJSON(t, api.ListJobHistoryResponse{History: fixHistory()})),
		),
		getJobPath: inTurn(
			ok(mustJSON(t, api.GetJobResponse{Job: pending})),
			ok(mustJSON(t, api.GetJobResponse{Job: pending})),
			ok(mustJSON(t, completedAnswer())),
		),
	})
	res := runCLI(t, f, "job", "run", writeSpec(t, runSpec))
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	const reason = "08:35:30  job         Pending            still waiting: not enough nodes to run job. requested: 1, available: 0; node n-1: does not support engine wasm\n"
	if n := strings.Count(res.stderr, reason); n != 1 {
		t.Errorf("the reason shows %d times, want once:\n%s", n, res.stderr)
	}
}
