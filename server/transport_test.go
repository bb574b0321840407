package server

import (
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/auth"
)

// testIdentity makes a CA in dir and loads a certificate of role signed by it.
func testIdentity(t *testing.T, caDir, role string) *auth.TLS {
	t.Helper()
	caCert, caKey := filepath.Join(caDir, auth.CAFile), filepath.Join(caDir, auth.CAKeyFile)
	dir := t.TempDir()
	cert, key, err := auth.CreateCert(auth.CertRequest{Role: role, CACert: caCert, CAKey: caKey, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	id, err := auth.LoadTLS(auth.TLSFiles{CAFile: caCert, CertFile: cert, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func newCADir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, _, err := auth.CreateCA(dir, 0); err != nil {
		t.Fatal(err)
	}
	return dir
}

// raftOverTLS starts a Raft transport with the identity on a free loopback
// port, answering every RequestVote it gets.
func raftOverTLS(t *testing.T, id *auth.TLS) *raft.NetworkTransport {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	tr, err := transports{tls: id, logger: slog.New(slog.DiscardHandler)}.newRaftTransport(addr, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	go func() {
		for rpc := range tr.Consumer() {
			rpc.Respond(&raft.RequestVoteResponse{Term: 7, Granted: true}, nil)
		}
	}()
	return tr
}

func TestRaftOverTLSAcceptsOnlyServersOfItsCA(t *testing.T) {
	ours, theirs := newCADir(t), newCADir(t)
	target := raftOverTLS(t, testIdentity(t, ours, auth.RoleServer))
	tests := []struct {
		name string
		from *auth.TLS
		ok   bool
	}{
		{"server of the same CA", testIdentity(t, ours, auth.RoleServer), true},
		{"compute of the same CA", testIdentity(t, ours, auth.RoleCompute), false},
		{"cli of the same CA", testIdentity(t, ours, auth.RoleCLI), false},
		{"server of another CA", testIdentity(t, theirs, auth.RoleServer), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := raftOverTLS(t, tt.from)
			var resp raft.RequestVoteResponse
			err := from.RequestVote("o1", target.LocalAddr(), &raft.RequestVoteRequest{RPCHeader: raft.RPCHeader{ID: []byte("x"), Addr: []byte(from.LocalAddr())}, Term: 7}, &resp)
			if got := err == nil && resp.Granted; got != tt.ok {
				t.Errorf("RequestVote: granted %v, error %v; want ok=%v", resp.Granted, err, tt.ok)
			}
			// And the other way round: the target dials it.
			var back raft.RequestVoteResponse
			err = target.RequestVote("o2", from.LocalAddr(), &raft.RequestVoteRequest{RPCHeader: raft.RPCHeader{ID: []byte("y"), Addr: []byte(target.LocalAddr())}, Term: 7}, &back)
			if got := err == nil && back.Granted; got != tt.ok {
				t.Errorf("reverse RequestVote: granted %v, error %v; want ok=%v", back.Granted, err, tt.ok)
			}
		})
	}
}

func TestCheckRaftPeer(t *testing.T) {
	ours, theirs := newCADir(t), newCADir(t)
	me := transports{tls: testIdentity(t, ours, auth.RoleServer), logger: slog.New(slog.DiscardHandler)}
	good := raftOverTLS(t, testIdentity(t, ours, auth.RoleServer))
	rogue := raftOverTLS(t, testIdentity(t, theirs, auth.RoleServer))
	if err := me.checkRaftPeer(t.Context(), string(good.LocalAddr())); err != nil {
		t.Errorf("a replica of our CA failed the check: %v", err)
	}
	if err := me.checkRaftPeer(t.Context(), string(rogue.LocalAddr())); err == nil {
		t.Error("a replica of another CA passed the check")
	}
	if err := (transports{}).checkRaftPeer(t.Context(), "127.0.0.1:1"); err != nil {
		t.Errorf("without TLS there is nothing to check: %v", err)
	}
}

func TestNodeClientRefusesPlaintext(t *testing.T) {
	ours := newCADir(t)
	c := transports{tls: testIdentity(t, ours, auth.RoleServer)}.nodeClient()
	c.Timeout = 2 * time.Second
	_, err := c.Get("http://127.0.0.1:1/logs")
	if err == nil {
		t.Fatal("plain http to a node succeeded")
	}
	if want := "https only"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
