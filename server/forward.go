package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-io/shoal/api"
)

// writeFunc runs a write on the leader. It returns the answer and the index
// the write was applied at.
type writeFunc func(ctx context.Context, r *http.Request, body []byte) (status int, resp any, index uint64, err error)

// isIdempotent says whether a write may be sent again after an attempt whose
// outcome is unknown.
type isIdempotent func(r *http.Request, body []byte) bool

func always(*http.Request, []byte) bool { return true }

// leaderWrite runs fn on the leader, wherever the request arrived. On the
// leader it runs fn directly. Elsewhere it forwards the request to the
// leader, relays the answer, and answers only once this replica has applied
// the write's index itself, so the client reads its own write here. It waits
// up to LeaderWait for a leader; a request that reached no leader is retried
// against the next one, a request whose outcome is unknown only when it is
// idempotent.
func (s *Server) leaderWrite(idempotent isIdempotent, fn writeFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		deadline := time.Now().Add(s.cfg.LeaderWait)
		forwarded := r.Header.Get(headerForwardedBy) != ""
		if forwarded {
			ctx = withForwarded(ctx)
		}
		for attempt := 0; ; attempt++ {
			if s.isLeader() && !s.leaderReady.Load() {
				// A new leader takes writes only once it has applied every
				// entry of earlier terms: handlers check a request against
				// its state (a stop's job must exist), which until then may
				// lack acknowledged writes. Found by the chaos suite: a stop
				// answered 404 for an acknowledged job by a leader that had
				// just restarted after kill -9.
				if time.Now().After(deadline) || ctx.Err() != nil {
					s.writeError(w, r, api.NewError(api.ErrNoLeader, api.CodeNoLeader, api.ComponentRaft,
						"leader %s is still applying earlier entries", s.cfg.NodeID))
					return
				}
				s.sleep(ctx, backoff(attempt))
				continue
			}
			if s.isLeader() {
				status, resp, index, err := fn(ctx, r, body)
				if errors.Is(err, errNotLeader) && !forwarded && time.Now().Before(deadline) {
					continue // leadership moved before anything was written
				}
				if err != nil {
					s.writeError(w, r, mapWriteError(err))
					return
				}
				writeJSON(w, status, index, resp)
				return
			}
			if forwarded {
				// The replica that forwarded this will find the new leader.
				s.writeError(w, r, notLeaderError(s))
				return
			}
			_, addr, ok := s.waitForLeader(ctx, deadline)
			if !ok {
				s.writeError(w, r, noLeaderError(s, ctx))
				return
			}
			if addr == s.cfg.AdvertiseAPIAddr {
				continue // we just became the leader
			}
			resp, sent, err := s.forward(ctx, addr, r, body)
			if err != nil {
				unknown := sent && !idempotent(r, body)
				if unknown {
					s.writeError(w, r, api.NewError(api.ErrOutcomeUnknown, api.CodeOutcomeUnknown, api.ComponentRaft,
						"the leader did not answer; the write may or may not have been applied: retry it with an idempotency token (%v)", err))
					return
				}
				if time.Now().After(deadline) || ctx.Err() != nil {
					s.writeError(w, r, noLeaderError(s, ctx))
					return
				}
				s.sleep(ctx, backoff(attempt))
				continue
			}
			if resp.retryable() && time.Now().Before(deadline) {
				s.sleep(ctx, backoff(attempt))
				continue
			}
			s.relay(ctx, w, r, resp)
			return
		}
	}
}

func mapWriteError(err error) error {
	if errors.Is(err, errNotLeader) {
		return api.NewError(api.ErrNoLeader, api.CodeNoLeader, api.ComponentRaft, "leadership moved while the write was queued; retry: %v", err)
	}
	if errors.Is(err, api.ErrOutcomeUnknown) {
		var e *api.Error
		if !errors.As(err, &e) {
			return api.NewError(api.ErrOutcomeUnknown, api.CodeOutcomeUnknown, api.ComponentRaft,
				"the write may or may not have been applied: retry it with the same idempotency token (%v)", err)
		}
	}
	return err
}

func notLeaderError(s *Server) error {
	return api.NewError(api.ErrNoLeader, api.CodeNoLeader, api.ComponentRaft, "replica %s is not the leader", s.cfg.NodeID)
}

func noLeaderError(s *Server, ctx context.Context) error {
	if ctx.Err() != nil {
		return api.NewError(api.ErrUnavailable, api.CodeServiceUnavailable, api.ComponentRaft, "request ended while waiting for a leader: %v", ctx.Err())
	}
	return api.NewError(api.ErrNoLeader, api.CodeNoLeader, api.ComponentRaft,
		"no leader elected within %s: a majority of replicas may be down or cut off", s.cfg.LeaderWait).
		WithHint("check GET /api/v1/operator/raft on each replica")
}

func backoff(attempt int) time.Duration {
	d := 20 * time.Millisecond << min(attempt, 4)
	return min(d, 300*time.Millisecond)
}

func (s *Server) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// waitForLeader polls Raft until a leader with a known API address exists
// or the deadline passes.
func (s *Server) waitForLeader(ctx context.Context, deadline time.Time) (string, string, bool) {
	for {
		if id, addr, ok := s.leader(); ok {
			return id, addr, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return "", "", false
		}
		s.sleep(ctx, 25*time.Millisecond)
	}
}

// forwarded is a leader's answer to a forwarded request.
type forwarded struct {
	status int
	header http.Header
	body   []byte
}

// retryable reports whether the leader refused the request without acting
// on it because it is no longer the leader.
func (f *forwarded) retryable() bool {
	if f.status != http.StatusServiceUnavailable {
		return false
	}
	var e api.APIError
	return json.Unmarshal(f.body, &e) == nil && e.Code == api.CodeNoLeader
}

func (f *forwarded) index() uint64 {
	n, _ := strconv.ParseUint(f.header.Get(headerIndex), 10, 64)
	return n
}

// forward sends the request to the leader. sent reports whether the request
// may have reached it (so its outcome is unknown when err is set).
func (s *Server) forward(ctx context.Context, leaderAddr string, r *http.Request, body []byte) (*forwarded, bool, error) {
	u := *r.URL
	u.Scheme, u.Host = s.net.scheme(), leaderAddr
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("build forwarded request: %w", err)
	}
	req.Header = r.Header.Clone()
	req.Header.Set(headerForwardedBy, s.cfg.NodeID)
	resp, err := s.peers.Do(req)
	if err != nil {
		s.metrics.forwardErrors.Inc()
		return nil, !isDialError(err), fmt.Errorf("forward to leader at %s: %w", leaderAddr, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.metrics.forwardErrors.Inc()
		return nil, true, fmt.Errorf("read leader's answer: %w", err)
	}
	s.metrics.forwarded.Inc()
	return &forwarded{status: resp.StatusCode, header: resp.Header, body: data}, true, nil
}

// relay passes the leader's answer on, once this replica has applied the
// index it reflects.
func (s *Server) relay(ctx context.Context, w http.ResponseWriter, r *http.Request, f *forwarded) {
	if idx := f.index(); idx > 0 && f.status < 300 {
		if err := s.fsm.State().WaitForIndex(ctx, idx); err != nil {
			s.logger.Warn("answering a forwarded write before applying it locally", "index", idx, "error", err)
		}
	}
	for _, h := range []string{"Content-Type", headerIndex} {
		if v := f.header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(f.status)
	_, _ = w.Write(f.body)
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
