package fsm

import (
	"fmt"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// ACL commands carry explicit type numbers, apart from the iota list in
// commands.go, so both lists can grow without renumbering each other.
const (
	MsgACLBootstrap   MessageType = 20
	MsgACLTokenCreate MessageType = 21
	MsgACLTokenDelete MessageType = 22
)

// aclPruneBatch bounds how many expired tokens one create removes, so a
// create's entry stays small however many tokens expired meanwhile.
const aclPruneBatch = 64

// metaBootstrap is the acl_meta row that says the bootstrap happened;
// metaRevokedKey prefixes the rows of revoked client keys.
const (
	metaBootstrap  = "bootstrap"
	metaRevokedKey = "revoked-key/"
)

// aclTokenRecord is a token as stored: its public description and the
// SHA-256 of its secret, never the secret.
type aclTokenRecord struct {
	Token      *api.ACLToken `json:"Token"`
	SecretHash string        `json:"SecretHash"`
}

// aclMetaRecord is a fact about the ACL system: that it was bootstrapped,
// or that a client key was revoked.
type aclMetaRecord struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
	Time  int64  `json:"Time"`
}

// ACLBootstrapRequest creates the first management token. It fails with a
// conflict once any bootstrap has been applied, so only one ever exists.
type ACLBootstrapRequest struct {
	Token      *api.ACLToken `json:"Token"`
	SecretHash string        `json:"SecretHash"`
	Now        int64         `json:"Now"`
}

// ACLTokenCreateRequest stores a new token (the leader made its accessor and
// secret) and forgets up to aclPruneBatch tokens that expired before Now. A
// token for a revoked client key is refused.
type ACLTokenCreateRequest struct {
	Token      *api.ACLToken `json:"Token"`
	SecretHash string        `json:"SecretHash"`
	Now        int64         `json:"Now"`
}

// ACLTokenDeleteRequest revokes a token. Revoking a token issued to a client
// key revokes the key: all its tokens go, and it gets no new ones.
type ACLTokenDeleteRequest struct {
	AccessorID string `json:"AccessorID"`
	Now        int64  `json:"Now"`
}

// ACLTokenResult is Apply's answer to the ACL commands: the token written or
// revoked, and how many tokens went with it.
type ACLTokenResult struct {
	Token   *api.ACLToken
	Removed int
}

func (*ACLBootstrapRequest) MessageType() MessageType   { return MsgACLBootstrap }
func (*ACLTokenCreateRequest) MessageType() MessageType { return MsgACLTokenCreate }
func (*ACLTokenDeleteRequest) MessageType() MessageType { return MsgACLTokenDelete }

func (c *ACLBootstrapRequest) IssuedAt() int64   { return c.Now }
func (c *ACLTokenCreateRequest) IssuedAt() int64 { return c.Now }
func (c *ACLTokenDeleteRequest) IssuedAt() int64 { return c.Now }

func aclMessageName(t MessageType) string {
	switch t {
	case MsgACLBootstrap:
		return "ACLBootstrap"
	case MsgACLTokenCreate:
		return "ACLTokenCreate"
	case MsgACLTokenDelete:
		return "ACLTokenDelete"
	}
	return ""
}

func newACLCommand(t MessageType) Command {
	switch t {
	case MsgACLBootstrap:
		return new(ACLBootstrapRequest)
	case MsgACLTokenCreate:
		return new(ACLTokenCreateRequest)
	case MsgACLTokenDelete:
		return new(ACLTokenDeleteRequest)
	}
	return nil
}

// aclCommand is an ACL command; dispatch hands it its applyCtx.
type aclCommand interface {
	Command
	apply(ac *applyCtx) (any, error)
}

