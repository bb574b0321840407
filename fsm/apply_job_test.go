package fsm

import (
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestJobRegister(t *testing.T) {
	h := newHarness(t)
	now := h.now()
	res := h.registerJob("j-1", api.JobTypeBatch)
	if *res != (JobRegisterResult{JobID: "j-1", EvalID: "ev-j-1"}) {
		t.Fatalf("result %+v", res)
	}
	job := h.job("j-1")
	if job.State.StateType != api.JobStateTypePending || job.Revision != 1 || job.CreateTime != now {
		t.Fatalf("stored job %+v", job)
	}
	evs := h.history("j-1")
	if len(evs) != 1 || historyLine(evs[0]) != `job Pending>Pending r1 "Job created"` || evs[0].Time.UnixNano() != now {
		t.Fatalf("history %v", evs)
	}
	eval, err := h.txn().Eval("ev-j-1")
	if err != nil {
		t.Fatal(err)
	}
	want := api.Evaluation{ID: "ev-j-1", Namespace: "default", JobID: "j-1", Type: api.JobTypeBatch,
		TriggeredBy: api.EvalTriggerJobRegister, Status: api.EvalStatusPending, CreateTime: now, ModifyTime: now}
	if *eval != want {
		t.Fatalf("eval %+v, want %+v", eval, want)
	}
	evals, _, _ := h.obs.take()
	if len(evals) != 1 || evals[0].ID != "ev-j-1" {
		t.Fatalf("observer heard %v", evals)
	}

	if r := h.apply(&JobRegisterRequest{Job: newJob("j-1", api.JobTypeBatch, now), EvalID: "ev-x", Now: h.now()}); !errors.Is(r.Err, api.ErrConflict) {
		t.Fatalf("duplicate job: err = %v, want conflict", r.Err)
	}
	for name, req := range map[string]*JobRegisterRequest{
		"no job":    {EvalID: "ev-x"},
		"no job ID": {Job: newJob("", api.JobTypeBatch, now), EvalID: "ev-x"},
		"no eval":   {Job: newJob("j-2", api.JobTypeBatch, now)},
	} {
		if r := h.apply(req); !errors.Is(r.Err, api.ErrBadRequest) {
			t.Errorf("%s: err = %v, want bad request", name, r.Err)
		}
	}
	if jobs, _, _, _ := h.txn().Counts(); jobs != 1 {
		t.Fatalf("%d jobs stored, want 1", jobs)
	}
}

func TestJobRegisterIdempotencyToken(t *testing.T) {
	h := newHarness(t)
	first := ok[JobRegisterResult](h, &JobRegisterRequest{Job: newJob("j-1", api.JobTypeBatch, h.now()), EvalID: "ev-1",
		IdempotencyToken: "tok", TokenExpiry: t0 + 100_000_000, Now: h.now()})

	tests := []struct {
		name      string
		token     string
		now       int64
		wantDedup bool
	}{
		{"same token before expiry", "tok", t0 + 50_000_000, true},
		{"other token", "tok-2", t0 + 50_000_000, false},
		{"same token at expiry", "tok", t0 + 100_000_000, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := []string{"j-a", "j-b", "j-c"}[i]
			jobsBefore, _, _, _ := h.txn().Counts()
			res := ok[JobRegisterResult](h, &JobRegisterRequest{Job: newJob(id, api.JobTypeBatch, tt.now), EvalID: "ev-" + id,
				IdempotencyToken: tt.token, TokenExpiry: tt.now + 100_000_000, Now: tt.now})
			jobsAfter, _, _, _ := h.txn().Counts()
			if tt.wantDedup {
				if !res.Deduplicated || res.JobID != first.JobID || res.EvalID != first.EvalID || jobsAfter != jobsBefore {
					t.Fatalf("result %+v, jobs %d→%d: want the first job's IDs and nothing written", res, jobsBefore, jobsAfter)
				}
				if _, err := h.txn().Job(id); !errors.Is(err, api.ErrNotFound) {
					t.Fatalf("deduplicated create stored job %s", id)
				}
				return
			}
			if res.Deduplicated || res.JobID != id || jobsAfter != jobsBefore+1 {
				t.Fatalf("result %+v, jobs %d→%d: want a new job", res, jobsBefore, jobsAfter)
			}
			if jobID, _, found := h.txn().Idempotency(tt.token, tt.now); !found || jobID != id {
				t.Fatalf("token %s maps to %q (%t), want %s", tt.token, jobID, found, id)
			}
		})
	}
}

func TestJobStop(t *testing.T) {
	tests := []struct {
		name     string
		state    api.JobStateType // reached through a plan; Pending when Undefined
		missing  bool
		wantKind error
		wantEval bool
	}{
		{name: "pending", wantEval: true},
		{name: "running", state: api.JobStateTypeRunning, wantEval: true},
		{name: "stopped", state: api.JobStateTypeStopped},
		{name: "completed", state: api.JobStateTypeCompleted, wantKind: api.ErrConflict},
		{name: "failed", state: api.JobStateTypeFailed, wantKind: api.ErrConflict},
		{name: "missing", missing: true, wantKind: api.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.registerJob("j-1", api.JobTypeBatch)
			if tt.state != api.JobStateTypeUndefined {
				h.setJobState("j-1", tt.state, "")
			}
			jobID := "j-1"
			if tt.missing {
				jobID = "j-404"
			}
			before := h.job("j-1")
			historyBefore := len(h.history("j-1"))
			h.obs.take()
			now := h.now()
			r := h.apply(&JobStopRequest{JobID: jobID, Reason: "Stopped at user request", EvalID: "ev-stop", Now: now})

			if tt.wantKind != nil {
				if !errors.Is(r.Err, tt.wantKind) {
					t.Fatalf("err = %v, want %v", r.Err, tt.wantKind)
				}
				if tt.state == api.JobStateTypeCompleted && r.Err.Error() != "cannot stop job j-1 in state Completed" {
					t.Fatalf("message %q", r.Err)
				}
				if !reflect.DeepEqual(h.job("j-1"), before) {
					t.Fatal("a rejected stop changed the job")
				}
				return
			}
			res, isStop := r.Value.(*JobStopResult)
			if r.Err != nil || !isStop {
				t.Fatalf("result %+v", r)
			}
			after := h.job("j-1")
			if !tt.wantEval {
				if res.EvalID != "" || !reflect.DeepEqual(after, before) || len(h.history("j-1")) != historyBefore {
					t.Fatalf("stopping a stopped job changed something: %+v", res)
				}
				if evals, _, _ := h.obs.take(); len(evals) != 0 {
					t.Fatalf("observer heard %v", evals)
				}
				return
			}
			if res.EvalID != "ev-stop" || after.State.StateType != api.JobStateTypeStopped ||
				after.State.Message != "Stopped at user request" || after.Revision != before.Revision+1 || after.ModifyTime != now {
				t.Fatalf("result %+v, job %+v", res, after)
			}
			evs := h.history("j-1")
			last := evs[len(evs)-1]
			if want := `job ` + before.State.StateType.String() + `>Stopped r` + strconv.FormatUint(after.Revision, 10) + ` "Stopped at user request"`; historyLine(last) != want {
				t.Fatalf("last event %s, want %s", historyLine(last), want)
			}
			eval, err := h.txn().Eval("ev-stop")
			if err != nil || eval.TriggeredBy != api.EvalTriggerJobCancel || eval.Status != api.EvalStatusPending {
				t.Fatalf("eval %+v, %v", eval, err)
			}
		})
	}
}
