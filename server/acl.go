package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/auth"
)

// The ACL middleware is the one place a request's identity is checked. It
// finds the route the router will pick, looks its permission up in
// auth.Routes, resolves the caller's token against this replica's own copy
// of the replicated state (so a revoked or expired token is refused on
// every replica as soon as the revocation is applied there, or the clock
// passes its expiry) and refuses before any handler runs, so a refusal has
// no effect. A request forwarded to the leader carries its caller's header
// and is checked again there: forwarding never lends the follower's rights.

type callerKey struct{}

// caller returns the token the middleware admitted the request with (nil
// with ACLs off or on an open route).
func caller(ctx context.Context) *api.ACLToken {
	t, _ := ctx.Value(callerKey{}).(*api.ACLToken)
	return t
}

func unauthenticated(format string, args ...any) error {
	return api.NewError(api.ErrUnauthorized, api.CodeUnauthenticated, api.ComponentACL, format, args...).
		WithHint("send the token's SecretID as 'Authorization: Bearer <secret>' (CLI: --token or SHOAL_TOKEN)")
}

func permissionDenied(format string, args ...any) error {
	return api.NewError(api.ErrForbidden, api.CodePermissionDenied, api.ComponentACL, format, args...)
}

// resolveToken finds the token the request carries, refusing a missing,
// unknown or expired one with a 401.
func (s *Server) resolveToken(r *http.Request) (*api.ACLToken, error) {
	secret := auth.BearerToken(r)
	if secret == "" {
		return nil, unauthenticated("this request needs an ACL token")
	}
	hash := auth.HashSecret(secret)
	tok, err := s.fsm.State().Txn().ACLTokenBySecretHash(hash)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		// A token created through another replica a moment ago may not
		// have reached this one: catch up with the leader once, then look
		// again. A revoked token is absent everywhere and stays refused.
		if tok, err = s.lookupTokenCaughtUp(r.Context(), hash); err != nil {
			return nil, err
		}
	}
	if tok == nil {
		return nil, unauthenticated("the ACL token is unknown or was revoked")
	}
	if tok.ExpirationTime != 0 && time.Now().UnixNano() >= tok.ExpirationTime {
		return nil, unauthenticated("the ACL token %s expired at %s", tok.AccessorID, time.Unix(0, tok.ExpirationTime).UTC().Format(time.RFC3339))
	}
	return tok, nil
}

// tokenCatchUpWait bounds how long an unknown token waits for this replica
// to catch up with the leader.
const tokenCatchUpWait = 2 * time.Second

func (s *Server) lookupTokenCaughtUp(ctx context.Context, hash string) (*api.ACLToken, error) {
	ctx, cancel := context.WithTimeout(ctx, tokenCatchUpWait)
	defer cancel()
	index, err := s.readIndex(ctx)
	if err != nil || s.fsm.State().WaitForIndex(ctx, index) != nil {
		return nil, nil // no leader to ask: the local answer stands
	}
	return s.fsm.State().Txn().ACLTokenBySecretHash(hash)
}

