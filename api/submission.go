package api

import (
	"fmt"
	"strings"
)

// Warnings SanitizeSubmission returns, as upstream words them.
const (
	WarnStateIgnored      = "job state is ignored when submitting a job"
	WarnRevisionIgnored   = "job revision is ignored when submitting a job"
	WarnVersionIgnored    = "job version is ignored when submitting a job"
	WarnCreateTimeIgnored = "job create time is ignored when submitting a job"
	WarnModifyTimeIgnored = "job modify time is ignored when submitting a job"
	WarnIDIgnored         = "job ID is ignored when submitting a batch job"
	WarnOneTaskOnly       = "only one task is supported per job"
)

// SanitizeSubmission resets what a user may not set and says so, in this
// order: state, revision, version, create time, modify time, the ID of a
// batch or ops job (a service or daemon job keeps the ID its client chose, so
// that re-submitting it is recognised), tasks after the first, and each Meta
// key under the reserved "bacalhau.org/" prefix (any case), which is removed
// with the warning `job meta key "bacalhau.org/x" is reserved and will be
// ignored`. It returns nil when there is nothing to warn about.
func (j *Job) SanitizeSubmission() []string {
	if j == nil {
		return nil
	}
	var warnings []string
	if j.State != (State[JobStateType]{}) {
		j.State = State[JobStateType]{}
		warnings = append(warnings, WarnStateIgnored)
	}
	if j.Revision != 0 {
		j.Revision = 0
		warnings = append(warnings, WarnRevisionIgnored)
	}
	if j.Version != 0 {
		j.Version = 0
		warnings = append(warnings, WarnVersionIgnored)
	}
	if j.CreateTime != 0 {
		j.CreateTime = 0
		warnings = append(warnings, WarnCreateTimeIgnored)
	}
	if j.ModifyTime != 0 {
		j.ModifyTime = 0
		warnings = append(warnings, WarnModifyTimeIgnored)
	}
	jobType := strings.ToLower(strings.TrimSpace(j.Type))
	if j.ID != "" && (jobType == JobTypeBatch || jobType == JobTypeOps) {
		j.ID = ""
		warnings = append(warnings, WarnIDIgnored)
	}
	if len(j.Tasks) > 1 {
		j.Tasks = j.Tasks[:1:1]
		warnings = append(warnings, WarnOneTaskOnly)
	}
	for _, k := range sortedKeys(j.Meta) {
		if strings.HasPrefix(strings.ToLower(k), MetaReservedPrefix) {
			delete(j.Meta, k)
			warnings = append(warnings, fmt.Sprintf("job meta key %q is reserved and will be ignored", k))
		}
	}
	return warnings
}

// JobDefaults are the server's defaults for what a job leaves unset.
type JobDefaults struct {
	ExecutionTimeout int64 // seconds; applied when the task's is 0
	QueueTimeout     int64 // seconds; applied when the task's is 0
}

// ApplyDefaults fills what the submitter left unset: Name becomes the ID
// when empty (once the ID is known), and each task of a batch or ops job gets
// the default execution and queue timeouts where its own are 0.
//
// Service and daemon jobs get no timeout defaults: their executions are
// meant to run until stopped, and a default execution timeout would kill
// them. A default never pushes a task past its own TotalTimeout: it is cut to
// what the total leaves, so a job that set only a total stays valid.
func (j *Job) ApplyDefaults(d JobDefaults) {
	if j == nil {
		return
	}
	if strings.TrimSpace(j.Name) == "" && j.ID != "" {
		j.Name = j.ID
	}
	jobType := strings.ToLower(strings.TrimSpace(j.Type))
	if jobType != JobTypeBatch && jobType != JobTypeOps {
		return
	}
	for _, t := range j.Tasks {
		if t == nil {
			continue
		}
		if t.Timeouts == nil {
			t.Timeouts = &TimeoutConfig{}
		}
		tc := t.Timeouts
		if tc.ExecutionTimeout == 0 {
			tc.ExecutionTimeout = withinTotal(d.ExecutionTimeout, tc.TotalTimeout, tc.QueueTimeout)
		}
		if tc.QueueTimeout == 0 {
			tc.QueueTimeout = withinTotal(d.QueueTimeout, tc.TotalTimeout, tc.ExecutionTimeout)
		}
	}
}

// withinTotal returns a default timeout cut so that it plus other fits in
// total (no limit when total is 0).
func withinTotal(def, total, other int64) int64 {
	if def <= 0 {
		return 0
	}
	if total <= 0 {
		return def
	}
	return max(0, min(def, total-other))
}
