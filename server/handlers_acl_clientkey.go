package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/auth"
	"github.com/shoal-io/shoal/fsm"
)

// With ACLs on, the upstream clientkey handshake hands out real tokens: a
// verified key gets a token of role ClientKeyRole that expires after
// ClientKeyTTL. The token is an ordinary replicated token (a random secret
// whose hash every replica holds), so any replica verifies it, and it names
// the key's fingerprint: revoking it (shoal acl token revoke ACCESSOR)
// revokes the key, with every token it holds, and the key gets no more.

// clientKeyFingerprint names a key by the first 16 bytes of the SHA-256 of
// its PKCS#1 encoding, as the handshake's tokens always have.
func clientKeyFingerprint(methodData []byte) string {
	var proof clientKeyProof
	if json.Unmarshal(methodData, &proof) != nil {
		return ""
	}
	fp := sha256.Sum256(proof.PublicKey)
	return hex.EncodeToString(fp[:16])
}

func (s *Server) issueClientKeyToken(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	var req authRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return 0, nil, 0, err
	}
	refuse := func(reason string) (int, any, uint64, error) {
		return http.StatusUnauthorized, authResponse{Authentication: authentication{Reason: reason}}, s.fsm.State().Index(), nil
	}
	if _, err := verifyClientKey(req.MethodData, time.Now()); err != nil {
		return refuse(err.Error())
	}
	fp := clientKeyFingerprint(req.MethodData)
	if revoked, err := s.fsm.State().Txn().ClientKeyRevoked(fp); err != nil || revoked {
		if err != nil {
			return 0, nil, 0, err
		}
		return refuse("client key " + fp + " was revoked")
	}
	tok := &api.ACLToken{
		AccessorID: auth.NewAccessor(), Name: "clientkey-" + fp, Role: s.cfg.ClientKeyRole,
		ClientKey: fp, ExpirationTime: time.Now().Add(s.cfg.ClientKeyTTL).UnixNano(),
	}
	_, created, index, err := s.createToken(ctx, tok, func(t *api.ACLToken, hash string) fsm.Command {
		return &fsm.ACLTokenCreateRequest{Token: t, SecretHash: hash, Now: now()}
	})
	if err != nil {
		return 0, nil, index, err
	}
	return http.StatusOK, authResponse{Authentication: authentication{Success: true, Token: created.(*api.ACLToken).SecretID}}, index, nil
}
