// Package httplimit owns the limits every HTTP server Shoal runs puts on its
// clients (the replica's API, a compute node's results and logs endpoint):
// how long a client may take to send its request, how long an idle
// keep-alive connection is kept, and how large its headers may be. Bodies are
// capped by each server's own handlers (the replica's MaxBodyBytes).
//
// There is deliberately no WriteTimeout: blocking queries wait up to minutes
// before they answer, log streams follow a running execution for as long as
// it runs, and result downloads take as long as the network needs. A read
// deadline does not hurt any of them: net/http clears it once a request's
// body has been read to its end (or at once for a request without a body),
// and a hijacked connection (a websocket) starts with no deadline at all.
package httplimit

import (
	"net/http"
	"time"
)

// Limits are what a server allows its clients.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's line and headers: a client
	// that trickles them in (slowloris) is cut off.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request, body included. Request
	// bodies are small (the replica caps them at 10 MiB by default), so a
	// minute is generous for any client that is really sending.
	ReadTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its next
	// request.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps a request's line and headers; more is answered 431.
	MaxHeaderBytes int
}

// Default returns the limits Shoal's servers use.
func Default() Limits {
	return Limits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// Apply sets the limits on srv and returns it. WriteTimeout is left unset
// (see the package comment).
func (l Limits) Apply(srv *http.Server) *http.Server {
	srv.ReadHeaderTimeout = l.ReadHeaderTimeout
	srv.ReadTimeout = l.ReadTimeout
	srv.IdleTimeout = l.IdleTimeout
	srv.MaxHeaderBytes = l.MaxHeaderBytes
	srv.WriteTimeout = 0
	return srv
}