// authenticate checks every request against auth.Routes when ACLs are on.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if !s.cfg.ACL {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rctx := chi.NewRouteContext()
		pattern := ""
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.Routes != nil {
			path := r.URL.RawPath
			if path == "" {
				path = r.URL.Path
			}
			pattern = rc.Routes.Find(rctx, r.Method, path)
		}
		need := auth.Lookup(r.Method, pattern)
		if need == auth.Open || (need == auth.Replica && r.TLS == nil) {
			next.ServeHTTP(w, r)
			return
		}
		if need == auth.Replica {
			if !slices.Contains(auth.PeerRoles(r.TLS), auth.RoleServer) {
				s.writeError(w, r, permissionDenied("%s %s is for replicas: it needs %s", r.Method, r.URL.Path, auth.Needed(need)))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		tok, err := s.resolveToken(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="shoal"`)
			s.writeError(w, r, err)
			return
		}
		if !auth.Allows(tok.Role, need) {
			s.writeError(w, r, permissionDenied("token %q has role %s; %s %s needs %s",
				tok.Name, tok.Role, r.Method, r.URL.Path, auth.Needed(need)))
			return
		}
		if err := s.checkScope(r, rctx, need, tok); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, tok)))
	})
}

// checkScope applies the limits a role has within the routes it may use: a
// namespaced submit token only creates and stops jobs of its namespace, and
// a node only reports executions placed on it.
func (s *Server) checkScope(r *http.Request, rctx *chi.Context, need auth.Permission, tok *api.ACLToken) error {
	switch {
	case need == auth.Submit && tok.Role == api.RoleSubmit && tok.Namespace != "":
		return s.checkNamespace(r, rctx, tok)
	case need == auth.Node && tok.Role == api.RoleNode && r.Method == http.MethodPost:
		return s.checkOwnExecutions(r, rctx.URLParam("id"))
	}
	return nil
}

func (s *Server) checkNamespace(r *http.Request, rctx *chi.Context, tok *api.ACLToken) error {
	switch {
	case rctx.URLParam("id") == "" && (r.Method == http.MethodPut || r.Method == http.MethodPost):
		body, err := peekBody(r)
		if err != nil {
			return err
		}
		var req api.PutJobRequest
		if json.Unmarshal(body, &req) != nil || req.Job == nil {
			return nil // the handler answers the malformed body
		}
		job := *req.Job
		job.Normalize()
		if job.Namespace != tok.Namespace {
			return permissionDenied("token %q may only submit to namespace %q, not %q", tok.Name, tok.Namespace, job.Namespace)
		}
	case rctx.URLParam("id") != "":
		// A stop: DELETE, or POST from upstream's CLI.
		// A job this replica does not know yet is checked again by the
		// leader the stop is forwarded to, which answers 404 if it is
		// unknown there too.
		job, err := s.fsm.State().Txn().ResolveJob(rctx.URLParam("id"))
		if err == nil && job.Namespace != tok.Namespace {
			return permissionDenied("token %q may only stop jobs of namespace %q; job %s is in %q", tok.Name, tok.Namespace, job.ID, job.Namespace)
		}
	}
	return nil
}

// checkOwnExecutions refuses a report naming an execution placed on another
// node. Executions this replica does not know are left to the leader's
// own check (and to Apply, which ignores them).
func (s *Server) checkOwnExecutions(r *http.Request, nodeID string) error {
	body, err := peekBody(r)
	if err != nil {
		return err
	}
	var req api.UpdateExecutionsRequest
	if json.Unmarshal(body, &req) != nil {
		return nil
	}
	txn := s.fsm.State().Txn()
	for _, u := range req.Updates {
		e, err := txn.Execution(u.ExecutionID)
		if err != nil || e == nil {
			continue
		}
		if e.NodeID != nodeID {
			return permissionDenied("node %s may not report execution %s: it is placed on node %s", nodeID, e.ID, e.NodeID)
		}
	}
	return nil
}

// peekBody reads the (size-limited) body and puts it back for the handler.
func peekBody(r *http.Request) ([]byte, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// handleRaftStatus tells another replica whether this one belongs to a
// cluster and how far it has applied: what bootstrap and promotion need. It
// is open even with ACLs on (replicas call it before any token exists), so
// it answers the server IDs and the index only, not their addresses.
func (s *Server) handleRaftStatus(w http.ResponseWriter, r *http.Request) {
	full, err := s.raftConfiguration()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := &api.RaftConfigurationResponse{Leader: full.Leader, Index: full.Index, Servers: []api.RaftServer{}}
	for _, srv := range full.Servers {
		out.Servers = append(out.Servers, api.RaftServer{ID: srv.ID, Voter: srv.Voter, Leader: srv.Leader})
	}
	writeJSON(w, http.StatusOK, out.Index, out)
}
