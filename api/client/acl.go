package client

import (
	"context"
	"net/http"

	"github.com/shoal-io/shoal/api"
)

const aclPath = "/api/v1/acl"

// ACLAPI manages API tokens. Send a management token (WithToken) for
// everything but Bootstrap and Self.
type ACLAPI struct{ c *Client }

// ACL is the token API.
func (c *Client) ACL() *ACLAPI { return &ACLAPI{c: c} }

// ACLRevokeResponse answers a revoke: the revoked token and how many went
// with it (all of a client key's tokens when it was one).
type ACLRevokeResponse struct {
	Token   *api.ACLToken `json:"Token"`
	Removed int           `json:"Removed"`
}

// Bootstrap makes the one bootstrap management token
// (POST /api/v1/acl/bootstrap); the answer holds its SecretID. A second
// bootstrap is a conflict. It is never repeated after an unknown outcome:
// only one bootstrap can succeed.
func (a *ACLAPI) Bootstrap(ctx context.Context) (*api.ACLToken, error) {
	var out api.ACLToken
	if _, err := a.c.call(ctx, &request{method: http.MethodPost, path: aclPath + "/bootstrap"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateToken makes a token (PUT /api/v1/acl/tokens); the answer holds its
// SecretID, shown only this once.
func (a *ACLAPI) CreateToken(ctx context.Context, req *api.ACLTokenCreateRequest) (*api.ACLToken, error) {
	var out api.ACLToken
	if _, err := a.c.call(ctx, &request{method: http.MethodPut, path: aclPath + "/tokens", json: req}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTokens lists the tokens, without secrets (GET /api/v1/acl/tokens).
func (a *ACLAPI) ListTokens(ctx context.Context) ([]*api.ACLToken, error) {
	var out api.ACLTokenListResponse
	if _, err := a.c.call(ctx, &request{method: http.MethodGet, path: aclPath + "/tokens", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return out.Tokens, nil
}

// RevokeToken revokes a token by its accessor
// (DELETE /api/v1/acl/tokens/:accessor).
func (a *ACLAPI) RevokeToken(ctx context.Context, accessor string) (*ACLRevokeResponse, error) {
	escaped, err := escapeID("token accessor", accessor)
	if err != nil {
		return nil, err
	}
	var out ACLRevokeResponse
	if _, err := a.c.call(ctx, &request{method: http.MethodDelete, path: aclPath + "/tokens/" + escaped, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Self describes the token the client sends (GET /api/v1/acl/token/self).
func (a *ACLAPI) Self(ctx context.Context) (*api.ACLToken, error) {
	var out api.ACLToken
	if _, err := a.c.call(ctx, &request{method: http.MethodGet, path: aclPath + "/token/self", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