func (c *ACLBootstrapRequest) apply(ac *applyCtx) (any, error) {
	_, done, err := row[*aclMetaRecord](ac, tableACLMeta, metaBootstrap)
	if err != nil {
		return nil, err
	}
	if done {
		return nil, api.NewError(api.ErrConflict, api.CodeACLBootstrapped, api.ComponentACL,
			"the ACL system is already bootstrapped: the bootstrap token can be made only once").
			WithHint("use the existing management token, or restore a snapshot taken before the bootstrap")
	}
	if err := checkNewToken(ac, c.Token, c.SecretHash); err != nil {
		return nil, err
	}
	if c.Token.Role != api.RoleManagement {
		return nil, api.BadRequestf("the bootstrap token must have role management, not %q", c.Token.Role)
	}
	if err := ac.put(tableACLMeta, metaBootstrap, &aclMetaRecord{Key: metaBootstrap, Value: c.Token.AccessorID, Time: ac.now}, true); err != nil {
		return nil, err
	}
	return ac.putToken(c.Token, c.SecretHash)
}

func (c *ACLTokenCreateRequest) apply(ac *applyCtx) (any, error) {
	if err := checkNewToken(ac, c.Token, c.SecretHash); err != nil {
		return nil, err
	}
	if k := c.Token.ClientKey; k != "" {
		_, revoked, err := row[*aclMetaRecord](ac, tableACLMeta, metaRevokedKey+k)
		if err != nil {
			return nil, err
		}
		if revoked {
			return nil, api.NewError(api.ErrUnauthorized, api.CodeUnauthenticated, api.ComponentACL, "client key %s was revoked", k)
		}
	}
	if err := ac.pruneExpiredTokens(); err != nil {
		return nil, err
	}
	return ac.putToken(c.Token, c.SecretHash)
}

func (c *ACLTokenDeleteRequest) apply(ac *applyCtx) (any, error) {
	rec, ok, err := row[*aclTokenRecord](ac, tableACLTokens, c.AccessorID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.NotFoundf(api.ComponentACL, "no ACL token with accessor %q", c.AccessorID)
	}
	victims := []*aclTokenRecord{rec}
	if k := rec.Token.ClientKey; k != "" {
		it, err := ac.base.Get(tableACLTokens.String(), "client_key", k)
		if err != nil {
			return nil, fmt.Errorf("read tokens of client key %s: %w", k, err)
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if r := raw.(*aclTokenRecord); r.Token.AccessorID != rec.Token.AccessorID {
				victims = append(victims, r)
			}
		}
		if err := ac.put(tableACLMeta, metaRevokedKey+k, &aclMetaRecord{Key: metaRevokedKey + k, Value: rec.Token.AccessorID, Time: ac.now}, true); err != nil {
			return nil, err
		}
	}
	for _, v := range victims {
		if err := ac.remove(tableACLTokens, v.Token.AccessorID, v); err != nil {
			return nil, err
		}
	}
	return &ACLTokenResult{Token: rec.Token, Removed: len(victims)}, nil
}

// checkNewToken refuses a malformed token or one whose accessor or secret
// is taken, before anything is written.
func checkNewToken(ac *applyCtx, t *api.ACLToken, hash string) error {
	switch {
	case t == nil:
		return api.BadRequestf("missing Token")
	case t.AccessorID == "":
		return api.BadRequestf("missing AccessorID")
	case len(hash) != 64:
		return api.BadRequestf("SecretHash must be a hex SHA-256")
	case t.SecretID != "":
		return api.BadRequestf("a token's secret never enters the replicated state")
	}
	if _, taken, err := row[*aclTokenRecord](ac, tableACLTokens, t.AccessorID); err != nil || taken {
		if err != nil {
			return err
		}
		return api.NewError(api.ErrConflict, api.CodeResourceInUse, api.ComponentACL, "accessor %s already exists", t.AccessorID)
	}
	if _, taken, err := lookup[*aclTokenRecord](ac.base, tableACLTokens, "secret", hash); err != nil || taken {
		if err != nil {
			return err
		}
		return api.NewError(api.ErrConflict, api.CodeResourceInUse, api.ComponentACL, "secret already in use")
	}
	return nil
}

