package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/auth"
	"github.com/shoal-io/shoal/fsm"
)

// The ACL endpoints. Writes run on the leader (leaderWrite forwards them):
// the leader makes each token's accessor and secret and puts only the
// secret's hash into the Raft command, so Apply stays deterministic and the
// log never holds a usable secret. The secret is in the answer only.

func never(*http.Request, []byte) bool { return false }

// ACLTokenDeleteResponse answers a revoke: the token, and how many tokens
// went (more than one when the token was a client key's).
type aclRevokeResponse struct {
	Token   *api.ACLToken `json:"Token"`
	Removed int           `json:"Removed"`
}

func (s *Server) bootstrapACL(ctx context.Context, r *http.Request, _ []byte) (int, any, uint64, error) {
	if done, err := s.fsm.State().Txn().ACLBootstrapped(); err != nil || done {
		if err != nil {
			return 0, nil, 0, err
		}
		return 0, nil, 0, api.NewError(api.ErrConflict, api.CodeACLBootstrapped, api.ComponentACL,
			"the ACL system is already bootstrapped: the bootstrap token can be made only once")
	}
	tok := &api.ACLToken{AccessorID: auth.NewAccessor(), Name: "Bootstrap Token", Role: api.RoleManagement}
	return s.createToken(ctx, tok, func(t *api.ACLToken, hash string) fsm.Command {
		return &fsm.ACLBootstrapRequest{Token: t, SecretHash: hash, Now: now()}
	})
}

func (s *Server) createACLToken(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	var req api.ACLTokenCreateRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return 0, nil, 0, err
	}
	req.Name, req.Namespace = strings.TrimSpace(req.Name), strings.TrimSpace(req.Namespace)
	if req.Name == "" {
		return 0, nil, 0, api.BadRequestf("a token needs a Name")
	}
	if err := auth.CheckRole(req.Role); err != nil {
		return 0, nil, 0, err
	}
	if req.Namespace != "" && req.Role != api.RoleSubmit {
		return 0, nil, 0, api.BadRequestf("only submit tokens are limited to a namespace; a %s token covers all of them", req.Role)
	}
	tok := &api.ACLToken{AccessorID: auth.NewAccessor(), Name: req.Name, Role: req.Role, Namespace: req.Namespace}
	if req.TTL != "" {
		ttl, err := time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 {
			return 0, nil, 0, api.BadRequestf("invalid TTL %q: want a positive duration such as 24h", req.TTL)
		}
		tok.ExpirationTime = time.Now().Add(ttl).UnixNano()
	}
	return s.createToken(ctx, tok, func(t *api.ACLToken, hash string) fsm.Command {
		return &fsm.ACLTokenCreateRequest{Token: t, SecretHash: hash, Now: now()}
	})
}

// createToken makes tok's secret, commits its hash with the command mk
// builds, and answers the token with its secret.
func (s *Server) createToken(ctx context.Context, tok *api.ACLToken, mk func(*api.ACLToken, string) fsm.Command) (int, any, uint64, error) {
	secret := auth.NewSecret()
	res, index, err := applyAs[*fsm.ACLTokenResult](ctx, s, mk(tok, auth.HashSecret(secret)))
	if err != nil {
		return 0, nil, index, err
	}
	out := *res.Token
	out.SecretID = secret
	return http.StatusOK, &out, index, nil
}

func (s *Server) revokeACLToken(ctx context.Context, r *http.Request, _ []byte) (int, any, uint64, error) {
	accessor := chi.URLParam(r, "accessor")
	if _, err := s.fsm.State().Txn().ACLToken(accessor); err != nil {
		return 0, nil, 0, err
	}
	res, index, err := applyAs[*fsm.ACLTokenResult](ctx, s, &fsm.ACLTokenDeleteRequest{AccessorID: accessor, Now: now()})
	if err != nil {
		return 0, nil, index, err
	}
	return http.StatusOK, &aclRevokeResponse{Token: res.Token, Removed: res.Removed}, index, nil
}

func (s *Server) handleListACLTokens(w http.ResponseWriter, r *http.Request) {
	txn, err := s.readTxn(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	toks, err := txn.ACLTokens()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, txn.Index(), &api.ACLTokenListResponse{Tokens: toks})
}

func (s *Server) handleACLTokenSelf(w http.ResponseWriter, r *http.Request) {
	tok := caller(r.Context())
	if tok == nil {
		// ACLs are off: still say whose token this is, if it is one.
		var err error
		if tok, err = s.resolveToken(r); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, s.fsm.State().Index(), tok)
}
