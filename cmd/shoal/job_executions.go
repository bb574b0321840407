package main

import (
	"strconv"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

func newJobExecutionsCommand(env *cliEnv) *cobra.Command {
	var (
		out  outputFlags
		list listFlags
	)
	cmd := &cobra.Command{
		Use:   "executions JOB_ID",
		Short: "List a job's executions",
		Long: `List the executions of a job: each attempt to run its task on a node, with
the state the node reports (STATE) and the one the orchestrator wants
(DESIRED).`,
		Example: `  shoal job executions j-1a2b3c4d
  shoal job executions j-1a2b3c4d --order-by create_time --wide`,
		Args: args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			if err := out.check(formatTable, formatJSON, formatYAML); err != nil {
				return err
			}
			if err := list.check(); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			resp, _, err := c.Jobs().Executions(cmd.Context(), a[0], client.ExecutionsOptions{
				Limit: list.limit, NextToken: list.nextToken, OrderBy: list.orderBy, Reverse: list.reversed,
			})
			if err != nil {
				return err
			}
			execs := resp.Executions
			if execs == nil {
				execs = []*api.Execution{}
			}
			if out.format != formatTable {
				if err := printData(stdout(cmd), out.format, execs); err != nil {
					return err
				}
			} else if err := env.executionTable(execs, out.wide, out.styler(env, cmd)).render(stdout(cmd), out.styler(env, cmd)); err != nil {
				return err
			}
			printNextToken(cmd, resp.NextToken)
			return nil
		}),
	}
	out.register(cmd.Flags(), true, formatTable, formatJSON, formatYAML)
	f := cmd.Flags()
	f.IntVar(&list.limit, "limit", 0, "most executions to fetch (0: all)")
	f.StringVar(&list.nextToken, "next-token", "", "fetch the page after the one that printed this token")
	f.StringVar(&list.orderBy, "order-by", "", "order by: modify_time (default), create_time, id, state")
	f.BoolVar(&list.reversed, "order-reversed", false, "reverse the order")
	return cmd
}

func (e *cliEnv) executionTable(execs []*api.Execution, wide bool, st styler) *table {
	t := newTable("CREATED", "MODIFIED", "ID", "NODE ID", "REV.", "STATE", "DESIRED", "COMMENT")
	t.styleColumn("STATE", st.state)
	for _, x := range execs {
		if x == nil {
			continue
		}
		comment := executionComment(x)
		if !wide {
			comment = truncate(comment, 60)
		}
		t.add(e.shortTime(fromNanos(x.CreateTime)), e.shortTime(fromNanos(x.ModifyTime)), idForTable(x.ID, wide),
			idForTable(x.NodeID, wide), strconv.FormatUint(x.Revision, 10), x.ComputeState.StateType.String(),
			x.DesiredState.StateType.String(), comment)
	}
	return t
}
