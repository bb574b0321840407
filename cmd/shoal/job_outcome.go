package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
)

// outcome reads the settled job and tells how it went: failed executions
// and why, the first execution's output, where to look next. A failed or
// stopped job is an error (exit code 1).
func (w *jobWait) outcome(ctx context.Context) error {
	resp, _, err := w.c.Jobs().Get(ctx, w.id, client.GetJobOptions{Include: []string{"executions"}, Linearizable: true})
	if err != nil {
		return fmt.Errorf("reading the outcome of job %s: %w", w.id, err)
	}
	if resp.Job == nil {
		return fmt.Errorf("reading the outcome of job %s: the answer holds no job", w.id)
	}
	job := resp.Job
	var execs []*api.Execution
	if resp.Executions != nil {
		execs = sortedExecutions(resp.Executions.Executions)
	}
	state := job.State.StateType
	if w.flags.idOnly {
		return jobStateError(job)
	}
	out, errOut := stdout(w.cmd), stderr(w.cmd)
	for _, e := range execs {
		if line := executionProblem(e); line != "" {
			fmt.Fprintln(errOut, line)
		}
	}
	switch {
	case state == api.JobStateTypeCompleted:
		fmt.Fprintf(errOut, "Job %s completed.\n", job.ID)
	case state == api.JobStateTypeRunning:
		fmt.Fprintf(errOut, "Job %s is running (a %s job runs until it is stopped: shoal job stop %s).\n", job.ID, job.Type, job.ID)
	}
	if first := firstOutput(execs); first != nil && (!w.flags.follow || w.followed == 0) {
		w.printOutput(out, errOut, first, state != api.JobStateTypeCompleted)
	}
	fmt.Fprintf(errOut, "To see its details: shoal job describe %s\n", job.ID)
	if state == api.JobStateTypeCompleted && hasResults(execs) {
		fmt.Fprintf(errOut, "To download its results: shoal job get %s\n", job.ID)
	}
	return jobStateError(job)
}

// jobStateError is the error of a job that failed or was stopped.
func jobStateError(job *api.Job) error {
	why := ""
	if m := strings.TrimSpace(job.State.Message); m != "" {
		why = ": " + m
	}
	switch job.State.StateType {
	case api.JobStateTypeFailed:
		return &exitError{code: exitFailure, err: fmt.Errorf("job %s failed%s", job.ID, why)}
	case api.JobStateTypeStopped:
		return &exitError{code: exitFailure, err: fmt.Errorf("job %s was stopped%s", job.ID, why)}
	}
	return nil
}

// printOutput writes an execution's stdout to stdout as it is (a header
// goes to stderr), and its stderr too when the job did not complete.
func (w *jobWait) printOutput(out, errOut io.Writer, e *api.Execution, withStderr bool) {
	ro := e.RunOutput
	if ro.STDOUT != "" {
		fmt.Fprintf(errOut, "Standard output of execution %s:\n", api.ShortID(e.ID))
		io.WriteString(out, ro.STDOUT)
		if !strings.HasSuffix(ro.STDOUT, "\n") && w.env.isTerminal(out) {
			fmt.Fprintln(out)
		}
		if ro.StdoutTruncated {
			fmt.Fprintf(errOut, "(output truncated: shoal job get %s downloads all of it when the job publishes results)\n", e.JobID)
		}
	}
	if withStderr && ro.STDERR != "" {
		fmt.Fprintf(errOut, "Standard error of execution %s:\n%s", api.ShortID(e.ID), ro.STDERR)
		if !strings.HasSuffix(ro.STDERR, "\n") {
			fmt.Fprintln(errOut)
		}
	}
}

// executionProblem words what went wrong with an execution, "" when
// nothing did.
func executionProblem(e *api.Execution) string {
	s := e.ComputeState.StateType
	if s != api.ExecutionStateFailed && s != api.ExecutionStateAskForBidRejected {
		return ""
	}
	var why []string
	if m := strings.TrimSpace(e.ComputeState.Message); m != "" {
		why = append(why, m)
	}
	if ro := e.RunOutput; ro != nil {
		if m := strings.TrimSpace(ro.ErrorMsg); m != "" && !slices.Contains(why, m) {
			why = append(why, m)
		}
		code := fmt.Sprintf("exit code %d", ro.ExitCode)
		if ro.ExitCode != 0 && !slices.ContainsFunc(why, func(w string) bool { return strings.Contains(w, code) }) {
			why = append(why, code)
		}
	}
	line := fmt.Sprintf("Execution %s on node %s: %s", api.ShortID(e.ID), api.ShortID(e.NodeID), s)
	if len(why) > 0 {
		line += ": " + flatten(strings.Join(why, "; "))
	}
	return line
}

// sortedExecutions orders executions by creation, the first one first.
func sortedExecutions(execs []*api.Execution) []*api.Execution {
	out := slices.DeleteFunc(slices.Clone(execs), func(e *api.Execution) bool { return e == nil })
	slices.SortStableFunc(out, func(a, b *api.Execution) int {
		if a.CreateTime != b.CreateTime {
			if a.CreateTime < b.CreateTime {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// firstOutput is the execution whose output a run shows: the first that
// completed, else the first that has any output.
func firstOutput(execs []*api.Execution) *api.Execution {
	for _, e := range execs {
		if e.ComputeState.StateType == api.ExecutionStateCompleted && e.RunOutput != nil {
			return e
		}
	}
	for _, e := range execs {
		if e.RunOutput != nil {
			return e
		}
	}
	return nil
}

// hasResults reports a completed execution that published something to
// download.
func hasResults(execs []*api.Execution) bool {
	for _, e := range execs {
		if e.ComputeState.StateType == api.ExecutionStateCompleted && e.PublishedResult != nil && e.PublishedResult.Type != "" {
			return true
		}
	}
	return false
}
