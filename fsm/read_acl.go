package fsm

import (
	"fmt"

	"github.com/shoal-io/shoal/api"
)

// ACLBootstrapped reports whether the bootstrap token was ever made.
func (t *ReadTxn) ACLBootstrapped() (bool, error) {
	_, ok, err := lookup[*aclMetaRecord](t.txn, tableACLMeta, "id", metaBootstrap)
	return ok, err
}

// ACLTokenBySecretHash returns the token whose secret hashes to hash, or
// nil. Expiry is the caller's to check, against its own clock.
func (t *ReadTxn) ACLTokenBySecretHash(hash string) (*api.ACLToken, error) {
	r, ok, err := lookup[*aclTokenRecord](t.txn, tableACLTokens, "secret", hash)
	if err != nil || !ok {
		return nil, err
	}
	return r.Token, nil
}

// ACLToken returns the token with this accessor (api.ErrNotFound if none).
func (t *ReadTxn) ACLToken(accessor string) (*api.ACLToken, error) {
	r, ok, err := lookup[*aclTokenRecord](t.txn, tableACLTokens, "id", accessor)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.NotFoundf(api.ComponentACL, "no ACL token with accessor %q", accessor)
	}
	return r.Token, nil
}

// ACLTokens lists every token by accessor, without secrets (the store has
// none).
func (t *ReadTxn) ACLTokens() ([]*api.ACLToken, error) {
	it, err := t.txn.Get(tableACLTokens.String(), "id")
	if err != nil {
		return nil, fmt.Errorf("list ACL tokens: %w", err)
	}
	return collect(it, func(r *aclTokenRecord) *api.ACLToken { return r.Token }, nil), nil
}

// ClientKeyRevoked reports whether tokens for this client key fingerprint
// were revoked.
func (t *ReadTxn) ClientKeyRevoked(fingerprint string) (bool, error) {
	_, ok, err := lookup[*aclMetaRecord](t.txn, tableACLMeta, "id", metaRevokedKey+fingerprint)
	return ok, err
}
