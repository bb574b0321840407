package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/shoal-io/shoal/auth"
	"github.com/spf13/cobra"
)

// newTLSCommand is `shoal tls`: a private CA and the certificates it signs,
// written into the current folder, as `nomad tls` does.
func newTLSCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tls",
		Short: "Create the certificates that secure a cluster (a private CA, then one certificate per role)",
		Long: `Create a private certificate authority and the certificates it signs, in the
current folder. Existing files are never overwritten.

  shoal tls ca create                       shoal-agent-ca.pem, shoal-agent-ca-key.pem
  shoal tls cert create --server            server-shoal.pem, server-shoal-key.pem
  shoal tls cert create --compute           compute-shoal.pem, compute-shoal-key.pem
  shoal tls cert create --cli               cli-shoal.pem, cli-shoal-key.pem

Each certificate names its role in a SAN (server.shoal, compute.shoal,
cli.shoal); members of the cluster accept each other by role and CA, not by
address. Keys are ECDSA P-256. Keep shoal-agent-ca-key.pem away from the
cluster: only this command needs it.`,
	}
	ca := &cobra.Command{Use: "ca", Short: "Manage the cluster's certificate authority"}
	ca.AddCommand(newTLSCACreateCommand())
	cert := &cobra.Command{Use: "cert", Short: "Manage certificates signed by the cluster's CA"}
	cert.AddCommand(newTLSCertCreateCommand())
	cmd.AddCommand(ca, cert)
	return cmd
}

func newTLSCACreateCommand() *cobra.Command {
	var days int
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Create a CA: shoal-agent-ca.pem and shoal-agent-ca-key.pem in the current folder",
		Args:    args(cobra.NoArgs),
		Example: "  shoal tls ca create",
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			if days <= 0 {
				return usageErrorf("--days must be at least 1, not %d", days)
			}
			certPath, keyPath, err := auth.CreateCA(".", time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout(cmd), "==> CA certificate saved to: %s\n==> CA certificate key saved to: %s\n", certPath, keyPath)
			return nil
		}),
	}
	cmd.Flags().IntVar(&days, "days", 5*365, "how many days the CA is valid")
	return cmd
}

func newTLSCertCreateCommand() *cobra.Command {
	var (
		server, computeRole, cli bool
		dnsNames, ipStrings      []string
		caFile, keyFile          string
		days                     int
	)
	cmd := &cobra.Command{
		Use:   "create --server|--compute|--cli",
		Short: "Create a certificate for a replica, a compute node or a CLI user, signed by the CA",
		Long: `Create a certificate and its key in the current folder, signed by the CA
(shoal-agent-ca.pem and shoal-agent-ca-key.pem here, or --ca and --key).

--server   server-shoal.pem: replicas. SANs server.shoal, localhost, 127.0.0.1.
--compute  compute-shoal.pem: compute nodes. SAN compute.shoal.
--cli      cli-shoal.pem: people and tools (SHOAL_CLIENT_CERT). SAN cli.shoal.

Add the names and addresses clients dial with --additional-dnsname and
--additional-ipaddress (repeat them, or separate with commas). Replicas and
compute nodes check each other by role, so they need none of these; the CLI
checks the host it dials unless --tls-server-name server.shoal is given.`,
		Example: `  shoal tls cert create --server --additional-dnsname o1.example.com --additional-ipaddress 10.0.0.5
  shoal tls cert create --compute
  shoal tls cert create --cli`,
		Args: args(cobra.NoArgs),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			var roles []string
			for _, r := range []struct {
				on   bool
				role string
			}{{server, auth.RoleServer}, {computeRole, auth.RoleCompute}, {cli, auth.RoleCLI}} {
				if r.on {
					roles = append(roles, r.role)
				}
			}
			if len(roles) != 1 {
				return usageErrorf("give exactly one of --server, --compute or --cli")
			}
			if days <= 0 {
				return usageErrorf("--days must be at least 1, not %d", days)
			}
			var ips []net.IP
			for _, s := range ipStrings {
				ip := net.ParseIP(s)
				if ip == nil {
					return usageErrorf("--additional-ipaddress %q is not an IP address", s)
				}
				ips = append(ips, ip)
			}
			for _, n := range dnsNames {
				if n == "" || net.ParseIP(n) != nil {
					return usageErrorf("--additional-dnsname %q is not a DNS name (IP addresses go in --additional-ipaddress)", n)
				}
			}
			if _, err := os.Stat(caFile); err != nil {
				return usageErrorf("no CA certificate at %s: create one with shoal tls ca create, or name it with --ca", caFile)
			}
			certPath, keyPath, err := auth.CreateCert(auth.CertRequest{
				Role: roles[0], DNSNames: dnsNames, IPs: ips, CACert: caFile, CAKey: keyFile,
				Dir: ".", Validity: time.Duration(days) * 24 * time.Hour,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout(cmd), "==> Using CA file %s and CA key %s\n==> Certificate saved to: %s\n==> Certificate key saved to: %s\n",
				caFile, keyFile, certPath, keyPath)
			return nil
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&server, "server", false, "a replica's certificate (server.shoal)")
	f.BoolVar(&computeRole, "compute", false, "a compute node's certificate (compute.shoal)")
	f.BoolVar(&cli, "cli", false, "a CLI user's certificate (cli.shoal)")
	f.StringSliceVar(&dnsNames, "additional-dnsname", nil, "another DNS name the certificate is valid for (repeatable)")
	f.StringSliceVar(&ipStrings, "additional-ipaddress", nil, "another IP address the certificate is valid for (repeatable)")
	f.StringVar(&caFile, "ca", auth.CAFile, "the CA certificate that signs")
	f.StringVar(&keyFile, "key", auth.CAKeyFile, "the CA's key")
	f.IntVar(&days, "days", 365, "how many days the certificate is valid (at most as long as the CA)")
	return cmd
}
