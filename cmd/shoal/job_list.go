package main

import (
	"context"
	"strconv"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

func newJobListCommand(env *cliEnv) *cobra.Command {
	var (
		out       outputFlags
		list      listFlags
		namespace string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List jobs",
		Long: `List jobs, oldest first (--order-reversed for newest first). Columns: when it
was created, its ID, name, engine (JOB), type and state; --wide adds the
namespace, count and last change, and shows full IDs.`,
		Example: `  shoal job list
  shoal job list --labels 'env=prod' --limit 50
  shoal job list --order-by modify_time --order-reversed
  shoal job list --output json`,
		Args: args(cobra.NoArgs),
		RunE: listRun[*api.Job]{
			out: &out, list: &list,
			fetch: func(ctx context.Context, c *client.Client, _ []string) ([]*api.Job, string, error) {
				resp, _, err := c.Jobs().List(ctx, client.ListJobsOptions{
					Namespace: namespace, Labels: list.labels, Limit: list.limit, NextToken: list.nextToken,
					OrderBy: list.orderBy, Reverse: list.reversed,
				})
				if err != nil {
					return nil, "", err
				}
				return resp.Jobs, resp.NextToken, nil
			},
			table: env.jobTable,
		}.run(env),
	}
	out.register(cmd.Flags(), true, formatTable, formatJSON, formatYAML)
	list.register(cmd.Flags(), "create_time (default), modify_time, id", true)
	cmd.Flags().StringVar(&namespace, "namespace", "", "only jobs of this namespace (default: every namespace)")
	return cmd
}

func (e *cliEnv) jobTable(jobs []*api.Job, wide bool, st styler) *table {
	headers := []string{"CREATED", "ID", "NAME", "JOB", "TYPE", "STATE"}
	if wide {
		headers = append(headers, "NAMESPACE", "COUNT", "MODIFIED")
	}
	t := newTable(headers...)
	t.styleColumn("STATE", st.state)
	for _, j := range jobs {
		if j == nil {
			continue
		}
		name := j.Name
		switch {
		case name == j.ID:
			name = idForTable(name, wide)
		case !wide:
			name = truncate(name, 24)
		}
		row := []string{e.shortTime(fromNanos(j.CreateTime)), idForTable(j.ID, wide), name, engineType(j), j.Type,
			j.State.StateType.String()}
		if wide {
			row = append(row, j.Namespace, strconv.Itoa(j.Count), e.shortTime(fromNanos(j.ModifyTime)))
		}
		t.add(row...)
	}
	return t
}
