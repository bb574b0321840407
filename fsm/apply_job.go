package fsm

import (
	"github.com/shoal-io/shoal/api"
)

func (ac *applyCtx) jobRegister(req *JobRegisterRequest) (*JobRegisterResult, error) {
	job := req.Job
	switch {
	case job == nil:
		return nil, api.BadRequestf("job register: missing job")
	case job.ID == "":
		return nil, api.BadRequestf("job register: missing job ID")
	case req.EvalID == "":
		return nil, api.BadRequestf("job register %s: missing evaluation ID", job.ID)
	}

	var prior *tokenRecord
	if req.IdempotencyToken != "" {
		tok, ok, err := row[*tokenRecord](ac, tableTokens, req.IdempotencyToken)
		if err != nil {
			return nil, err
		}
		if ok && tok.Expiry > req.Now {
			return &JobRegisterResult{JobID: tok.jobID(), EvalID: tok.evalID(), Deduplicated: true}, nil
		}
		prior = tok
	}
	if _, exists, err := ac.job(job.ID); err != nil {
		return nil, err
	} else if exists {
		return nil, api.NewError(api.ErrConflict, api.CodeResourceInUse, api.ComponentJobStore,
			"job already exists: %s", job.ID)
	}
	if _, exists, err := ac.eval(req.EvalID); err != nil {
		return nil, err
	} else if exists {
		return nil, api.NewError(api.ErrConflict, api.CodeResourceInUse, api.ComponentJobStore,
			"evaluation already exists: %s", req.EvalID)
	}

	// The command was decoded for this Apply alone, so its job is ours to
	// store as is.
	if err := ac.putJob(&jobRecord{Job: job}, true); err != nil {
		return nil, err
	}
	ac.newHistory(job.ID)
	if err := ac.jobEvent(job, api.JobStateTypePending, "Job created"); err != nil {
		return nil, err
	}
	if err := ac.writeEval(pendingEval(req.EvalID, job, api.EvalTriggerJobRegister, req.Now), true); err != nil {
		return nil, err
	}
	if req.IdempotencyToken != "" {
		// A copy (newTokenRecord's own buffer): a decoded command's strings
		// share its entry's buffer, and a token row outlives the job row
		// for up to a day.
		tok := newTokenRecord(ac.tokens, req.IdempotencyToken, job.ID, req.EvalID, req.TokenExpiry)
		if err := ac.put(tableTokens, tok.token(), tok, prior == nil); err != nil {
			return nil, err
		}
		if err := ac.capTokens(); err != nil {
			return nil, err
		}
	}
	return &JobRegisterResult{JobID: job.ID, EvalID: req.EvalID}, nil
}

func (ac *applyCtx) jobStop(req *JobStopRequest) (*JobStopResult, error) {
	rec, ok, err := ac.job(req.JobID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, jobNotFound(req.JobID)
	}
	switch state := rec.head().State; state {
	case api.JobStateTypeStopped:
		return &JobStopResult{}, nil
	case api.JobStateTypeCompleted, api.JobStateTypeFailed:
		return nil, api.NewError(api.ErrConflict, api.CodeConflictJobState, api.ComponentJobStore,
			"cannot stop job %s in state %s", req.JobID, state)
	}
	if req.EvalID == "" {
		return nil, api.BadRequestf("job stop %s: missing evaluation ID", req.JobID)
	}
	if _, exists, err := ac.eval(req.EvalID); err != nil {
		return nil, err
	} else if exists {
		return nil, api.NewError(api.ErrConflict, api.CodeResourceInUse, api.ComponentJobStore,
			"evaluation already exists: %s", req.EvalID)
	}

	job := *rec.job()
	prev := job.State.StateType
	job.State = api.State[api.JobStateType]{StateType: api.JobStateTypeStopped, Message: req.Reason}
	job.Revision++
	job.ModifyTime = req.Now
	if err := ac.putJob(&jobRecord{Job: &job, CreateIndex: rec.CreateIndex}, false); err != nil {
		return nil, err
	}
	if err := ac.jobEvent(&job, prev, req.Reason); err != nil {
		return nil, err
	}
	if err := ac.writeEval(pendingEval(req.EvalID, &job, api.EvalTriggerJobCancel, req.Now), true); err != nil {
		return nil, err
	}
	return &JobStopResult{EvalID: req.EvalID}, nil
}

func jobNotFound(id string) *api.Error {
	return api.NotFoundf(api.ComponentJobStore, "job not found: %s", id)
}

func nodeNotFound(id string) *api.Error {
	return api.NotFoundf(api.ComponentNodeStore, "node not found: %s", id)
}
