package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/spf13/cobra"
)

// envToken is where the CLI finds its ACL token when --token is not given.
const envToken = "SHOAL_TOKEN"

func newACLCommand(env *cliEnv) *cobra.Command {
	cmd := newGroupCommand("acl", "Bootstrap ACLs and manage API tokens",
		`Manage the API tokens of a cluster started with --acl. "acl bootstrap" makes
the one management token (once); the token commands need a management token
(--token or SHOAL_TOKEN), except "acl token self".`)
	token := newGroupCommand("token", "Create, list, revoke and inspect API tokens",
		`Create, list and revoke API tokens, or show the one you use. Roles:
  read        every GET (jobs, nodes, logs, results, metrics)
  submit      read + create and stop jobs (in --namespace only, when given)
  operator    read + Raft peers list and leadership transfer, snapshot save,
              digest, gc and /debug/pprof
  management  everything, including snapshot restore, peer removal and tokens
  node        a compute node's token: register, watch and report, nothing else`)
	token.AddCommand(newACLTokenCreateCommand(env), newACLTokenListCommand(env), newACLTokenRevokeCommand(env), newACLTokenSelfCommand(env))
	cmd.AddCommand(newACLBootstrapCommand(env), token)
	return cmd
}

func newACLBootstrapCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Make the cluster's first management token (once)",
		Long: `Make the bootstrap management token. It works once per cluster: a second
bootstrap is refused. Keep the Secret ID safe: it is shown only now, and the
cluster keeps only a hash of it.`,
		Example: "  shoal acl bootstrap\n  export SHOAL_TOKEN=$(shoal acl bootstrap --output json | jq -r .SecretID)",
		Args:    args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(formatText, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			tok, err := c.ACL().Bootstrap(cmd.Context())
			if err != nil {
				return err
			}
			if out.format != formatText {
				return printData(stdout(cmd), out.format, tok)
			}
			printToken(stdout(cmd), tok)
			fmt.Fprintf(stdout(cmd), "\nUse it with: export %s=%s\n", envToken, tok.SecretID)
			return nil
		}),
	}
	out.register(cmd.Flags(), false, formatText, formatJSON, formatYAML)
	return cmd
}

func newACLTokenCreateCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	var req api.ACLTokenCreateRequest
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create --name NAME --role ROLE",
		Short: "Create a token; its Secret ID is shown only now",
		Example: `  shoal acl token create --name ci --role submit --namespace team-a --ttl 720h
  shoal acl token create --name compute --role node --output json`,
		Args: args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(formatText, formatJSON, formatYAML); err != nil {
				return err
			}
			if strings.TrimSpace(req.Name) == "" || req.Role == "" {
				return usageErrorf("--name and --role are required")
			}
			if ttl < 0 {
				return usageErrorf("--ttl must be positive")
			}
			if ttl > 0 {
				req.TTL = ttl.String()
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			tok, err := c.ACL().CreateToken(cmd.Context(), &req)
			if err != nil {
				return err
			}
			if out.format != formatText {
				return printData(stdout(cmd), out.format, tok)
			}
			printToken(stdout(cmd), tok)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "the token's name (required)")
	f.StringVar(&req.Role, "role", "", "read, submit, operator, management or node (required)")
	f.StringVar(&req.Namespace, "namespace", "", "limit a submit token to this namespace")
	f.DurationVar(&ttl, "ttl", 0, "how long the token lives, e.g. 24h (default: until revoked)")
	out.register(f, false, formatText, formatJSON, formatYAML)
	return cmd
}

func newACLTokenListCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the tokens (never their secrets)",
		Example: "  shoal acl token list\n  shoal acl token list --output json",
		Args:    args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(formatTable, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			toks, err := c.ACL().ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			if out.format != formatTable {
				return printData(stdout(cmd), out.format, toks)
			}
			t := newTable("ACCESSOR ID", "NAME", "ROLE", "NAMESPACE", "EXPIRES")
			for _, tok := range toks {
				t.add(tok.AccessorID, tok.Name, tok.Role, tok.Namespace, expiry(tok))
			}
			return t.render(stdout(cmd), out.styler(env, cmd))
		}),
	}
	out.register(cmd.Flags(), false, formatTable, formatJSON, formatYAML)
	return cmd
}

func newACLTokenRevokeCommand(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ACCESSOR",
		Short: "Revoke a token: every replica refuses it within moments",
		Long: `Revoke a token by its Accessor ID. Revoking a token the clientkey handshake
issued revokes that client key: all its tokens go, and it gets no new one.`,
		Example: "  shoal acl token revoke 6a1e0f7c-2b1d-4f8e-9c3a-5d7b8e9f0a1b",
		Args:    args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			res, err := c.ACL().RevokeToken(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout(cmd), "Revoked token %s (%s)", res.Token.AccessorID, res.Token.Name)
			if res.Token.ClientKey != "" {
				fmt.Fprintf(stdout(cmd), " and client key %s (%d tokens)", res.Token.ClientKey, res.Removed)
			}
			fmt.Fprintln(stdout(cmd))
			return nil
		}),
	}
}

func newACLTokenSelfCommand(env *cliEnv) *cobra.Command {
	var out outputFlags
	cmd := &cobra.Command{
		Use:     "self",
		Short:   "Show the token this CLI sends",
		Example: "  SHOAL_TOKEN=<secret> shoal acl token self\n  shoal acl token self --token <secret> --output json",
		Args:    args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if err := out.check(formatText, formatJSON, formatYAML); err != nil {
				return err
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			tok, err := c.ACL().Self(cmd.Context())
			if err != nil {
				return err
			}
			if out.format != formatText {
				return printData(stdout(cmd), out.format, tok)
			}
			printToken(stdout(cmd), tok)
			return nil
		}),
	}
	out.register(cmd.Flags(), false, formatText, formatJSON, formatYAML)
	return cmd
}

func printToken(w io.Writer, t *api.ACLToken) {
	fmt.Fprintf(w, "Accessor ID: %s\n", t.AccessorID)
	if t.SecretID != "" {
		fmt.Fprintf(w, "Secret ID:   %s\n", t.SecretID)
	}
	fmt.Fprintf(w, "Name:        %s\nRole:        %s\n", t.Name, t.Role)
	if t.Namespace != "" {
		fmt.Fprintf(w, "Namespace:   %s\n", t.Namespace)
	}
	fmt.Fprintf(w, "Expires:     %s\n", expiry(t))
}

func expiry(t *api.ACLToken) string {
	if t.ExpirationTime == 0 {
		return "never"
	}
	return time.Unix(0, t.ExpirationTime).UTC().Format(time.RFC3339)
}
