package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

func newNodeCommand(env *cliEnv) *cobra.Command {
	cmd := newGroupCommand("node", "List and describe the nodes of the cluster",
		`List and describe the nodes of the cluster: the compute nodes that run
executions, with their labels and capacity. Node IDs may be given in full
or as a unique prefix.`)
	cmd.AddCommand(newNodeListCommand(env), newNodeDescribeCommand(env))
	return cmd
}

func newNodeListCommand(env *cliEnv) *cobra.Command {
	var (
		out  outputFlags
		list listFlags
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List nodes",
		Long: `List the nodes of the cluster. CPU, MEMORY, DISK and GPU show the capacity
still free, then the node's total ("free / total"). STATUS is CONNECTED while
the node is alive, DISCONNECTED once it has been declared lost.`,
		Example: `  shoal node list
  shoal node list --labels 'Operating-System=linux' --order-by available_memory
  shoal node list --output yaml`,
		Args: args(cobra.NoArgs),
		RunE: listRun[*api.NodeInfo]{
			out: &out, list: &list,
			fetch: func(ctx context.Context, c *client.Client, _ []string) ([]*api.NodeInfo, string, error) {
				resp, _, err := c.Nodes().List(ctx, client.ListNodesOptions{
					Labels: list.labels, Limit: list.limit, NextToken: list.nextToken, OrderBy: list.orderBy, Reverse: list.reversed,
				})
				if err != nil {
					return nil, "", err
				}
				return resp.Nodes, resp.NextToken, nil
			},
			table: nodeTable,
		}.run(env),
	}
	out.register(cmd.Flags(), true, formatTable, formatJSON, formatYAML)
	list.register(cmd.Flags(), "id (default), type, available_cpu, available_memory, available_disk, available_gpu", true)
	return cmd
}

func nodeTable(nodes []*api.NodeInfo, wide bool, st styler) *table {
	headers := []string{"ID", "TYPE", "STATUS", "LABELS", "CPU", "MEMORY", "DISK", "GPU"}
	if wide {
		headers = append(headers, "APPROVAL", "VERSION", "ADDRESS")
	}
	t := newTable(headers...)
	t.styleColumn("STATUS", st.state)
	for _, n := range nodes {
		if n == nil {
			continue
		}
		labels := labelList(n.Labels)
		if !wide {
			labels = truncate(labels, 48)
		}
		cpu, mem, disk, gpu := "-", "-", "-", "-"
		if ci := n.ComputeNodeInfo; ci != nil {
			free, total := ci.AvailableCapacity, ci.MaxCapacity
			cpu = formatCPU(free.CPU) + " / " + formatCPU(total.CPU)
			mem = api.FormatBytes(free.Memory) + " / " + api.FormatBytes(total.Memory)
			disk = api.FormatBytes(free.Disk) + " / " + api.FormatBytes(total.Disk)
			gpu = strconv.FormatUint(free.GPU, 10) + " / " + strconv.FormatUint(total.GPU, 10)
		}
		row := []string{idForTable(n.NodeID, wide), n.NodeType.String(), n.Connection, labels, cpu, mem, disk, gpu}
		if wide {
			row = append(row, n.Approval, n.BacalhauVersion.GitVersion, nodeAddress(n))
		}
		t.add(row...)
	}
	return t
}

// formatCPU writes cores with at most one decimal, as upstream ("1.6").
func formatCPU(cores float64) string {
	return strconv.FormatFloat(float64(int64(cores*10+0.5))/10, 'f', -1, 64)
}

func nodeAddress(n *api.NodeInfo) string {
	if n.PeerInfo == nil {
		return ""
	}
	return strings.Join(n.PeerInfo.Addrs, ",")
}

func newNodeDescribeCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:   "describe NODE_ID",
		Short: "Show a node: its role, status, labels, features and capacity",
		Long: `Show a node: its role, status, version, labels, the engines, publishers and
input sources it offers, and its capacity (total, free, and the most one
job may ask for). --output json or yaml prints the API's answer as it is.`,
		Example: `  shoal node describe n-3f2a1b4c
  shoal node describe n-3f2a1b4c --output yaml`,
		Args: args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			if err := out.check(formatText, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			resp, _, err := c.Nodes().Get(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			if out.format != formatText {
				return printData(stdout(cmd), out.format, resp)
			}
			if resp.Node == nil {
				return fmt.Errorf("the API answered without a node")
			}
			return describeNode(stdout(cmd), out.styler(env, cmd), resp.Node)
		}),
	}
	out.register(cmd.Flags(), false, formatText, formatJSON, formatYAML)
	return cmd
}

func describeNode(w io.Writer, st styler, n *api.NodeInfo) error {
	v := n.BacalhauVersion
	version := v.GitVersion
	if v.GitCommit != "" {
		version += " (" + v.GitCommit + ")"
	}
	if v.GOOS != "" {
		version += " " + v.GOOS + "/" + v.GOARCH
	}
	pairs := [][2]string{
		{"ID", n.NodeID},
		{"Type", n.NodeType.String()},
		{"Status", st.state(n.Connection)},
		{"Approval", n.Approval},
		{"Version", strings.TrimSpace(version)},
		{"Addresses", nodeAddress(n)},
		{"Labels", labelList(n.Labels)},
	}
	ci := n.ComputeNodeInfo
	if ci != nil {
		pairs = append(pairs,
			[2]string{"Engines", strings.Join(ci.ExecutionEngines, ", ")},
			[2]string{"Publishers", strings.Join(ci.Publishers, ", ")},
			[2]string{"Input Sources", strings.Join(ci.StorageSources, ", ")},
			[2]string{"Running Executions", strconv.Itoa(ci.RunningExecutions)},
			[2]string{"Queued Executions", strconv.Itoa(ci.EnqueuedExecutions)},
		)
	}
	keyValues(w, st, pairs)
	if ci == nil {
		return nil
	}
	section(w, st, "Capacity")
	t := newTable("", "CPU", "MEMORY", "DISK", "GPU")
	for _, r := range []struct {
		name string
		res  api.Resources
	}{{"Total", ci.MaxCapacity}, {"Free", ci.AvailableCapacity}, {"Most per job", ci.MaxJobRequirements}} {
		t.add(r.name, formatCPU(r.res.CPU), api.FormatBytes(r.res.Memory), api.FormatBytes(r.res.Disk), strconv.FormatUint(r.res.GPU, 10))
	}
	return t.render(w, st)
}
