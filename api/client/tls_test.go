package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 (its own CA)
// and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"server.shoal"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)
	var sawClientCert bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawClientCert = r.TLS != nil && len(r.TLS.PeerCertificates) > 0
		_, _ = w.Write([]byte(`{"Status":"OK"}`))
	}))
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()

	env := map[string]string{EnvCACert: certFile, EnvClientCert: certFile, EnvClientKey: keyFile}
	files := TLSFromEnv(func(k string) string { return env[k] })
	cfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New([]string{srv.URL}, WithTLSConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Agent().Alive(context.Background()); err != nil {
		t.Fatalf("alive over https: %v", err)
	}
	if !sawClientCert {
		t.Error("the client certificate was not presented")
	}
	// server.shoal instead of the address dialed.
	files.ServerName = "server.shoal"
	cfg, _ = files.Config()
	c, _ = New([]string{srv.URL}, WithTLSConfig(cfg))
	if _, _, err := c.Agent().Alive(context.Background()); err != nil {
		t.Errorf("alive with ServerName server.shoal: %v", err)
	}
	// Plain HTTP to the HTTPS port gets an error that says what to do.
	c, _ = New([]string{"http://" + strings.TrimPrefix(srv.URL, "https://")})
	_, _, err = c.Agent().Alive(context.Background())
	if err == nil || !strings.Contains(err.Error(), "https://") {
		t.Errorf("plain http to https: %v", err)
	}

	bad := map[string]TLSFiles{
		"missing CA":        {CACert: filepath.Join(dir, "nope.pem")},
		"CA not PEM":        {CACert: keyFile + "x"},
		"cert without key":  {ClientCert: certFile},
		"key without cert":  {ClientKey: keyFile},
		"key does not load": {ClientCert: certFile, ClientKey: certFile},
	}
	for name, f := range bad {
		if _, err := f.Config(); err == nil {
			t.Errorf("%s: Config succeeded", name)
		}
	}
	if !(TLSFiles{}).Empty() || files.Empty() {
		t.Error("Empty")
	}
}
