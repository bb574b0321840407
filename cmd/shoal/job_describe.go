package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

func newJobDescribeCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:   "describe JOB_ID",
		Short: "Show a job: its spec summary, state, history, executions and output",
		Long: `Show a job: a summary of its spec and state, how many executions are in each
state, the job's history, its executions, and what each execution printed.
--output json or yaml prints the API's answer as it is (the job, its
history and executions).`,
		Example: `  shoal job describe j-1a2b3c4d
  shoal job describe j-1a2b3c4d --output json`,
		Args: args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			if err := out.check(formatText, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			resp, _, err := c.Jobs().Get(cmd.Context(), a[0], client.GetJobOptions{Include: []string{"history", "executions"}})
			if err != nil {
				return err
			}
			if out.format != formatText {
				return printData(stdout(cmd), out.format, resp)
			}
			if resp.Job == nil {
				return fmt.Errorf("the API answered without a job")
			}
			return env.describeJob(stdout(cmd), out.styler(env, cmd), out.wide, resp)
		}),
	}
	out.register(cmd.Flags(), true, formatText, formatJSON, formatYAML)
	return cmd
}

func (e *cliEnv) describeJob(w io.Writer, st styler, wide bool, resp *api.GetJobResponse) error {
	j := resp.Job
	var execs []*api.Execution
	if resp.Executions != nil {
		execs = sortedExecutions(resp.Executions.Executions)
	}
	var history []*api.JobHistory
	if resp.History != nil {
		history = resp.History.History
	}
	count := ""
	if j.Type == api.JobTypeBatch || j.Type == api.JobTypeService {
		count = strconv.Itoa(j.Count)
	}
	keyValues(w, st, [][2]string{
		{"ID", j.ID},
		{"Name", j.Name},
		{"Namespace", j.Namespace},
		{"Type", j.Type},
		{"State", st.state(j.State.StateType.String())},
		{"Message", flatten(j.State.Message)},
		{"Count", count},
		{"Engine", engineSummary(j)},
		{"Labels", labelList(j.Labels)},
		{"Created Time", e.fullTime(fromNanos(j.CreateTime))},
		{"Modified Time", e.fullTime(fromNanos(j.ModifyTime))},
		{"Version", strconv.FormatUint(j.Version, 10)},
		{"Revision", strconv.FormatUint(j.Revision, 10)},
	})

	if len(execs) > 0 {
		section(w, st, "Summary")
		keyValues(w, st, executionSummary(execs))
	}

	jobEvents := newTable("TIME", "REV.", "STATE", "COMMENT")
	jobEvents.styleColumn("STATE", st.state)
	for _, ev := range history {
		if ev == nil || ev.Type != api.JobHistoryTypeJobLevel || ev.JobState == nil {
			continue
		}
		jobEvents.add(e.shortTime(ev.Time), strconv.FormatUint(ev.NewRevision, 10), ev.JobState.New.String(), flatten(ev.Comment))
	}
	if len(jobEvents.rows) > 0 {
		section(w, st, "Job History")
		if err := jobEvents.render(w, st); err != nil {
			return err
		}
	}

	if len(execs) > 0 {
		section(w, st, "Executions")
		t := newTable("ID", "NODE ID", "STATE", "DESIRED", "REV.", "CREATED", "MODIFIED", "COMMENT")
		t.styleColumn("STATE", st.state)
		for _, x := range execs {
			t.add(idForTable(x.ID, wide), idForTable(x.NodeID, wide), x.ComputeState.StateType.String(),
				x.DesiredState.StateType.String(), strconv.FormatUint(x.Revision, 10),
				e.ago(fromNanos(x.CreateTime)), e.ago(fromNanos(x.ModifyTime)), executionComment(x))
		}
		if err := t.render(w, st); err != nil {
			return err
		}
	}
	printOutputs(w, st, execs)
	return nil
}

// engineSummary names the engine and what it runs: the image of a docker
// task, the module of a wasm one.
func engineSummary(j *api.Job) string {
	t := j.Task()
	if t == nil || t.Engine == nil {
		return ""
	}
	typ := t.Engine.Type
	switch strings.ToLower(typ) {
	case api.EngineDocker:
		if img, ok := t.Engine.Params["Image"].(string); ok && img != "" {
			return typ + " (" + img + ")"
		}
	case api.EngineWasm:
		if m, ok := t.Engine.Params["EntryModule"].(map[string]any); ok {
			if src, ok := m["Source"].(map[string]any); ok {
				if p, ok := src["Params"].(map[string]any); ok {
					if u, ok := p["URL"].(string); ok && !strings.HasPrefix(strings.ToLower(u), "data:") {
						return typ + " (" + u + ")"
					}
				}
				if st, ok := src["Type"].(string); ok {
					return typ + " (" + st + " module)"
				}
			}
		}
	}
	return typ
}

// executionSummary counts executions per state, in the order states come.
func executionSummary(execs []*api.Execution) [][2]string {
	counts := map[api.ExecutionStateType]int{}
	for _, x := range execs {
		counts[x.ComputeState.StateType]++
	}
	var out [][2]string
	for s := api.ExecutionStateUndefined; s <= api.ExecutionStateCancelled; s++ {
		if n := counts[s]; n > 0 {
			out = append(out, [2]string{s.String(), strconv.Itoa(n)})
		}
	}
	return out
}

// printOutputs prints what each execution wrote; the heading names the
// execution when there are several.
func printOutputs(w io.Writer, st styler, execs []*api.Execution) {
	var withOutput []*api.Execution
	for _, x := range execs {
		if x.RunOutput != nil && (x.RunOutput.STDOUT != "" || x.RunOutput.STDERR != "") {
			withOutput = append(withOutput, x)
		}
	}
	for _, x := range withOutput {
		suffix := ""
		if len(withOutput) > 1 {
			suffix = " of " + api.ShortID(x.ID)
		}
		ro := x.RunOutput
		for _, stream := range []struct {
			title     string
			text      string
			truncated bool
		}{{"Standard Output", ro.STDOUT, ro.StdoutTruncated}, {"Standard Error", ro.STDERR, ro.StderrTruncated}} {
			if stream.text == "" {
				continue
			}
			section(w, st, stream.title+suffix)
			fmt.Fprint(w, stream.text)
			if !strings.HasSuffix(stream.text, "\n") {
				fmt.Fprintln(w)
			}
			if stream.truncated {
				fmt.Fprintln(w, "(truncated)")
			}
		}
	}
}
