package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/auth"
	"github.com/spf13/cobra"
)

func runTLS(t *testing.T, args ...string) result {
	t.Helper()
	root := &cobra.Command{Use: "shoal", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newTLSCommand())
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	code := 0
	if err := root.ExecuteContext(context.Background()); err != nil {
		errOut.WriteString("Error: " + err.Error() + "\n")
		code = exitCode(err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

func TestTLSCommands(t *testing.T) {
	t.Chdir(t.TempDir())
	if r := runTLS(t, "tls", "cert", "create", "--server"); r.code == 0 || !strings.Contains(r.stderr, "shoal tls ca create") {
		t.Errorf("cert create without a CA: %+v", r)
	}
	if r := runTLS(t, "tls", "ca", "create"); r.code != 0 || !strings.Contains(r.stdout, auth.CAFile) {
		t.Fatalf("ca create: %+v", r)
	}
	if r := runTLS(t, "tls", "ca", "create"); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("second ca create: %+v", r)
	}
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
		file     string
		wantDNS  []string
	}{
		{args: []string{}, wantCode: 2, wantErr: "exactly one of"},
		{args: []string{"--server", "--cli"}, wantCode: 2, wantErr: "exactly one of"},
		{args: []string{"--server", "--additional-ipaddress", "o1"}, wantCode: 2, wantErr: "not an IP address"},
		{args: []string{"--server", "--additional-dnsname", "10.0.0.1"}, wantCode: 2, wantErr: "not a DNS name"},
		{args: []string{"--server", "--additional-dnsname", "o1,o2", "--additional-ipaddress", "10.0.0.1"}, file: "server-shoal.pem",
			wantDNS: []string{"server.shoal", "localhost", "o1", "o2"}},
		{args: []string{"--server"}, wantCode: 1, wantErr: "already exists"},
		{args: []string{"--compute"}, file: "compute-shoal.pem", wantDNS: []string{"compute.shoal"}},
		{args: []string{"--cli"}, file: "cli-shoal.pem", wantDNS: []string{"cli.shoal"}},
	}
	for _, tt := range tests {
		r := runTLS(t, append([]string{"tls", "cert", "create"}, tt.args...)...)
		if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantErr) {
			t.Errorf("cert create %v: code %d, stderr %q; want %d, %q", tt.args, r.code, r.stderr, tt.wantCode, tt.wantErr)
			continue
		}
		if tt.file == "" {
			continue
		}
		data, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.DNSNames, tt.wantDNS) {
			t.Errorf("%s DNS SANs %v, want %v", tt.file, c.DNSNames, tt.wantDNS)
		}
	}
}

// TestCLIOverHTTPS talks to an HTTPS API with the CA from SHOAL_CA_CERT, and
// checks the errors without it and over plain HTTP.
func TestCLIOverHTTPS(t *testing.T) {
	dir := t.TempDir()
	caCert, caKey, err := auth.CreateCA(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := auth.CreateCert(auth.CertRequest{Role: auth.RoleServer, CACert: caCert, CAKey: caKey, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	id, err := auth.LoadTLS(auth.TLSFiles{CAFile: caCert, CertFile: cert, KeyFile: key}, auth.RoleServer)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"Status":"OK"}`))
	}))
	srv.TLS = id.APIServerConfig()
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")

	ok := runCLIWith(t, context.Background(), testEnv(map[string]string{envAPIHost: "https://" + host, client.EnvCACert: caCert}), "", "agent", "alive")
	if ok.code != 0 || strings.TrimSpace(ok.stdout) != "OK" {
		t.Errorf("agent alive over https with SHOAL_CA_CERT: %+v", ok)
	}
	flag := runCLIWith(t, context.Background(), testEnv(nil), "", "--api-host", "https://"+host, "--ca-cert", caCert, "agent", "alive")
	if flag.code != 0 {
		t.Errorf("agent alive with --ca-cert: %+v", flag)
	}
	noCA := runCLIWith(t, context.Background(), testEnv(map[string]string{envAPIHost: "https://" + host}), "", "agent", "alive")
	if noCA.code == 0 || !strings.Contains(noCA.stderr, "certificate") {
		t.Errorf("agent alive without the CA: %+v", noCA)
	}
	plain := runCLIWith(t, context.Background(), testEnv(map[string]string{envAPIHost: host, client.EnvCACert: caCert}), "", "agent", "alive")
	if plain.code == 0 || !strings.Contains(plain.stderr, "https://") {
		t.Errorf("agent alive over plain http: %+v", plain)
	}
	halfPair := runCLIWith(t, context.Background(), testEnv(map[string]string{envAPIHost: "https://" + host, client.EnvClientCert: cert}), "", "agent", "alive")
	if halfPair.code != 2 || !strings.Contains(halfPair.stderr, client.EnvClientKey) {
		t.Errorf("a client certificate without its key: %+v", halfPair)
	}
}
