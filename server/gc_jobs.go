package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

const (
	// jobGCBatch bounds one sweep's Raft entry: a job takes a dozen rows
	// with it (execution, evaluations, history), so an entry stays a few
	// thousand deletes and other writes interleave between sweeps.
	jobGCBatch = 500
	// jobGCMaxSweeps bounds one background round (a minute apart): 200
	// sweeps of 500 keep up with 1,600 jobs/s ending.
	jobGCMaxSweeps = 200
)

// collectJobsRound is the background retention pass: terminal jobs older
// than JobGCAge go (nothing when it is 0).
func (s *Server) collectJobsRound(ctx context.Context) {
	if s.cfg.JobGCAge <= 0 {
		return
	}
	removed, _, _, err := s.collectJobs(ctx, time.Now().Add(-s.cfg.JobGCAge).UnixNano(), jobGCMaxSweeps, time.Time{})
	if err != nil {
		s.logger.Warn("collect terminal jobs", "error", err)
	}
	if removed > 0 {
		s.logger.Info("collected terminal jobs", "removed", removed, "age", s.cfg.JobGCAge)
	}
}

// collectJobs removes terminal jobs that ended before before, in bounded
// sweeps (at most maxSweeps; 0: until none is left), stopping after the
// sweep that passes stopBy (zero: no bound). It returns how many went, the
// index of the last sweep and whether some were left for another pass.
func (s *Server) collectJobs(ctx context.Context, before int64, maxSweeps int, stopBy time.Time) (removed int, index uint64, more bool, err error) {
	for sweep := 0; maxSweeps == 0 || sweep < maxSweeps; sweep++ {
		res, idx, err := applyAs[*fsm.JobGCResult](ctx, s, &fsm.JobGCRequest{Before: before, Limit: jobGCBatch, Now: now()})
		if err != nil {
			return removed, index, false, err
		}
		removed += res.JobsRemoved
		index = idx
		if more = res.More; !more || (!stopBy.IsZero() && time.Now().After(stopBy)) {
			break
		}
	}
	return removed, index, more, nil
}

// operatorJobGC runs a retention pass now (POST /api/v1/operator/gc), with
// the age from the query (age=1h) or the body ({"Age":"1h"}), else the
// configured one.
func (s *Server) operatorJobGC(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	ageText := r.URL.Query().Get("age")
	if ageText == "" && len(body) > 0 {
		var req api.JobGCRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return 0, nil, 0, api.BadRequestf("invalid body: %v", err)
		}
		ageText = req.Age
	}
	age := s.cfg.JobGCAge
	if ageText != "" {
		d, err := time.ParseDuration(ageText)
		if err != nil || d < 0 {
			return 0, nil, 0, api.BadRequestf("invalid age %q: want a duration such as 72h or 0s", ageText)
		}
		age = d
	} else if age <= 0 {
		// Retention is off and no age was asked for: nothing is old enough.
		return http.StatusOK, &api.JobGCResponse{Index: s.fsm.State().Index()}, s.fsm.State().Index(), nil
	}
	// A pass over a large store outlasts a request (100,000 jobs take about
	// a minute on a small machine): it answers with More after half the
	// request's time, and the caller asks again.
	removed, index, more, err := s.collectJobs(ctx, time.Now().Add(-age).UnixNano(), 0, time.Now().Add(s.cfg.RequestTimeout/2))
	if err != nil {
		return 0, nil, 0, err
	}
	if index == 0 {
		index = s.fsm.State().Index()
	}
	return http.StatusOK, &api.JobGCResponse{JobsRemoved: removed, More: more, Index: index}, index, nil
}