func (ac *applyCtx) putToken(t *api.ACLToken, hash string) (*ACLTokenResult, error) {
	stored := *t
	stored.CreateTime = ac.now
	stored.CreateIndex = ac.index
	if err := ac.put(tableACLTokens, stored.AccessorID, &aclTokenRecord{Token: &stored, SecretHash: hash}, true); err != nil {
		return nil, err
	}
	return &ACLTokenResult{Token: &stored}, nil
}

// pruneExpiredTokens forgets tokens whose expiry passed before the command's
// time. They are refused already (replicas compare expiry with their
// clock); this only keeps the table small.
func (ac *applyCtx) pruneExpiredTokens() error {
	it, err := ac.base.Get(tableACLTokens.String(), "expiry")
	if err != nil {
		return fmt.Errorf("read token expiries: %w", err)
	}
	var expired []*aclTokenRecord
	for raw := it.Next(); raw != nil && len(expired) < aclPruneBatch; raw = it.Next() {
		r := raw.(*aclTokenRecord)
		if r.Token.ExpirationTime >= ac.now {
			break
		}
		expired = append(expired, r)
	}
	for _, r := range expired {
		if _, gone := ac.written[rowKey{tableACLTokens, r.Token.AccessorID}]; gone {
			continue
		}
		if err := ac.remove(tableACLTokens, r.Token.AccessorID, r); err != nil {
			return err
		}
	}
	return nil
}

func newACLRow(t tableID) (any, func() bool) {
	switch t {
	case tableACLTokens:
		r := new(aclTokenRecord)
		return r, func() bool { return r.Token != nil && r.Token.AccessorID != "" && r.SecretHash != "" }
	case tableACLMeta:
		r := new(aclMetaRecord)
		return r, func() bool { return r.Key != "" }
	}
	return nil, nil
}

func tokenKey(f func(b []byte, r *aclTokenRecord) ([]byte, bool)) func(any) ([]byte, bool) {
	return func(obj any) ([]byte, bool) {
		r, ok := obj.(*aclTokenRecord)
		if !ok {
			return nil, false
		}
		return f(make([]byte, 0, 96), r)
	}
}

func aclTableSchemas() []*memtab.TableSchema {
	return []*memtab.TableSchema{
		{
			Name: tableACLTokens.String(),
			Indexes: indexes(
				index("id", &keyIndexer{parts: strID, partialPrefix: true, key: tokenKey(func(b []byte, r *aclTokenRecord) ([]byte, bool) {
					return appendString(b, r.Token.AccessorID), true
				})}),
				index("secret", &keyIndexer{parts: strID, key: tokenKey(func(b []byte, r *aclTokenRecord) ([]byte, bool) {
					return appendString(b, r.SecretHash), true
				})}),
				// Only tokens that expire, soonest first.
				optionalIndex("expiry", &keyIndexer{parts: timeID, key: tokenKey(func(b []byte, r *aclTokenRecord) ([]byte, bool) {
					if r.Token.ExpirationTime == 0 {
						return nil, false
					}
					return appendString(appendInt64(b, r.Token.ExpirationTime), r.Token.AccessorID), true
				})}),
				optionalIndex("client_key", &keyIndexer{parts: strStr, key: tokenKey(func(b []byte, r *aclTokenRecord) ([]byte, bool) {
					if r.Token.ClientKey == "" {
						return nil, false
					}
					return appendString(appendString(b, r.Token.ClientKey), r.Token.AccessorID), true
				})}),
			),
		},
		{
			Name: tableACLMeta.String(),
			Indexes: indexes(
				index("id", &keyIndexer{parts: strID, key: func(obj any) ([]byte, bool) {
					r, ok := obj.(*aclMetaRecord)
					if !ok {
						return nil, false
					}
					return appendString(nil, r.Key), true
				}}),
			),
		},
	}
}
