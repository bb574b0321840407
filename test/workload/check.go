package workload

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/shoal-io/shoal/api"
)

// CheckCreates compares a run's history with the jobs the cluster holds for
// that run once it is quiet (jobs listed by LabelRun). It reports:
//   - an acknowledged create whose job is missing, or was acknowledged with
//     two different job IDs;
//   - a token that created more than one job (idempotency broken);
//   - a token whose every attempt failed for sure, yet created a job;
//   - a job whose token the history never sent.
func CheckCreates(ops []Op, jobs []*api.Job) []error {
	type tokenHistory struct {
		acked   map[string]bool // job IDs acknowledged
		unknown bool
	}
	history := map[string]*tokenHistory{}
	for _, op := range ops {
		if op.Kind != KindCreate {
			continue
		}
		h := history[op.Token]
		if h == nil {
			h = &tokenHistory{acked: map[string]bool{}}
			history[op.Token] = h
		}
		switch op.Outcome {
		case OK:
			h.acked[op.JobID] = true
		case Unknown:
			h.unknown = true
		}
	}
	byToken := map[string][]*api.Job{}
	for _, j := range jobs {
		token := j.Labels[LabelToken]
		byToken[token] = append(byToken[token], j)
	}

	var errs []error
	for _, token := range sortedKeys(history) {
		h, got := history[token], byToken[token]
		ids := make([]string, len(got))
		for i, j := range got {
			ids[i] = j.ID
		}
		if len(got) > 1 {
			errs = append(errs, fmt.Errorf("token %s created %d jobs %v: a retried create was applied twice", token, len(got), ids))
		}
		switch {
		case len(h.acked) > 1:
			errs = append(errs, fmt.Errorf("token %s was acknowledged with different jobs %v", token, sortedKeys(h.acked)))
		case len(h.acked) == 1:
			want := sortedKeys(h.acked)[0]
			if !slices.Contains(ids, want) {
				errs = append(errs, fmt.Errorf("acknowledged job %s (token %s) is lost: the cluster holds %v for that token", want, token, ids))
			}
		case !h.unknown && len(got) > 0:
			errs = append(errs, fmt.Errorf("token %s: every attempt failed for sure, yet the cluster holds jobs %v", token, ids))
		}
	}
	for _, token := range sortedKeys(byToken) {
		if _, ok := history[token]; !ok {
			errs = append(errs, fmt.Errorf("job(s) with token %q that the workload never sent: %d", token, len(byToken[token])))
		}
	}
	return errs
}

// CheckBatchExecutions checks a batch job's executions: never more than
// Count completed; and when mustComplete, the job is Completed with exactly
// Count completed executions.
func CheckBatchExecutions(job *api.Job, execs []*api.Execution, mustComplete bool) error {
	completed := 0
	for _, e := range execs {
		if e.ComputeState.StateType == api.ExecutionStateCompleted {
			completed++
		}
	}
	if completed > job.Count {
		return fmt.Errorf("job %s has %d completed executions, more than its Count %d%s", job.ID, completed, job.Count, describeExecs(execs))
	}
	if !mustComplete {
		return nil
	}
	if job.State.StateType != api.JobStateTypeCompleted {
		return fmt.Errorf("job %s ended %s (%q), want Completed%s", job.ID, job.State.StateType, job.State.Message, describeExecs(execs))
	}
	if completed != job.Count {
		return fmt.Errorf("job %s is Completed with %d completed executions, want exactly Count %d%s", job.ID, completed, job.Count, describeExecs(execs))
	}
	return nil
}

func describeExecs(execs []*api.Execution) string {
	s := ""
	for _, e := range execs {
		s += fmt.Sprintf("\n\t%s on %s: compute %s %q, desired %d", e.ID, e.NodeID, e.ComputeState.StateType, e.ComputeState.Message, e.DesiredState.StateType)
	}
	return s
}

// ListRunJobs lists every job of a run on t, with a linearizable read.
func ListRunJobs(ctx context.Context, t Target, run string) ([]*api.Job, error) {
	var all []*api.Job
	next := ""
	for {
		q := url.Values{}
		q.Set("namespace", "*")
		q.Set("limit", "500")
		q.Set("labels", LabelRun+"="+run)
		q.Set(api.QueryConsistency, api.ConsistencyLinearizable)
		if next != "" {
			q.Set("next_token", next)
		}
		var page api.ListJobsResponse
		if _, err := GetJSON(ctx, t, "/api/v1/orchestrator/jobs?"+q.Encode(), &page); err != nil {
			return nil, fmt.Errorf("list jobs of run %s: %w", run, err)
		}
		all = append(all, page.Jobs...)
		if page.NextToken == "" || len(page.Jobs) == 0 {
			return all, nil
		}
		next = page.NextToken
	}
}

// JobExecutions lists every execution of a job on t.
func JobExecutions(ctx context.Context, t Target, jobID string) ([]*api.Execution, error) {
	var all []*api.Execution
	next := ""
	for {
		q := url.Values{}
		q.Set("limit", "500")
		if next != "" {
			q.Set("next_token", next)
		}
		var page api.ListJobExecutionsResponse
		if _, err := GetJSON(ctx, t, "/api/v1/orchestrator/jobs/"+url.PathEscape(jobID)+"/executions?"+q.Encode(), &page); err != nil {
			return nil, fmt.Errorf("executions of %s: %w", jobID, err)
		}
		all = append(all, page.Executions...)
		if page.NextToken == "" || len(page.Executions) == 0 {
			return all, nil
		}
		next = page.NextToken
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// StaleReads returns the describes that missed a write acknowledged before
// they were sent: a job not found after its create was acknowledged, or not
// Stopped after its stop was acknowledged. It is a plain, partial check
// beside porcupine's, whose findings are easy to read in a log.
func StaleReads(ops []Op) []Op {
	created, stopped := map[string]time.Time{}, map[string]time.Time{}
	earliest := func(m map[string]time.Time, token string, t time.Time) {
		if old, ok := m[token]; !ok || t.Before(old) {
			m[token] = t
		}
	}
	for _, op := range ops {
		switch {
		case op.Outcome != OK:
		case op.Kind == KindCreate:
			earliest(created, op.Token, op.Return)
		case op.Kind == KindStop:
			earliest(stopped, op.Token, op.Return)
		}
	}
	var stale []Op
	for _, op := range ops {
		if op.Kind != KindDescribe || op.Outcome != OK {
			continue
		}
		if c, ok := created[op.Token]; ok && op.Call.After(c) && !op.Found {
			stale = append(stale, op)
			continue
		}
		if s, ok := stopped[op.Token]; ok && op.Call.After(s) && (!op.Found || op.JobState != api.JobStateTypeStopped) {
			stale = append(stale, op)
		}
	}
	return stale
}
