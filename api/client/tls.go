package client

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"

	"github.com/shoal-io/shoal/api"
)

// Environment variables the CLI (and TLSFromEnv) read for HTTPS.
const (
	EnvCACert        = "SHOAL_CA_CERT"
	EnvClientCert    = "SHOAL_CLIENT_CERT"
	EnvClientKey     = "SHOAL_CLIENT_KEY"
	EnvTLSServerName = "SHOAL_TLS_SERVER_NAME"
)

// TLSFiles configure HTTPS to a cluster whose replicas hold certificates
// from a private CA (shoal tls ca create).
type TLSFiles struct {
	// CACert is the PEM file of the CA the replicas' certificates chain to
	// (empty: the system's roots).
	CACert string
	// ClientCert and ClientKey, both or neither, are presented to the
	// replicas (shoal tls cert create --cli).
	ClientCert, ClientKey string
	// ServerName, when set, is the name checked in the replica's
	// certificate instead of the host dialed; server.shoal accepts any
	// replica of the cluster, whatever its address.
	ServerName string
}

// TLSFromEnv reads SHOAL_CA_CERT, SHOAL_CLIENT_CERT, SHOAL_CLIENT_KEY and
// SHOAL_TLS_SERVER_NAME with getenv (os.Getenv when nil).
func TLSFromEnv(getenv func(string) string) TLSFiles {
	if getenv == nil {
		getenv = os.Getenv
	}
	return TLSFiles{CACert: getenv(EnvCACert), ClientCert: getenv(EnvClientCert), ClientKey: getenv(EnvClientKey), ServerName: getenv(EnvTLSServerName)}
}

// Empty reports whether nothing is set.
func (f TLSFiles) Empty() bool { return f == TLSFiles{} }

// Config loads the files into a TLS client configuration.
func (f TLSFiles) Config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CACert != "" {
		data, err := os.ReadFile(f.CACert)
		if err != nil {
			return nil, api.BadRequestf("CA certificate (%s): %v", EnvCACert, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, api.BadRequestf("CA certificate %s (%s) holds no PEM certificate", f.CACert, EnvCACert)
		}
		cfg.RootCAs = pool
	}
	if (f.ClientCert == "") != (f.ClientKey == "") {
		return nil, api.BadRequestf("a client certificate needs its key: set both %s and %s, or neither", EnvClientCert, EnvClientKey)
	}
	if f.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
		if err != nil {
			return nil, api.BadRequestf("client certificate %s with key %s: %v", f.ClientCert, f.ClientKey, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// HTTPClient is an HTTP client like the one New makes by default, speaking
// TLS with cfg.
func HTTPClient(cfg *tls.Config) *http.Client {
	hc := defaultHTTPClient()
	hc.Transport.(*http.Transport).TLSClientConfig = cfg
	return hc
}

// WithTLSConfig makes the client use cfg for https:// hosts (see TLSFiles).
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *Client) {
		if cfg != nil {
			c.httpClient = HTTPClient(cfg)
		}
	}
}

// plaintextToTLS explains a 400 that Go's HTTPS servers give a plain HTTP
// request, whose body is this sentence.
const plaintextToTLS = "Client sent an HTTP request to an HTTPS server."
