package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCertPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newCA(t *testing.T) (dir, cert, key string) {
	t.Helper()
	dir = t.TempDir()
	cert, key, err := CreateCA(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	return dir, cert, key
}

func TestCreateCA(t *testing.T) {
	dir, certPath, keyPath := newCA(t)
	if certPath != filepath.Join(dir, CAFile) || keyPath != filepath.Join(dir, CAKeyFile) {
		t.Fatalf("paths %s %s", certPath, keyPath)
	}
	ca := readCert(t, certPath)
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("not a usable CA: IsCA %v usage %v", ca.IsCA, ca.KeyUsage)
	}
	pub, ok := ca.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key %T, want ECDSA P-256", ca.PublicKey)
	}
	if info, err := os.Stat(keyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v; want 0600", info.Mode().Perm(), err)
	}
	if _, _, err := CreateCA(dir, 0); !errors.Is(err, ErrExists) {
		t.Errorf("second CreateCA: %v, want ErrExists", err)
	}
	// The refusal left the first CA as it was.
	if again := readCert(t, certPath); !again.Equal(ca) {
		t.Error("the CA certificate changed")
	}
}

func TestCreateCert(t *testing.T) {
	_, caCert, caKey := newCA(t)
	ca := readCert(t, caCert)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	tests := []struct {
		role     string
		dns      []string
		ips      []net.IP
		wantFile string
		wantDNS  []string
		wantIPs  []string
	}{
		{role: RoleServer, wantFile: "server-shoal.pem", wantDNS: []string{"server.shoal", "localhost"}, wantIPs: []string{"127.0.0.1"}},
		{role: RoleServer, dns: []string{"o1", "o1"}, ips: []net.IP{net.ParseIP("10.0.0.5"), net.ParseIP("127.0.0.1")},
			wantFile: "server-shoal.pem", wantDNS: []string{"server.shoal", "localhost", "o1"}, wantIPs: []string{"10.0.0.5", "127.0.0.1"}},
		{role: RoleCompute, wantFile: "compute-shoal.pem", wantDNS: []string{"compute.shoal"}},
		{role: RoleCLI, dns: []string{"me.example"}, wantFile: "cli-shoal.pem", wantDNS: []string{"cli.shoal", "me.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			dir := t.TempDir()
			certPath, keyPath, err := CreateCert(CertRequest{Role: tt.role, DNSNames: tt.dns, IPs: tt.ips, CACert: caCert, CAKey: caKey, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(certPath) != tt.wantFile {
				t.Errorf("file %s, want %s", filepath.Base(certPath), tt.wantFile)
			}
			c := readCert(t, certPath)
			if !slices.Equal(c.DNSNames, tt.wantDNS) {
				t.Errorf("DNS SANs %v, want %v", c.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range c.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IP SANs %v, want %v", ips, tt.wantIPs)
			}
			if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: tt.role, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Errorf("does not verify under the CA as %s: %v", tt.role, err)
			}
			if _, ok := c.PublicKey.(*ecdsa.PublicKey); !ok {
				t.Errorf("key %T, want ECDSA", c.PublicKey)
			}
			if _, err := LoadTLS(TLSFiles{CAFile: caCert, CertFile: certPath, KeyFile: keyPath}, tt.role); err != nil {
				t.Errorf("LoadTLS: %v", err)
			}
			if _, _, err := CreateCert(CertRequest{Role: tt.role, CACert: caCert, CAKey: caKey, Dir: dir}); !errors.Is(err, ErrExists) {
				t.Errorf("second CreateCert: %v, want ErrExists", err)
			}
		})
	}
}

func TestCreateCertRefuses(t *testing.T) {
	_, caCert, caKey := newCA(t)
	_, otherCert, otherKey := newCA(t)
	_, leafCert, leafKey := func() (string, string, string) {
		dir := t.TempDir()
		c, k, err := CreateCert(CertRequest{Role: RoleServer, CACert: caCert, CAKey: caKey, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return dir, c, k
	}()
	tests := map[string]CertRequest{
		"unknown role":             {Role: "admin.shoal", CACert: caCert, CAKey: caKey},
		"missing CA":               {Role: RoleServer, CACert: "nope.pem", CAKey: caKey},
		"key of another CA":        {Role: RoleServer, CACert: caCert, CAKey: otherKey},
		"certificate not a CA":     {Role: RoleServer, CACert: leafCert, CAKey: leafKey},
		"CA of another key's cert": {Role: RoleServer, CACert: otherCert, CAKey: caKey},
	}
	for name, req := range tests {
		t.Run(name, func(t *testing.T) {
			req.Dir = t.TempDir()
			if _, _, err := CreateCert(req); err == nil {
				t.Fatal("CreateCert succeeded")
			}
			if left, _ := os.ReadDir(req.Dir); len(left) != 0 {
				t.Errorf("a refused CreateCert left %d files behind", len(left))
			}
		})
	}
}
