package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/internal/httplimit"
)

// This file is the one place where the replica opens listeners and builds
// transports, so TLS can be added here without touching anything else.

func listenAPI(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the API on %s: %w", addr, err)
	}
	return l, nil
}

func newRaftTransport(bind, advertise string, logOutput io.Writer) (*raft.NetworkTransport, error) {
	adv, err := net.ResolveTCPAddr("tcp", advertise)
	if err != nil {
		return nil, fmt.Errorf("resolve Raft advertise address %q: %w", advertise, err)
	}
	if adv.IP == nil || adv.IP.IsUnspecified() {
		return nil, fmt.Errorf("raft advertise address %q is not reachable by others: set --advertise-raft-addr", advertise)
	}
	t, err := raft.NewTCPTransport(bind, adv, 5, 10*time.Second, logOutput)
	if err != nil {
		return nil, fmt.Errorf("start Raft transport on %s: %w", bind, err)
	}
	return t, nil
}

// newPeerClient is the HTTP client replicas use to talk to each other
// (forwarded writes, read barriers, bootstrap checks). Keep-alive pools are
// large because a follower forwards every write it receives.
func newPeerClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}}
}

// newHTTPServer serves the API with the limits every Shoal server puts on
// slow or greedy clients (httplimit: header and request read timeouts, idle
// keep-alives, header size; no write timeout, for blocking queries, log
// streams and downloads).
func newHTTPServer(h http.Handler) *http.Server {
	return httplimit.Default().Apply(&http.Server{Handler: h})
}
