package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newOperatorGCCommand(env *cliEnv) *cobra.Command {
	var age time.Duration
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove old terminal jobs now, with their executions and history",
		Long: `Run a retention pass now: terminal jobs (completed, failed, stopped) that
ended longer ago than --age are removed from every replica, with their
executions, history and evaluations. Waiting and running jobs are never
removed. Without --age the cluster's --job-gc-age applies; --age 0s removes
every terminal job. Prints how many jobs went.`,
		Example: "  shoal operator gc\n  shoal operator gc --age 24h\n  shoal operator gc --age 0s",
		Args:    args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("age") && age < 0 {
				return usageErrorf("--age must not be negative")
			}
			if !cmd.Flags().Changed("age") {
				age = -1
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			resp, _, err := c.Operator().JobGC(cmd.Context(), age)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout(cmd), "Removed %d terminal jobs (state index %d).\n", resp.JobsRemoved, resp.Index)
			return nil
		}),
	}
	cmd.Flags().DurationVar(&age, "age", 0, "remove terminal jobs that ended longer ago than this (default: the cluster's --job-gc-age)")
	return cmd
}
