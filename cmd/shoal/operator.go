package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

func newOperatorCommand(env *cliEnv) *cobra.Command {
	cmd := newGroupCommand("operator", "Manage the replicated cluster: Raft peers and snapshots",
		`Manage the orchestrator replicas themselves: list and remove Raft peers,
hand leadership over, and save or restore a snapshot of the whole state.`)
	raft := newGroupCommand("raft", "List and manage the Raft peers (the orchestrator replicas)", "List and manage the Raft peers: the orchestrator replicas that hold the state.")
	raft.AddCommand(newRaftListPeersCommand(env), newRaftRemovePeerCommand(env), newRaftTransferCommand(env))
	snapshot := newGroupCommand("snapshot", "Save or restore a snapshot of the cluster's state", "Save a snapshot of the cluster's whole state to a file, or restore one.")
	snapshot.AddCommand(newSnapshotSaveCommand(env), newSnapshotRestoreCommand(env))
	cmd.AddCommand(raft, snapshot, newOperatorGCCommand(env))
	return cmd
}

func newRaftListPeersCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:   "list-peers",
		Short: "List the Raft peers and which one leads",
		Long: `List the replicas in the Raft configuration: their node ID, Raft address,
whether each is the leader, and whether it votes (a new replica is added as a
non-voter and promoted once it has caught up).`,
		Example: "  shoal operator raft list-peers\n  shoal operator raft list-peers --output json",
		Args:    args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(formatTable, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			resp, _, err := c.Operator().Raft(cmd.Context())
			if err != nil {
				return err
			}
			if out.format != formatTable {
				return printData(stdout(cmd), out.format, resp)
			}
			st := out.styler(env, cmd)
			t := newTable("NODE ID", "ADDRESS", "STATE", "VOTER")
			t.styleColumn("STATE", func(s string) string {
				if s == "leader" {
					return st.bold(s)
				}
				return s
			})
			for _, s := range resp.Servers {
				state := "follower"
				switch {
				case s.Leader || (resp.Leader != "" && s.ID == resp.Leader):
					state = "leader"
				case s.Gossip == "dead" || s.Gossip == "left":
					// Still in the configuration, but not answering.
					state = "unreachable"
				}
				t.add(s.ID, s.Address, state, strconv.FormatBool(s.Voter))
			}
			if err := t.render(stdout(cmd), st); err != nil {
				return err
			}
			if resp.Leader == "" {
				fmt.Fprintln(stderr(cmd), "Warning: the cluster has no leader right now")
			}
			return nil
		}),
	}
	out.register(cmd.Flags(), false, formatTable, formatJSON, formatYAML)
	return cmd
}

func newRaftRemovePeerCommand(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "remove-peer NODE_ID",
		Short: "Remove a replica from the Raft configuration",
		Long: `Remove a replica from the Raft configuration, for one that is gone for good
(its disk lost, its machine retired). The leader removes dead replicas by
itself after --replica-dead-grace; this does it now. The node ID is the full
one that list-peers shows.`,
		Example: "  shoal operator raft remove-peer n-3f2a1b4c-0d1e-4f5a-8b6c-7d8e9f0a1b2c",
		Args:    args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			if err := c.Operator().RemovePeer(cmd.Context(), a[0]); err != nil {
				return err
			}
			fmt.Fprintf(stdout(cmd), "Removed %s from the Raft configuration.\n", a[0])
			return nil
		}),
	}
}

func newRaftTransferCommand(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "transfer-leadership [NODE_ID]",
		Short: "Hand leadership to another replica",
		Long: `Ask the leader to hand leadership over: to the replica named, or without one
to the most up-to-date voter. Useful before restarting the leader's machine.`,
		Example: "  shoal operator raft transfer-leadership\n  shoal operator raft transfer-leadership n-3f2a1b4c-0d1e-4f5a-8b6c-7d8e9f0a1b2c",
		Args:    args(cobra.MaximumNArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			to := ""
			if len(a) == 1 {
				to = a[0]
			}
			if err := c.Operator().TransferLeadership(cmd.Context(), to); err != nil {
				return err
			}
			// Say who leads now, when a replica already knows.
			if resp, _, err := c.Operator().Raft(cmd.Context()); err == nil && resp.Leader != "" {
				fmt.Fprintf(stdout(cmd), "Leadership transferred; the leader is now %s.\n", resp.Leader)
				return nil
			}
			fmt.Fprintln(stdout(cmd), "Leadership transferred.")
			return nil
		}),
	}
}
