package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestJobListTable(t *testing.T) {
	docker := fixJob(api.JobStateTypeFailed, "")
	docker.ID, docker.Name = "j-96478bc3-0000-4000-8000-000000000001", "j-96478bc3-0000-4000-8000-000000000001"
	docker.Tasks[0].Engine = &api.SpecConfig{Type: "docker"}
	docker.CreateTime = at(8, 35, 3)
	old := fixJob(api.JobStateTypeCompleted, "")
	old.ID, old.Name, old.Type, old.Namespace = "j-29cb5033-0000-4000-8000-000000000002", "nightly-backup-of-every-database", "ops", "team"
	old.CreateTime, old.ModifyTime = at(8, 35, 2)-3*24*3600*1e9, at(8, 35, 2)-3*24*3600*1e9
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/jobs": ok(mustJSON(t, api.ListJobsResponse{
			Jobs: []*api.Job{fixJob(api.JobStateTypeCompleted, ""), docker, old}, NextToken: "tok-2"})),
	})
	cases := []struct {
		name   string
		args   []string
		query  url.Values
		stdout string
	}{
		{"default", nil, url.Values{}, `CREATED       ID          NAME                      JOB     TYPE   STATE
08:35:02      j-450196c5  wasm-url-hello            wasm    batch  Completed
08:35:03      j-96478bc3  j-96478bc3                docker  batch  Failed
Nov 24 08:35  j-29cb5033  nightly-backup-of-every…  wasm    ops    Completed
`},
		{"wide, filtered and ordered", []string{"--wide", "--labels", "env=dev", "--labels", "region in (eu,us)", "--limit", "3",
			"--next-token", "tok-1", "--order-by", "modify_time", "--order-reversed", "--namespace", "team"},
			url.Values{"labels": {"env=dev", "region in (eu,us)"}, "limit": {"3"}, "next_token": {"tok-1"},
				"order_by": {"modify_time"}, "reverse": {"true"}, "namespace": {"team"}},
			`CREATED       ID                                      NAME                                    JOB     TYPE   STATE      NAMESPACE  COUNT  MODIFIED
08:35:02      j-450196c5-9022-4df3-b5e1-6d2cd6b15223  wasm-url-hello                          wasm    batch  Completed  default    1      08:35:03
08:35:03      j-96478bc3-0000-4000-8000-000000000001  j-96478bc3-0000-4000-8000-000000000001  docker  batch  Failed     default    1      08:35:03
Nov 24 08:35  j-29cb5033-0000-4000-8000-000000000002  nightly-backup-of-every-database        wasm    ops    Completed  team       1      Nov 24 08:35
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.requests())
			res := runCLI(t, f, append([]string{"job", "list", "--no-style"}, c.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if res.stdout != c.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, c.stdout)
			}
			if res.stderr != "To fetch more records use --next-token tok-2\n" {
				t.Errorf("stderr %q: want the next-token hint", res.stderr)
			}
			if q := f.requests()[before].Query; !reflect.DeepEqual(q, c.query) {
				t.Errorf("query %v, want %v", q, c.query)
			}
		})
	}
}

func TestJobListDataFormats(t *testing.T) {
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/jobs": ok(`{"Jobs":[{"ID":"j-1","State":{"StateType":"Running"}}],"NextToken":""}`),
	})
	res := runCLI(t, f, "job", "list", "--output", "json")
	var jobs []api.Job
	if err := json.Unmarshal([]byte(res.stdout), &jobs); err != nil || len(jobs) != 1 || jobs[0].ID != "j-1" {
		t.Errorf("json: %v %q", err, res.stdout)
	}
	res = runCLI(t, f, "job", "list", "--output", "yaml")
	if !strings.Contains(res.stdout, "\n  ID: j-1\n") || !strings.Contains(res.stdout, "StateType: Running") {
		t.Errorf("yaml: %q", res.stdout)
	}
	res = runCLI(t, f, "job", "list", "--output", "csv")
	if res.code != exitUsage || lastLine(res.stderr) != `Error: invalid --output "csv": want table, json, yaml (see 'shoal job list --help')` {
		t.Errorf("csv: %d %q", res.code, res.stderr)
	}
	if res.stderr != lastLine(res.stderr)+"\n" {
		t.Errorf("the refusal printed more than its line: %q", res.stderr)
	}
}

func describeAnswer() *api.GetJobResponse {
	a := completedAnswer()
	h := fixHistory()
	a.History = &api.ListJobHistoryResponse{History: h}
	a.Executions.Executions[0].RunOutput.STDERR = "a warning"
	return a
}

func TestJobDescribe(t *testing.T) {
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/jobs/j-450196c5": ok(mustJSON(t, describeAnswer())),
	})
	res := runCLI(t, f, "job", "describe", "j-450196c5", "--no-style")
	want := `ID            = j-450196c5-9022-4df3-b5e1-6d2cd6b15223
Name          = wasm-url-hello
Namespace     = default
Type          = batch
State         = Completed
Count         = 1
Engine        = wasm (http://127.0.0.1:8000/hello.wasm)
Labels        = env=dev
Created Time  = 2026-11-27 08:35:02
Modified Time = 2026-11-27 08:35:03
Version       = 0
Revision      = 3

Summary
Completed = 1

Job History
TIME      REV.  STATE      COMMENT
08:35:02  1     Pending    Job created
08:35:02  2     Running
08:35:03  3     Completed

Executions
ID          NODE ID     STATE      DESIRED  REV.  CREATED  MODIFIED  COMMENT
e-5b1c7b48  n-3f2a1b4c  Completed  Stopped  6     28s ago  27s ago

Standard Output
hello from wasm [x]

Standard Error
a warning
`
	if res.code != 0 || res.stdout != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s", res.code, res.stdout, want)
	}
	if q := f.requests()[0].Query.Get("include"); q != "history,executions" {
		t.Errorf("include=%q", q)
	}
	res = runCLI(t, f, "job", "describe", "j-450196c5", "--output", "json")
	var raw api.GetJobResponse
	if err := json.Unmarshal([]byte(res.stdout), &raw); err != nil || raw.Job.ID != fixJobID || raw.History == nil || raw.Executions == nil {
		t.Errorf("json: %v %.200q", err, res.stdout)
	}
}

func TestJobDescribeMissingPrintsOneLine(t *testing.T) {
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/jobs/j-00000000": reply(http.StatusNotFound, 0,
			`{"Status":404,"Message":"job not found: j-00000000","RequestID":"r-1","Code":"NotFound","Component":"JobStore"}`),
	})
	res := runCLI(t, f, "job", "describe", "j-00000000")
	if res.code != exitFailure || res.stdout != "" || res.stderr != "Error: job not found: j-00000000\n" {
		t.Errorf("exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
}

func TestJobHistoryTable(t *testing.T) {
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		historyPath: ok(mustJSON(t, api.ListJobHistoryResponse{History: fixHistory()[:4], NextToken: "more"})),
	})
	res := runCLI(t, f, "job", "history", fixJobID, "--no-style", "--event-type", "execution", "--execution-id", "e-5b",
		"--node-id", "n-3f", "--limit", "4")
	want := `TIME      LEVEL           EXEC. ID    NODE ID     REV.  PREVIOUS STATE  NEW STATE          COMMENT
08:35:02  JobLevel                                1     Pending         Pending            Job created
08:35:02  ExecutionLevel  e-5b1c7b48  n-3f2a1b4c  1     New             New
08:35:02  ExecutionLevel  e-5b1c7b48  n-3f2a1b4c  2     New             AskForBid
08:35:02  ExecutionLevel  e-5b1c7b48  n-3f2a1b4c  3     AskForBid       AskForBidAccepted
`
	if res.code != 0 || res.stdout != want {
		t.Errorf("exit %d stdout:\n%s\nwant:\n%s", res.code, res.stdout, want)
	}
	wantQuery := url.Values{"event_type": {"execution"}, "execution_id": {"e-5b"}, "node_id": {"n-3f"}, "limit": {"4"}}
	if q := f.requests()[0].Query; !reflect.DeepEqual(q, wantQuery) {
		t.Errorf("query %v, want %v", q, wantQuery)
	}
	if res.stderr != "To fetch more records use --next-token more\n" {
		t.Errorf("stderr %q", res.stderr)
	}
	res = runCLI(t, f, "job", "history", fixJobID, "--event-type", "jobs")
	if res.code != exitUsage {
		t.Errorf("a bad --event-type: exit %d", res.code)
	}
}

func TestJobExecutionsTable(t *testing.T) {
	failed := fixExecution(fixExec2ID, api.ExecutionStateFailed, at(8, 35, 3), nil)
	failed.ComputeState.Message = "preparing arguments: failed to begin download from url http://127.0.0.1:8000/missing.wasm: giving up after 4 attempt(s)"
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/jobs/" + fixJobID + "/executions": ok(mustJSON(t, api.ListJobExecutionsResponse{
			Executions: []*api.Execution{fixExecution(fixExecID, api.ExecutionStateCompleted, at(8, 35, 2), nil), failed}})),
	})
	res := runCLI(t, f, "job", "executions", fixJobID, "--no-style", "--order-by", "create_time", "--order-reversed", "--limit", "2")
	want := `CREATED   MODIFIED  ID          NODE ID     REV.  STATE      DESIRED  COMMENT
08:35:02  08:35:03  e-5b1c7b48  n-3f2a1b4c  6     Completed  Stopped
08:35:03  08:35:04  e-c6512bba  n-3f2a1b4c  6     Failed     Stopped  preparing arguments: failed to begin download from url http…
`
	if res.code != 0 || res.stdout != want {
		t.Errorf("exit %d stdout:\n%s\nwant:\n%s", res.code, res.stdout, want)
	}
	wantQuery := url.Values{"order_by": {"create_time"}, "reverse": {"true"}, "limit": {"2"}}
	if q := f.requests()[0].Query; !reflect.DeepEqual(q, wantQuery) {
		t.Errorf("query %v, want %v", q, wantQuery)
	}
	res = runCLI(t, f, "job", "executions", fixJobID, "--no-style", "--wide")
	if !strings.Contains(res.stdout, fixExec2ID) || !strings.Contains(res.stdout, "giving up after 4 attempt(s)") {
		t.Errorf("--wide: want full IDs and comments:\n%s", res.stdout)
	}
}

func TestJobStop(t *testing.T) {
	jobWith := func(s api.JobStateType) http.HandlerFunc {
		return ok(mustJSON(t, api.GetJobResponse{Job: fixJob(s, "")}))
	}
	cases := []struct {
		name   string
		state  api.JobStateType
		args   []string
		code   int
		stdout string
		stderr string
		stops  bool
	}{
		{"running", api.JobStateTypeRunning, nil, 0, "Job " + fixJobID + " stopped (evaluation ev-9).\n", "", true},
		{"quiet, with a reason", api.JobStateTypeRunning, []string{"-q", "--reason", "wrong input"}, 0, "", "", true},
		{"already stopped", api.JobStateTypeStopped, nil, 0, "Job " + fixJobID + " is already stopped.\n", "", false},
		{"completed", api.JobStateTypeCompleted, nil, exitFailure, "",
			"Error: job " + fixJobID + " already completed: there is nothing to stop\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeAPI(t, map[string]http.HandlerFunc{
				"GET /api/v1/orchestrator/jobs/j-450196c5":     jobWith(c.state),
				"DELETE /api/v1/orchestrator/jobs/" + fixJobID: ok(`{"EvaluationID":"ev-9"}`),
			})
			res := runCLI(t, f, append([]string{"job", "stop", "j-450196c5"}, c.args...)...)
			if res.code != c.code || res.stdout != c.stdout || res.stderr != c.stderr {
				t.Errorf("exit %d stdout %q stderr %q\nwant %d %q %q", res.code, res.stdout, res.stderr, c.code, c.stdout, c.stderr)
			}
			reqs := f.requests()
			stopped := len(reqs) == 2 && reqs[1].Method == http.MethodDelete
			if stopped != c.stops {
				t.Fatalf("stopped %v, want %v: %+v", stopped, c.stops, reqs)
			}
			if stopped {
				reason := defaultStopReason
				if len(c.args) > 0 {
					reason = "wrong input"
				}
				if want := mustJSON(t, api.StopJobRequest{Reason: reason}); reqs[1].Body != want {
					t.Errorf("body %s, want %s", reqs[1].Body, want)
				}
			}
		})
	}
}
