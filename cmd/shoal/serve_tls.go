package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"

	"github.com/shoal-io/shoal/auth"
)

// loadTLS loads the process's TLS identity when --tls-* name one, checking
// its certificate carries the role the process plays. It returns nil when
// TLS is off.
func (o *serveOptions) loadTLS(logger *slog.Logger) (*auth.TLS, error) {
	if !o.tlsFiles.Enabled() {
		return nil, nil
	}
	// A replica needs a server certificate; a compute node its own, or a
	// server one (a dev-mode process is both and holds one certificate).
	roles := []string{auth.RoleCompute, auth.RoleServer}
	if o.orchestrator {
		roles = []string{auth.RoleServer}
	}
	id, err := auth.LoadTLS(o.tlsFiles, roles...)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca-file/--tls-cert-file/--tls-key-file: %w", err)
	}
	if o.gossipKey == "" {
		logger.Warn("TLS is on but gossip is NOT encrypted: anyone who reaches the gossip port can read and forge " +
			"cluster membership. Give every member the same --gossip-key (e.g. head -c 32 /dev/urandom | base64).")
	}
	return id, nil
}

// withTLS wraps a compute node's results and logs listener in TLS when it
// is on: people and replicas fetch from it over HTTPS.
func withTLS(l net.Listener, id *auth.TLS) net.Listener {
	if id == nil || l == nil {
		return l
	}
	return tls.NewListener(l, id.APIServerConfig())
}
