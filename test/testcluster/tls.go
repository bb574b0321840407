package testcluster

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// TLS is a cluster's certificates, made by the shoal binary itself
// (`shoal tls ca create`, `shoal tls cert create --server|--compute|--cli`),
// and an HTTPS client that trusts the CA and presents the CLI certificate.
type TLS struct {
	Dir                     string
	CA, CAKey               string
	ServerCert, ServerKey   string
	ComputeCert, ComputeKey string
	CLICert, CLIKey         string
	Client                  *http.Client
	// Peer is an HTTPS client presenting the server certificate, for what
	// only replicas may ask each other (the cluster's Raft status).
	Peer *http.Client
}

// MakeTLS creates a CA and one certificate per role in dir.
func MakeTLS(bin, dir string) (*TLS, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	for _, args := range [][]string{
		{"tls", "ca", "create"},
		{"tls", "cert", "create", "--server"},
		{"tls", "cert", "create", "--compute"},
		{"tls", "cert", "create", "--cli"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("shoal %v: %w\n%s", args, err, out)
		}
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	t := &TLS{
		Dir: dir, CA: p("shoal-agent-ca.pem"), CAKey: p("shoal-agent-ca-key.pem"),
		ServerCert: p("server-shoal.pem"), ServerKey: p("server-shoal-key.pem"),
		ComputeCert: p("compute-shoal.pem"), ComputeKey: p("compute-shoal-key.pem"),
		CLICert: p("cli-shoal.pem"), CLIKey: p("cli-shoal-key.pem"),
	}
	ca, err := os.ReadFile(t.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(t.CLICert, t.CLIKey)
	if err != nil {
		return nil, err
	}
	t.Client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{cert}},
	}}
	server, err := tls.LoadX509KeyPair(t.ServerCert, t.ServerKey)
	if err != nil {
		return nil, err
	}
	t.Peer = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{server}},
	}}
	return t, nil
}

// Args are serve's TLS flags with this CA and the given certificate.
func (t *TLS) Args(cert, key string) []string {
	return []string{"--tls-ca-file", t.CA, "--tls-cert-file", cert, "--tls-key-file", key}
}

// CLIEnv is the environment that points the shoal CLI at this cluster's CA
// and CLI certificate.
func (t *TLS) CLIEnv() []string {
	return []string{"SHOAL_CA_CERT=" + t.CA, "SHOAL_CLIENT_CERT=" + t.CLICert, "SHOAL_CLIENT_KEY=" + t.CLIKey}
}
