package api

// ACL roles. A token has exactly one; see the auth package for what each may
// call.
const (
	RoleRead       = "read"
	RoleSubmit     = "submit"
	RoleOperator   = "operator"
	RoleManagement = "management"
	RoleNode       = "node"
)

// ACLToken describes an API token. SecretID is only ever filled in the
// answer that creates the token: the cluster keeps a hash of it, never the
// secret itself.
type ACLToken struct {
	AccessorID string `json:"AccessorID"`
	SecretID   string `json:"SecretID,omitempty"`
	Name       string `json:"Name"`
	Role       string `json:"Role"`
	// Namespace, when set, limits a submit token's creates and stops to that
	// namespace.
	Namespace string `json:"Namespace"`
	// ClientKey is the fingerprint of the client key a handshake token was
	// issued to; revoking such a token revokes the key.
	ClientKey      string `json:"ClientKey,omitempty"`
	CreateTime     int64  `json:"CreateTime"`
	ExpirationTime int64  `json:"ExpirationTime"`
	CreateIndex    uint64 `json:"CreateIndex,omitempty"`
}

// ACLTokenCreateRequest is the body of PUT /api/v1/acl/tokens. TTL is a Go
// duration ("24h"); empty means the token never expires.
type ACLTokenCreateRequest struct {
	Name      string `json:"Name"`
	Role      string `json:"Role"`
	Namespace string `json:"Namespace,omitempty"`
	TTL       string `json:"TTL,omitempty"`
}

// ACLTokenListResponse lists tokens, without their secrets.
type ACLTokenListResponse struct {
	Tokens []*ACLToken `json:"Tokens"`
}

// ComponentACL names the token store in error bodies.
const ComponentACL = "ACL"

// CodeACLBootstrapped refuses a second bootstrap.
const CodeACLBootstrapped = "ACLAlreadyBootstrapped"
