package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// identities makes a CA with one certificate per role, and a second CA with
// a server certificate.
func identities(t *testing.T) map[string]TLSFiles {
	t.Helper()
	out := map[string]TLSFiles{}
	for _, ca := range []string{"ours", "theirs"} {
		dir, caCert, caKey := newCA(t)
		roles := []string{RoleServer, RoleCompute, RoleCLI}
		if ca == "theirs" {
			roles = roles[:1]
		}
		for _, role := range roles {
			sub := filepath.Join(dir, roleBase(role))
			if err := mkdir(sub); err != nil {
				t.Fatal(err)
			}
			c, k, err := CreateCert(CertRequest{Role: role, CACert: caCert, CAKey: caKey, Dir: sub})
			if err != nil {
				t.Fatal(err)
			}
			out[ca+" "+roleBase(role)] = TLSFiles{CAFile: caCert, CertFile: c, KeyFile: k}
		}
	}
	return out
}

func load(t *testing.T, f TLSFiles) *TLS {
	t.Helper()
	id, err := LoadTLS(f)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// handshake runs both sides of a TLS handshake over a pipe and returns what
// the server saw, the server side's error and the client side's.
func handshake(t *testing.T, server, client *tls.Config) (cs tls.ConnectionState, serverErr, clientErr error) {
	t.Helper()
	a, b := net.Pipe()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	srv := tls.Server(a, server)
	go func() {
		err := srv.HandshakeContext(ctx)
		// Read so a TLS 1.3 client learns of a refusal.
		a.Close()
		done <- err
	}()
	cl := tls.Client(b, client)
	clientErr = cl.HandshakeContext(ctx)
	if clientErr == nil {
		_, clientErr = cl.Read(make([]byte, 1))
		if errors.Is(clientErr, net.ErrClosed) || clientErr != nil && clientErr.Error() == "EOF" {
			clientErr = nil
		}
	}
	b.Close()
	serverErr = <-done
	return srv.ConnectionState(), serverErr, clientErr
}

func TestPeerTLS(t *testing.T) {
	ids := identities(t)
	ours := load(t, ids["ours server"])
	tests := []struct {
		name   string
		server *tls.Config
		client *tls.Config
		ok     bool
	}{
		{"raft: server to server", ours.PeerServerConfig(RoleServer), ours.PeerClientConfig(RoleServer), true},
		{"raft: compute certificate refused", ours.PeerServerConfig(RoleServer), load(t, ids["ours compute"]).PeerClientConfig(RoleServer), false},
		{"raft: cli certificate refused", ours.PeerServerConfig(RoleServer), load(t, ids["ours cli"]).PeerClientConfig(RoleServer), false},
		{"raft: another CA's server refused (inbound)", ours.PeerServerConfig(RoleServer), load(t, ids["theirs server"]).PeerClientConfig(RoleServer), false},
		{"raft: another CA's server refused (outbound)", load(t, ids["theirs server"]).PeerServerConfig(RoleServer), ours.PeerClientConfig(RoleServer), false},
		{"raft: no client certificate refused", ours.PeerServerConfig(RoleServer), &tls.Config{InsecureSkipVerify: true}, false}, //nolint:gosec // the test's stranger
		{"replica to node: compute certificate accepted", load(t, ids["ours compute"]).APIServerConfig(), ours.PeerClientConfig(RoleCompute, RoleServer), true},
		{"replica to node: cli certificate refused", load(t, ids["ours cli"]).APIServerConfig(), ours.PeerClientConfig(RoleCompute, RoleServer), false},
		{"node to replica: compute expects server.shoal", load(t, ids["ours compute"]).APIServerConfig(), ours.PeerClientConfig(RoleServer), false},
		{"api: no client certificate is fine", ours.APIServerConfig(), &tls.Config{RootCAs: ours.ca, ServerName: "localhost"}, true},
		{"api: another CA's client certificate refused", ours.APIServerConfig(), func() *tls.Config {
			theirs := load(t, ids["theirs server"])
			// Forced: Go's client would otherwise send no certificate the
			// server's CA list does not name.
			return &tls.Config{RootCAs: ours.ca, ServerName: "localhost",
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &theirs.cert, nil }}
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, serr, cerr := handshake(t, tt.server, tt.client)
			ok := serr == nil && cerr == nil
			if ok != tt.ok {
				t.Errorf("handshake: server %v, client %v; want ok=%v", serr, cerr, tt.ok)
			}
		})
	}
}

func TestPeerRoles(t *testing.T) {
	ids := identities(t)
	ours := load(t, ids["ours server"])
	cs, _, _ := handshake(t, ours.APIServerConfig(), load(t, ids["ours compute"]).PeerClientConfig(RoleServer))
	if got := PeerRoles(&cs); len(got) != 1 || got[0] != RoleCompute {
		t.Errorf("PeerRoles %v, want [compute.shoal]", got)
	}
	if got := PeerRoles(nil); got != nil {
		t.Errorf("PeerRoles(nil) %v", got)
	}
}

func TestLoadTLSChecksRoleAndCA(t *testing.T) {
	ids := identities(t)
	if _, err := LoadTLS(ids["ours compute"], RoleServer); !errors.Is(err, ErrWrongRole) {
		t.Errorf("compute certificate as a replica's: %v, want ErrWrongRole", err)
	}
	mixed := ids["ours server"]
	mixed.CAFile = ids["theirs server"].CAFile
	if _, err := LoadTLS(mixed); err == nil {
		t.Error("a certificate from another CA loaded")
	}
	if _, err := LoadTLS(TLSFiles{CAFile: mixed.CAFile}); err == nil {
		t.Error("a CA file alone loaded")
	}
}

func mkdir(p string) error { return os.MkdirAll(p, 0o750) }
