package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/auth"
	"github.com/shoal-io/shoal/internal/httplimit"
)

// This file is the one place where the replica opens listeners and builds
// transports. With Config.TLS set, every one of them speaks TLS: the API is
// HTTPS only (client certificates checked when presented), Raft is mutual
// TLS between server.shoal certificates of the same CA, and the replica's
// own calls check the role of whom they reach: server.shoal for replicas,
// compute.shoal for compute nodes.

// transports builds the replica's network endpoints from its TLS identity
// (nil: plaintext).
type transports struct {
	tls    *auth.TLS
	logger *slog.Logger
}

// scheme is the URL scheme of every HTTP endpoint in the cluster: a cluster
// is either all TLS or all plaintext.
func (t transports) scheme() string {
	if t.tls != nil {
		return "https"
	}
	return "http"
}

// url is the base URL of another member's HTTP endpoint at host:port.
func (t transports) url(hostPort string) string { return t.scheme() + "://" + hostPort }

func (t transports) listenAPI(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the API on %s: %w", addr, err)
	}
	if t.tls != nil {
		return tls.NewListener(l, t.tls.APIServerConfig()), nil
	}
	return l, nil
}

func (t transports) newRaftTransport(bind, advertise string, logOutput io.Writer) (*raft.NetworkTransport, error) {
	adv, err := net.ResolveTCPAddr("tcp", advertise)
	if err != nil {
		return nil, fmt.Errorf("resolve Raft advertise address %q: %w", advertise, err)
	}
	if adv.IP == nil || adv.IP.IsUnspecified() {
		return nil, fmt.Errorf("raft advertise address %q is not reachable by others: set --advertise-raft-addr", advertise)
	}
	if t.tls == nil {
		tr, err := raft.NewTCPTransport(bind, adv, 5, 10*time.Second, logOutput)
		if err != nil {
			return nil, fmt.Errorf("start Raft transport on %s: %w", bind, err)
		}
		return tr, nil
	}
	l, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("start Raft transport on %s: %w", bind, err)
	}
	stream := &tlsStreamLayer{
		Listener:  tls.NewListener(l, t.tls.PeerServerConfig(auth.RoleServer)),
		advertise: adv,
		dial:      t.tls.PeerClientConfig(auth.RoleServer),
		logger:    t.logger,
	}
	return raft.NewNetworkTransport(stream, 5, 10*time.Second, logOutput), nil
}

// checkRaftPeer makes sure a replica's Raft address answers with a
// server.shoal certificate of our CA before the leader adds it to the
// configuration: one holding another CA's certificate is never made a
// member, not even a non-voting one.
func (t transports) checkRaftPeer(ctx context.Context, addr string) error {
	if t.tls == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d := tls.Dialer{Config: t.tls.PeerClientConfig(auth.RoleServer)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("TLS check of Raft address %s: %w", addr, err)
	}
	return conn.Close()
}

// peerClient is the HTTP client replicas use to talk to each other
// (forwarded writes, read barriers, bootstrap checks). Keep-alive pools are
// large because a follower forwards every write it receives.
func (t transports) peerClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	if t.tls != nil {
		tr.TLSClientConfig = t.tls.PeerClientConfig(auth.RoleServer)
	}
	return &http.Client{Transport: tr}
}

// nodeClient is the HTTP client that fetches results and logs from compute
// nodes. The URLs come from what nodes reported, so with TLS on it goes
// only to HTTPS endpoints holding a compute certificate of our CA (or a
// server one: a dev-mode process is both).
func (t transports) nodeClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	if t.tls == nil {
		return &http.Client{Transport: tr}
	}
	tr.TLSClientConfig = t.tls.PeerClientConfig(auth.RoleCompute, auth.RoleServer)
	return &http.Client{Transport: httpsOnly{tr}}
}

// httpsOnly refuses plaintext requests.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" {
		return nil, fmt.Errorf("refusing %s: TLS is on, so compute nodes are reached over https only", r.URL.Redacted())
	}
	return h.next.RoundTrip(r)
}

// newHTTPServer serves the API with the limits every Shoal server puts on
// slow or greedy clients (httplimit: header and request read timeouts, idle
// keep-alives, header size; no write timeout, for blocking queries, log
// streams and downloads).
func newHTTPServer(h http.Handler) *http.Server {
	return httplimit.Default().Apply(&http.Server{Handler: h})
}

// tlsStreamLayer is Raft's network over mutual TLS.
type tlsStreamLayer struct {
	net.Listener // a tls.Listener
	advertise    net.Addr
	dial         *tls.Config
	logger       *slog.Logger
}

func (l *tlsStreamLayer) Addr() net.Addr { return l.advertise }

func (l *tlsStreamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: l.dial}
	conn, err := d.DialContext(ctx, "tcp", string(addr))
	if err != nil {
		return nil, fmt.Errorf("raft TLS dial %s: %w", addr, err)
	}
	return conn, nil
}

// Accept hands Raft the connection at once; the handshake runs on its first
// read, in the connection's own goroutine, so a slow or hostile peer cannot
// hold up the accept loop.
func (l *tlsStreamLayer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*tls.Conn)
	if !ok {
		_ = c.Close()
		return nil, errors.New("raft listener returned a connection without TLS")
	}
	return &raftServerConn{Conn: tc, logger: l.logger}, nil
}

// raftServerConn completes the TLS handshake before Raft reads a byte, and
// says who was refused.
type raftServerConn struct {
	*tls.Conn
	logger *slog.Logger
	once   sync.Once
	err    error
}

func (c *raftServerConn) Read(b []byte) (int, error) {
	c.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Conn.HandshakeContext(ctx); err != nil {
			c.err = fmt.Errorf("raft TLS handshake: %w", err)
			c.logger.Warn("refused a Raft connection", "remote", c.Conn.RemoteAddr().String(), "error", err)
		}
	})
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(b)
}
