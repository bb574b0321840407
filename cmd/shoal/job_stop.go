package main

import (
	"fmt"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

// defaultStopReason is recorded as the stopped job's message, as upstream's.
const defaultStopReason = "Stopped at user request"

func newJobStopCommand(env *cliEnv) *cobra.Command {
	var (
		reason string
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "stop JOB_ID",
		Short: "Stop a job and its running executions",
		Long: `Stop a job: its executions are cancelled on their nodes and the job ends in
the Stopped state. Stopping a job that is already stopped does nothing; a job
that already completed or failed cannot be stopped.`,
		Example: `  shoal job stop j-1a2b3c4d
  shoal job stop j-1a2b3c4d --reason "wrong input"`,
		Args: args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// Read first, as upstream's CLI does: it resolves a short ID to
			// the full one, and a finished job gets a plain answer.
			got, _, err := c.Jobs().Get(ctx, a[0], client.GetJobOptions{})
			if err != nil {
				return err
			}
			if got.Job == nil {
				return fmt.Errorf("the API answered without a job")
			}
			job := got.Job
			switch job.State.StateType {
			case api.JobStateTypeStopped:
				if !quiet {
					fmt.Fprintf(stdout(cmd), "Job %s is already stopped.\n", job.ID)
				}
				return nil
			case api.JobStateTypeCompleted, api.JobStateTypeFailed:
				return api.NewError(api.ErrConflict, api.CodeConflictJobState, api.ComponentJobStore,
					"job %s already %s: there is nothing to stop", job.ID, strings.ToLower(job.State.StateType.String()))
			}
			resp, _, err := c.Jobs().Stop(ctx, job.ID, reason)
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(stdout(cmd), "Job %s stopped (evaluation %s).\n", job.ID, resp.EvaluationID)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", defaultStopReason, "why the job is stopped; recorded as its state message")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing on success")
	return cmd
}
