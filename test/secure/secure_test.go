// Package secure_test runs a cluster with TLS on every connection and a
// gossip key, on loopback: three replicas and a compute node whose
// certificates come from `shoal tls`, driven by the shoal CLI over HTTPS.
// It checks that plaintext is refused, and that a replica holding another
// CA's certificate never becomes a Raft server. Skipped under -short.
package secure_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
)

const noopJob = `Type: batch
Count: 1
Tasks:
  - Name: main
    Engine: {Type: noop}
`

func TestSecureCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process TLS test; skipped under -short")
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	gossip := []string{"--gossip-key", base64.StdEncoding.EncodeToString(key)}
	c := testcluster.Start(t, testcluster.Options{
		Replicas: 3, ComputeNodes: 1, TLS: true, FastFailover: true,
		ReplicaArgs: gossip, ComputeArgs: append([]string{"--engines", "noop"}, gossip...),
	})
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	bin, err := testcluster.Binary()
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, p := range c.Replicas {
		hosts = append(hosts, p.URL())
	}

	t.Run("cli over https runs a job", func(t *testing.T) {
		spec := filepath.Join(t.TempDir(), "job.yaml")
		if err := os.WriteFile(spec, []byte(noopJob), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := cli(ctx, bin, c.TLS.CLIEnv(), "--api-host", strings.Join(hosts, ","), "job", "run", spec)
		if err != nil {
			t.Fatalf("job run over https: %v\n%s", err, out)
		}
		if !strings.Contains(out, "Completed") && !strings.Contains(out, "completed") {
			t.Errorf("job run output does not say the job completed:\n%s", out)
		}
		// The CA alone (no client certificate) is enough for the API.
		out, err = cli(ctx, bin, []string{"SHOAL_CA_CERT=" + c.TLS.CA}, "--api-host", hosts[1], "node", "list")
		if err != nil || !strings.Contains(out, "c1") {
			t.Errorf("node list with only the CA: %v\n%s", err, out)
		}
	})

	t.Run("plaintext and strangers are refused", func(t *testing.T) {
		plain := &http.Client{Timeout: 5 * time.Second}
		for _, p := range append(slices.Clone(c.Replicas), c.Computes...) {
			resp, err := plain.Get("http://" + p.APIAddr + "/api/v1/agent/alive")
			if err != nil {
				continue // refused outright is fine too
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "HTTPS") {
				t.Errorf("plain HTTP to %s answered %d %q; want a refusal", p.ID, resp.StatusCode, body)
			}
		}
		// The CLI given http:// says what is wrong.
		out, err := cli(ctx, bin, c.TLS.CLIEnv(), "--api-host", "http://"+c.Replicas[0].APIAddr, "agent", "alive")
		if err == nil || !strings.Contains(out, "https://") {
			t.Errorf("CLI over plain http: err %v, output %q; want a failure that names https://", err, out)
		}
		// Without the CA, the replica's certificate is not trusted.
		out, err = cli(ctx, bin, nil, "--api-host", hosts[0], "agent", "alive")
		if err == nil || !strings.Contains(out, "certificate") {
			t.Errorf("CLI without the CA: err %v, output %q; want a certificate error", err, out)
		}
	})

	t.Run("raft refuses certificates without server.shoal from the CA", func(t *testing.T) {
		other, err := testcluster.MakeTLS(bin, filepath.Join(t.TempDir(), "other-ca"))
		if err != nil {
			t.Fatal(err)
		}
		for name, pair := range map[string][2]string{
			"another CA's server certificate": {other.ServerCert, other.ServerKey},
			"our CA's cli certificate":        {c.TLS.CLICert, c.TLS.CLIKey},
			"our CA's compute certificate":    {c.TLS.ComputeCert, c.TLS.ComputeKey},
		} {
			if raftAccepts(t, c.Replicas[0].RaftAddr, c.TLS.CA, pair[0], pair[1]) {
				t.Errorf("Raft of o1 accepted %s", name)
			}
		}
		if !raftAccepts(t, c.Replicas[0].RaftAddr, c.TLS.CA, c.TLS.ServerCert, c.TLS.ServerKey) {
			t.Errorf("Raft of o1 refused our own server certificate")
		}
	})

	t.Run("a replica with another CA's certificate never joins raft", func(t *testing.T) {
		other, err := testcluster.MakeTLS(bin, filepath.Join(t.TempDir(), "rogue-ca"))
		if err != nil {
			t.Fatal(err)
		}
		rogue, err := c.AddReplica(other.Args(other.ServerCert, other.ServerKey)...)
		if err != nil {
			t.Fatal(err)
		}
		rogue.TLS = other
		// Gossip lets it in (it has the key); the leader's replica monitor
		// runs every 2 s and on every membership change. Give it several.
		deadline := time.Now().Add(8 * time.Second)
		for time.Now().Before(deadline) {
			if ids := raftServers(ctx, t, c); slices.Contains(ids, rogue.ID) {
				t.Fatalf("the rogue replica %s is in the Raft configuration: %v", rogue.ID, ids)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if ids := raftServers(ctx, t, c); len(ids) != 3 {
			t.Errorf("Raft configuration %v; want o1, o2, o3", ids)
		}
		out, err := cli(ctx, bin, c.TLS.CLIEnv(), "--api-host", strings.Join(hosts, ","), "operator", "raft", "list-peers")
		if err != nil || strings.Contains(out, rogue.ID) {
			t.Errorf("operator raft list-peers: %v\n%s", err, out)
		}
	})
}

func cli(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cleanEnv is this process's environment without SHOAL_ settings.
func cleanEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "SHOAL_") })
}

// raftAccepts opens a TLS connection to a Raft port with a certificate and
// reads: an accepting replica waits for an RPC (the read times out), a
// refusing one sends an alert (TLS 1.3 tells the client only then).
func raftAccepts(t *testing.T, addr, caFile, certFile, keyFile string) bool {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	conn, err := tls.Dial("tcp", addr, &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "server.shoal", MinVersion: tls.VersionTLS12,
	})
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func raftServers(ctx context.Context, t *testing.T, c *testcluster.Cluster) []string {
	t.Helper()
	// Any replica knows the configuration; the rogue one must not be asked.
	r, err := c.Replicas[0].Get(ctx, "/api/v1/operator/raft")
	if err != nil {
		t.Fatal(err)
	}
	var rc api.RaftConfigurationResponse
	if err := r.Decode(&rc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range rc.Servers {
		ids = append(ids, s.ID)
	}
	return ids
}
