package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// TLSFiles names the files of a process's TLS identity: the cluster's CA,
// and this process's certificate and key signed by it.
type TLSFiles struct {
	CAFile, CertFile, KeyFile string
}

// Enabled reports whether any file is named; Load then needs all three.
func (f TLSFiles) Enabled() bool { return f.CAFile != "" || f.CertFile != "" || f.KeyFile != "" }

// ErrWrongRole is returned when a certificate lacks the role its use needs.
var ErrWrongRole = errors.New("certificate lacks the role")

// TLS is a loaded identity: the CA pool every peer is checked against and
// this process's own certificate. Its methods build every TLS configuration
// Shoal uses, so the rules (TLS 1.2 at least, peers checked by role against
// the CA) live in one place.
type TLS struct {
	ca   *x509.CertPool
	cert tls.Certificate
	leaf *x509.Certificate
}

// LoadTLS reads the files and checks that the certificate was signed by the
// CA and carries one of the roles wanted (none: any role).
func LoadTLS(f TLSFiles, wantRoles ...string) (*TLS, error) {
	if f.CAFile == "" || f.CertFile == "" || f.KeyFile == "" {
		return nil, errors.New("TLS needs all three of the CA file, the certificate file and the key file")
	}
	pool, err := LoadCAPool(f.CAFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load certificate %s with key %s: %w", f.CertFile, f.KeyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parse certificate %s: %w", f.CertFile, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("certificate %s is not valid under the CA %s: %w", f.CertFile, f.CAFile, err)
	}
	if len(wantRoles) > 0 && !hasRole(leaf, wantRoles) {
		return nil, fmt.Errorf("certificate %s carries %s: %w %s (make one with shoal tls cert create --%s)",
			f.CertFile, describeRoles(leaf), ErrWrongRole, strings.Join(wantRoles, " or "), roleBase(wantRoles[0]))
	}
	return &TLS{ca: pool, cert: cert, leaf: leaf}, nil
}

// LoadCAPool reads one or more PEM certificates into a pool.
func LoadCAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// HasRole reports whether this process's own certificate carries role.
func (t *TLS) HasRole(role string) bool { return hasRole(t.leaf, []string{role}) }

// APIServerConfig is for HTTPS endpoints people and tools use (a replica's
// API, a compute node's results): a client certificate is checked against
// the CA when presented but not required, because tokens authorize
// requests and a CLI may hold only the CA.
func (t *TLS) APIServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{t.cert},
		ClientCAs:    t.ca,
		ClientAuth:   tls.VerifyClientCertIfGiven,
	}
}

// PeerServerConfig is for links only peers may open (Raft): the client must
// present a certificate from the CA that carries one of roles.
func (t *TLS) PeerServerConfig(roles ...string) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{t.cert},
		ClientCAs:    t.ca,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return requireRole(cs, roles, "client")
		},
	}
}

// PeerClientConfig is for connections this process opens to other members
// of the cluster: it presents its own certificate and accepts only a server
// certificate from the CA carrying one of roles, whatever address it
// dialed (members move; their role does not).
func (t *TLS) PeerClientConfig(roles ...string) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{t.cert},
		RootCAs:      t.ca,
		// The chain and the role are checked below instead of the host
		// name, which Go's default check would compare with the address.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the peer presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
				Roots: t.ca, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			}); err != nil {
				return fmt.Errorf("peer certificate: %w", err)
			}
			return requireRole(cs, roles, "server")
		},
	}
}

// PeerRoles lists the Shoal roles a verified peer certificate carries
// (none when the peer presented no certificate).
func PeerRoles(cs *tls.ConnectionState) []string {
	if cs == nil || len(cs.VerifiedChains) == 0 {
		return nil
	}
	var out []string
	for _, r := range []string{RoleServer, RoleCompute, RoleCLI} {
		if slices.Contains(cs.VerifiedChains[0][0].DNSNames, r) {
			out = append(out, r)
		}
	}
	return out
}

func requireRole(cs tls.ConnectionState, roles []string, side string) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("the %s presented no certificate", side)
	}
	if len(roles) == 0 || hasRole(cs.PeerCertificates[0], roles) {
		return nil
	}
	return fmt.Errorf("the %s's certificate carries %s: %w %s", side, describeRoles(cs.PeerCertificates[0]), ErrWrongRole, strings.Join(roles, " or "))
}

func hasRole(c *x509.Certificate, roles []string) bool {
	for _, r := range roles {
		if slices.Contains(c.DNSNames, r) {
			return true
		}
	}
	return false
}

func describeRoles(c *x509.Certificate) string {
	var have []string
	for _, r := range []string{RoleServer, RoleCompute, RoleCLI} {
		if slices.Contains(c.DNSNames, r) {
			have = append(have, r)
		}
	}
	if len(have) == 0 {
		return "no Shoal role"
	}
	return strings.Join(have, ", ")
}
