package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

func newJobHistoryCommand(env *cliEnv) *cobra.Command {
	var (
		out  outputFlags
		list listFlags
		opts client.HistoryOptions
	)
	cmd := &cobra.Command{
		Use:   "history JOB_ID",
		Short: "List a job's events: its state changes and its executions'",
		Long: `List the events of a job in the order they happened: each change of the
job's state (LEVEL JobLevel) and of each execution's state (ExecutionLevel),
with the state before and after.`,
		Example: `  shoal job history j-1a2b3c4d
  shoal job history j-1a2b3c4d --event-type job
  shoal job history j-1a2b3c4d --execution-id e-5b1c7b48 --output yaml`,
		Args: args(cobra.ExactArgs(1)),
		RunE: listRun[*api.JobHistory]{
			out: &out, list: &list,
			check: func() error {
				switch strings.ToLower(opts.EventType) {
				case "all", "job", "execution":
					return nil
				}
				return usageErrorf("invalid --event-type %q: want all, job or execution", opts.EventType)
			},
			fetch: func(ctx context.Context, c *client.Client, a []string) ([]*api.JobHistory, string, error) {
				opts.Limit, opts.NextToken = list.limit, list.nextToken
				resp, _, err := c.Jobs().History(ctx, a[0], opts)
				if err != nil {
					return nil, "", err
				}
				return resp.History, resp.NextToken, nil
			},
			table: env.historyTable,
		}.run(env),
	}
	out.register(cmd.Flags(), true, formatTable, formatJSON, formatYAML)
	f := cmd.Flags()
	f.IntVar(&list.limit, "limit", 0, "most events to fetch (0: all)")
	f.StringVar(&list.nextToken, "next-token", "", "fetch the page after the one that printed this token")
	f.StringVar(&opts.EventType, "event-type", "all", "which events: all, job or execution")
	f.StringVar(&opts.ExecutionID, "execution-id", "", "only the events of executions whose ID starts with this")
	f.StringVar(&opts.NodeID, "node-id", "", "only the events of executions on nodes whose ID starts with this")
	return cmd
}

func (e *cliEnv) historyTable(events []*api.JobHistory, wide bool, st styler) *table {
	t := newTable("TIME", "LEVEL", "EXEC. ID", "NODE ID", "REV.", "PREVIOUS STATE", "NEW STATE", "COMMENT")
	t.styleColumn("NEW STATE", st.state)
	for _, ev := range events {
		if ev == nil {
			continue
		}
		var prev, next string
		switch {
		case ev.JobState != nil:
			prev, next = ev.JobState.Previous.String(), ev.JobState.New.String()
		case ev.ExecutionState != nil:
			prev, next = ev.ExecutionState.Previous.String(), ev.ExecutionState.New.String()
		}
		exec, node := "", ""
		if ev.ExecutionID != "" {
			exec = idForTable(ev.ExecutionID, wide)
		}
		if ev.NodeID != "" {
			node = idForTable(ev.NodeID, wide)
		}
		t.add(e.shortTime(ev.Time), ev.Type.String(), exec, node, strconv.FormatUint(ev.NewRevision, 10), prev, next, flatten(ev.Comment))
	}
	return t
}
