package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

// Defaults of the API address the client commands talk to, as upstream's.
const (
	defaultAPIHost = "127.0.0.1"
	defaultAPIPort = 1234

	envAPIHost = "SHOAL_API_HOST"
	envAPIPort = "SHOAL_API_PORT"
)

// cliEnv is what the client commands share: the API address flags and the
// outside world (clock, environment, terminal), held here rather than read
// from globals so that tests can pin them.
type cliEnv struct {
	apiHost string
	apiPort int
	// tls holds the --ca-cert/--client-cert/--client-key/--tls-server-name
	// flags; the environment fills what they leave empty.
	tls client.TLSFiles
	// token is the ACL secret sent as a bearer token (--token, SHOAL_TOKEN).
	token string

	now        func() time.Time
	location   *time.Location
	getenv     func(string) string
	isTerminal func(stream any) bool
	// httpClient is nil for the API client's own transport.
	httpClient *http.Client
}

func newCLIEnv() *cliEnv {
	return &cliEnv{
		now:        time.Now,
		location:   time.Local,
		getenv:     os.Getenv,
		isTerminal: isCharDevice,
	}
}

// isCharDevice reports whether stream is a terminal (or another character
// device): output piped to a file or a program gets no colors.
func isCharDevice(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// addClientCommands adds every command that talks to the REST API, and the
// global flags that say where it is.
func addClientCommands(root *cobra.Command, env *cliEnv) {
	pf := root.PersistentFlags()
	pf.StringVar(&env.apiHost, "api-host", defaultAPIHost,
		"host of the Shoal API, or a comma-separated list tried in turn (host, host:port or http(s)://host:port; env "+envAPIHost+")")
	pf.IntVar(&env.apiPort, "api-port", defaultAPIPort,
		"port of the Shoal API, for hosts given without one (env "+envAPIPort+")")
	pf.StringVar(&env.tls.CACert, "ca-cert", "", "CA certificate to check https:// replicas against (env "+client.EnvCACert+")")
	pf.StringVar(&env.tls.ClientCert, "client-cert", "", "client certificate to present over https, e.g. cli-shoal.pem (env "+client.EnvClientCert+")")
	pf.StringVar(&env.tls.ClientKey, "client-key", "", "the key of --client-cert (env "+client.EnvClientKey+")")
	pf.StringVar(&env.tls.ServerName, "tls-server-name", "", "name to check in the replicas' certificates instead of the host dialed; server.shoal fits any replica (env "+client.EnvTLSServerName+")")
	pf.StringVar(&env.token, "token", "",
		"ACL token (Secret ID) sent as 'Authorization: Bearer' (env "+envToken+")")
	root.AddCommand(
		newACLCommand(env),
		newJobCommand(env),
		newNodeCommand(env),
		newDockerCommand(env),
		newWasmCommand(env),
		newAgentCommand(env),
		newOperatorCommand(env),
	)
}

// apiHosts resolves the API addresses from the flags, or from the
// environment for a flag not given on the command line.
func (e *cliEnv) apiHosts(cmd *cobra.Command) ([]string, error) {
	host, port := e.apiHost, e.apiPort
	if f := cmd.Flags().Lookup("api-host"); f == nil || !f.Changed {
		if v := strings.TrimSpace(e.getenv(envAPIHost)); v != "" {
			host = v
		}
	}
	if f := cmd.Flags().Lookup("api-port"); f == nil || !f.Changed {
		if v := strings.TrimSpace(e.getenv(envAPIPort)); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil {
				return nil, usageErrorf("%s=%q is not a port number", envAPIPort, v)
			}
			port = p
		}
	}
	return splitHosts(host, port)
}

// splitHosts turns "a,b:2234,http://c:3234" into base URLs: an entry with
// its own port keeps it, one without gets port.
func splitHosts(list string, port int) ([]string, error) {
	if port <= 0 || port > 65535 {
		return nil, usageErrorf("invalid API port %d: want 1 to 65535", port)
	}
	var hosts []string
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		base, err := withPort(entry, port)
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, base)
	}
	if len(hosts) == 0 {
		return nil, usageErrorf("no API host given: set --api-host or %s", envAPIHost)
	}
	return hosts, nil
}

func withPort(entry string, port int) (string, error) {
	p := strconv.Itoa(port)
	if strings.Contains(entry, "://") {
		u, err := url.Parse(entry)
		if err != nil || u.Hostname() == "" {
			return "", usageErrorf("invalid API host %q", entry)
		}
		if u.Port() == "" {
			u.Host = net.JoinHostPort(u.Hostname(), p)
		}
		return client.NormalizeHost(u.String())
	}
	if _, _, err := net.SplitHostPort(entry); err == nil {
		return client.NormalizeHost(entry)
	}
	// A bare host, or a bare IPv6 address with or without brackets.
	host := strings.TrimSuffix(strings.TrimPrefix(entry, "["), "]")
	if strings.ContainsAny(host, "/?#@ ") {
		return "", usageErrorf("invalid API host %q", entry)
	}
	return client.NormalizeHost(net.JoinHostPort(host, p))
}

// apiClient builds the API client for a command, with the hosts it tries.
func (e *cliEnv) apiClient(cmd *cobra.Command) (*client.Client, []string, error) {
	hosts, err := e.apiHosts(cmd)
	if err != nil {
		return nil, nil, err
	}
	opts := []client.Option{client.WithUserAgent("shoal-cli/" + gitVersion)}
	if err := e.setupTLS(); err != nil {
		return nil, nil, err
	}
	if e.httpClient != nil {
		opts = append(opts, client.WithHTTPClient(e.httpClient))
	}
	if token := e.aclToken(cmd); token != "" {
		opts = append(opts, client.WithToken(token))
	}
	c, err := client.New(hosts, opts...)
	if err != nil {
		return nil, nil, usageError(err)
	}
	return c, hosts, nil
}

// setupTLS makes the HTTP client every command uses (API calls, logs,
// result downloads) speak TLS with the files given, when any is.
func (e *cliEnv) setupTLS() error {
	env := client.TLSFromEnv(e.getenv)
	for _, v := range []struct{ flag, env *string }{
		{&e.tls.CACert, &env.CACert}, {&e.tls.ClientCert, &env.ClientCert},
		{&e.tls.ClientKey, &env.ClientKey}, {&e.tls.ServerName, &env.ServerName},
	} {
		if *v.flag == "" {
			*v.flag = *v.env
		}
	}
	if e.httpClient != nil || e.tls.Empty() {
		return nil
	}
	cfg, err := e.tls.Config()
	if err != nil {
		return usageError(err)
	}
	e.httpClient = client.HTTPClient(cfg)
	return nil
}

// aclToken is --token, or SHOAL_TOKEN when the flag is not given.
func (e *cliEnv) aclToken(cmd *cobra.Command) string {
	if f := cmd.Flags().Lookup("token"); f == nil || !f.Changed {
		if v := strings.TrimSpace(e.getenv(envToken)); v != "" {
			return v
		}
	}
	return e.token
}

// stdout and stderr are the command's streams (tests replace them).
func stdout(cmd *cobra.Command) io.Writer { return cmd.OutOrStdout() }
func stderr(cmd *cobra.Command) io.Writer { return cmd.ErrOrStderr() }
