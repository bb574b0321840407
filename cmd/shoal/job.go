package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/spf13/cobra"
)

func newJobCommand(env *cliEnv) *cobra.Command {
	cmd := newGroupCommand("job", "Submit, inspect and stop jobs",
		`Submit jobs from YAML or JSON specs, and inspect or stop them. Job and
execution IDs may be given in full or as a unique prefix (the short IDs the
tables show, such as j-1a2b3c4d).`)
	cmd.AddCommand(
		newJobRunCommand(env),
		newJobDescribeCommand(env),
		newJobListCommand(env),
		newJobStopCommand(env),
		newJobHistoryCommand(env),
		newJobExecutionsCommand(env),
		newJobLogsCommand(env),
		newJobGetCommand(env),
	)
	return cmd
}

// idForTable is an ID as a table shows it: short unless --wide.
func idForTable(id string, wide bool) string {
	if wide {
		return id
	}
	return api.ShortID(id)
}

// engineType is the engine of a job's task ("docker", "wasm"), as upstream's
// job list shows in its JOB column.
func engineType(j *api.Job) string {
	if t := j.Task(); t != nil && t.Engine != nil {
		return t.Engine.Type
	}
	return ""
}

// labelList renders labels as sorted "k=v" pairs.
func labelList(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, " ")
}

// truncate cuts a cell to n characters, marking the cut.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// executionComment is what an executions table says about one: its
// compute-side message, else the runner's error.
func executionComment(e *api.Execution) string {
	if m := strings.TrimSpace(e.ComputeState.Message); m != "" {
		return flatten(m)
	}
	if e.RunOutput != nil && strings.TrimSpace(e.RunOutput.ErrorMsg) != "" {
		return flatten(e.RunOutput.ErrorMsg)
	}
	return ""
}

// plural writes "1 execution" or "2 executions".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
