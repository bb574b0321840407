package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newAgentCommand(env *cliEnv) *cobra.Command {
	cmd := newGroupCommand("agent", "Ask the replica that answers about itself",
		`Ask the orchestrator replica that answers (the first of --api-host that
can be reached) whether it is alive, which version it runs, and how it
describes itself.`)
	cmd.AddCommand(newAgentAliveCommand(env), newAgentVersionCommand(env), newAgentNodeCommand(env))
	return cmd
}

func newAgentAliveCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:     "alive",
		Short:   "Check that a replica answers",
		Long:    "Check that a replica answers. Prints its status (OK) and exits 0; exits 3 when no host answers.\n\n" + exitCodesHelp,
		Example: "  shoal agent alive\n  shoal agent alive --api-host 10.0.0.5,10.0.0.6",
		Args:    args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(formatText, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			resp, _, err := c.Agent().Alive(cmd.Context())
			if err != nil {
				return err
			}
			if out.format != formatText {
				return printData(stdout(cmd), out.format, resp)
			}
			fmt.Fprintln(stdout(cmd), resp.Status)
			return nil
		}),
	}
	out.register(cmd.Flags(), false, formatText, formatJSON, formatYAML)
	return cmd
}

func newAgentVersionCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Show the version of the replica that answers, and of this client",
		Example: "  shoal agent version\n  shoal agent version --output json",
		Args:    args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(formatText, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			v, meta, err := c.Agent().Version(cmd.Context())
			if err != nil {
				return err
			}
			if out.format != formatText {
				return printData(stdout(cmd), out.format, v)
			}
			server := ""
			if meta != nil {
				server = meta.Host
			}
			st := out.styler(env, cmd)
			osArch := ""
			if v.GOOS != "" {
				osArch = v.GOOS + "/" + v.GOARCH
			}
			keyValues(stdout(cmd), st, [][2]string{
				{"Server", server},
				{"Server Version", v.GitVersion},
				{"Server Commit", v.GitCommit},
				{"Server Build Date", env.fullTime(v.BuildDate)},
				{"Server OS/Arch", osArch},
				{"Client Version", gitVersion},
			})
			return nil
		}),
	}
	out.register(cmd.Flags(), false, formatText, formatJSON, formatYAML)
	return cmd
}

func newAgentNodeCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:     "node",
		Short:   "Show how the replica that answers describes itself",
		Example: "  shoal agent node\n  shoal agent node --output yaml",
		Args:    args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(formatText, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			n, _, err := c.Agent().Node(cmd.Context())
			if err != nil {
				return err
			}
			if out.format != formatText {
				return printData(stdout(cmd), out.format, n)
			}
			return describeNode(stdout(cmd), out.styler(env, cmd), n)
		}),
	}
	out.register(cmd.Flags(), false, formatText, formatJSON, formatYAML)
	return cmd
}
