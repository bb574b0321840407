package main

import (
	"context"
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
		RunE: listRun[*api.Execution]{
			out: &out, list: &list,
			fetch: func(ctx context.Context, c *client.Client, a []string) ([]*api.Execution, string, error) {
				resp, _, err := c.Jobs().Executions(ctx, a[0], client.ExecutionsOptions{
					Limit: list.limit, NextToken: list.nextToken, OrderBy: list.orderBy, Reverse: list.reversed,
				})
				if err != nil {
					return nil, "", err
				}
				return resp.Executions, resp.NextToken, nil
			},
			table: env.executionTable,
		}.run(env),
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
