package compose_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

// cliTimeout bounds one CLI command; jobs are given less to finish in, so a
// stuck job is reported by the CLI rather than by a killed process.
const (
	cliTimeout  = 2 * time.Minute
	jobDeadline = "90s"
	// catchUpTimeout bounds waiting for a replica to show what another
	// replica already showed.
	catchUpTimeout = 30 * time.Second
)

// cli runs the shoal binary the way a user would.
type cli struct{ bin string }

// run runs `shoal --api-host hosts args…` and returns its stdout; it fails
// the test, with both outputs, when the command fails.
func (c cli) run(t *testing.T, hosts string, args ...string) string {
	t.Helper()
	stdout, stderr, err := c.exec(t.Context(), hosts, args...)
	if err != nil {
		t.Fatalf("shoal --api-host %s %s: %v\nstdout:\n%s\nstderr:\n%s",
			hosts, strings.Join(args, " "), err, trimmed(stdout), trimmed(stderr))
	}
	return string(stdout)
}

func (c cli) exec(ctx context.Context, hosts string, args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"--api-host", hosts}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.Bytes(), errOut.Bytes(), err
}

// runJob submits a job with `shoal <kind> run --id-only`, which waits for
// it and exits 0 only when it completed, and returns the job's ID.
func (c cli) runJob(t *testing.T, hosts, kind string, args ...string) string {
	t.Helper()
	full := append([]string{kind, "run", "--id-only", "--wait-timeout", jobDeadline}, args...)
	id := strings.TrimSpace(c.run(t, hosts, full...))
	if !strings.HasPrefix(id, "j-") || strings.ContainsAny(id, " \n") {
		t.Fatalf("shoal %s printed %q, want a job ID", strings.Join(full, " "), id)
	}
	return id
}

// describe returns `shoal job describe ID --output json`: the job, its
// history and its executions as the API gives them.
func (c cli) describe(t *testing.T, hosts, id string) *api.GetJobResponse {
	t.Helper()
	out := c.run(t, hosts, "job", "describe", id, "--output", "json")
	var resp api.GetJobResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("job describe %s --output json: %v\n%s", id, err, out)
	}
	if resp.Job == nil || resp.Job.ID != id {
		t.Fatalf("job describe %s answered for another job:\n%s", id, out)
	}
	return &resp
}

// expectCompleted checks that the job completed and that an execution
// printed want. A replica answers reads from its own state, which may lag
// the one that saw the job end by a moment: a job still active is asked
// about again, for a while.
func (c cli) expectCompleted(t *testing.T, hosts, id, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), catchUpTimeout)
	defer cancel()
	resp := c.describe(t, hosts, id)
	for !resp.Job.State.StateType.IsTerminal() {
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			t.Errorf("job %s is still %v after %v", id, resp.Job.State.StateType, catchUpTimeout)
			return
		}
		resp = c.describe(t, hosts, id)
	}
	if got := resp.Job.State.StateType; got != api.JobStateTypeCompleted {
		t.Errorf("job %s is %v, want Completed (message %q)", id, got, resp.Job.State.Message)
		return
	}
	logs := c.run(t, hosts, "job", "logs", id)
	if !strings.Contains(logs, want) {
		t.Errorf("job %s printed %q, want it to contain %q", id, logs, want)
	}
}
