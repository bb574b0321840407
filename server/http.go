package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/shoal-io/shoal/api"
)

// router is the replica's whole HTTP surface: the web app's static files,
// then the API.
func (s *Server) router() http.Handler { return s.withUI(s.apiRouter()) }

// apiRouter is every API route behind the one middleware chain that
// identifies the caller.
func (s *Server) apiRouter() chi.Router {
	r := chi.NewRouter()
	r.Use(s.requestID, s.recoverPanics, s.instrument, s.limitBody, s.authenticate)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, api.NewError(api.ErrNotFound, api.CodeRouteNotFound, api.ComponentAPI, "no route for %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		status, body := http.StatusMethodNotAllowed, api.APIError{
			Status: http.StatusMethodNotAllowed, Code: api.CodeMethodNotAllowed, Component: api.ComponentAPI,
			Message:   fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path),
			RequestID: w.Header().Get(headerRequestID),
		}
		writeJSON(w, status, s.fsm.State().Index(), body)
	})

	r.Route("/api/v1/orchestrator", func(r chi.Router) {
		create := s.leaderWrite(hasIdempotencyToken, s.createJob)
		r.Put("/jobs", create) // createRoute
		r.Post("/jobs", create)
		r.Get("/jobs", s.handleListJobs)
		r.Get("/jobs/{id}", s.handleGetJob)
		stop := s.leaderWrite(always, s.stopJob)
		r.Delete("/jobs/{id}", stop)
		// Upstream's v1.2.3 CLI stops a job with POST: its authenticating
		// client sends Delete as Post.
		r.Post("/jobs/{id}", stop)
		r.Get("/jobs/{id}/history", s.handleJobHistory)
		r.Get("/jobs/{id}/executions", s.handleJobExecutions)
		r.Get("/jobs/{id}/results", s.handleJobResults)
		r.Get("/jobs/{id}/logs", s.handleJobLogs)
		r.Get("/jobs/{id}/executions/{execution}/result", s.handleExecutionResult)
		r.Get("/nodes", s.handleListNodes)
		r.Get("/nodes/{id}", s.handleGetNode)
	})
	r.Route("/api/v1/agent", func(r chi.Router) {
		r.Get("/alive", s.handleAlive)
		r.Get("/version", s.handleVersion)
		r.Get("/node", s.handleAgentNode)
	})
	r.Route("/api/v1/operator", func(r chi.Router) {
		r.Get("/raft", s.handleRaftConfiguration)
		r.Delete("/raft/peers/{id}", s.leaderWrite(always, s.removePeer))
		r.Post("/raft/transfer-leadership", s.leaderWrite(always, s.transferLeadership))
		r.Get("/digest", s.handleDigest)
		r.Get("/snapshot", s.handleSnapshotSave)
		r.Put("/snapshot", s.leaderWrite(always, s.restoreSnapshot))
		r.Post("/gc", s.leaderWrite(always, s.operatorJobGC))
	})
	r.Route("/api/v1/compute", func(r chi.Router) {
		r.Put("/nodes/{id}", s.leaderWrite(always, s.registerNode))
		r.Get("/nodes/{id}/executions", s.handleWatchExecutions)
		r.Post("/nodes/{id}/executions", s.leaderWrite(always, s.reportExecutions))
	})
	r.Route("/api/v1/auth", func(r chi.Router) {
		r.Get("/", s.handleAuthMethods)
		r.Get("/{method}", s.handleAuthMethod)
		r.Post("/{method}", s.handleAuthenticate)
	})
	r.Get("/api/v1/auth", s.handleAuthMethods)
	r.Get("/api/v1/internal/read-index", s.handleReadIndex)
	r.Get("/api/v1/internal/raft-status", s.handleRaftStatus)
	r.Route("/api/v1/acl", func(r chi.Router) {
		r.Post("/bootstrap", s.leaderWrite(never, s.bootstrapACL))
		r.Get("/tokens", s.handleListACLTokens)
		r.Put("/tokens", s.leaderWrite(never, s.createACLToken))
		r.Delete("/tokens/{accessor}", s.leaderWrite(always, s.revokeACLToken))
		r.Get("/token/self", s.handleACLTokenSelf)
	})
	s.uiRoutes(r)
	r.Handle("/metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	if s.cfg.EnableDebug {
		r.Mount("/debug", middleware.Profiler())
	}
	return r
}

// requestID gives every request an ID (the client's X-Request-Id if it sent
// one), echoed in the answer and in error bodies.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(headerRequestID)
		if id == "" || len(id) > 128 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			r.Header.Set(headerRequestID, id)
		}
		w.Header().Set(headerRequestID, id)
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				s.writeError(w, r, fmt.Errorf("internal error: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// instrument counts requests and their latency by route pattern, so IDs in
// paths do not explode the series.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Inc()
		if strings.HasPrefix(r.URL.Path, "/api/") {
			s.apiRequests.Add(1)
		}
		took := time.Since(start)
		s.metrics.latency.WithLabelValues(route, r.Method).Observe(took.Seconds())
		if route == createRoute && (r.Method == http.MethodPut || r.Method == http.MethodPost) {
			s.metrics.observeCreate(rec.status, took)
			// The UI's live chart counts each acknowledged create once,
			// where its client waited: not again on the leader it was
			// forwarded to.
			if rec.status < 300 && r.Header.Get(headerForwardedBy) == "" && s.ui != nil {
				s.ui.live.ObserveCreate(took)
			}
		}
	})
}

// snapshotPath is where backups are downloaded and restored.
const snapshotPath = "/api/v1/operator/snapshot"

func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.MaxBodyBytes
		if r.Method == http.MethodPut && r.URL.Path == snapshotPath {
			// A backup is the whole state: 100 MB at 100,000 jobs. Only an
			// operator's token reaches the handler, which reads it.
			limit = s.cfg.MaxSnapshotBytes
		}
		if r.ContentLength > limit {
			s.writeError(w, r, api.NewError(api.ErrTooLarge, api.CodeRequestTooLarge, api.ComponentAPI,
				"request body of %d bytes is larger than the %d-byte limit", r.ContentLength, limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}
