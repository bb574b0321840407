package auth

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shoal-io/shoal/api"
)

// Permission is what a route needs from its caller.
type Permission uint8

const (
	// Deny is the zero value: a route missing from the table is refused to
	// every caller, so a new route is closed until someone decides.
	Deny Permission = iota
	// Open routes need no token: the liveness probe, the clientkey
	// handshake, replica-to-replica indices and the UI's static files.
	Open
	// Authenticated needs any valid token (token self, unknown paths).
	Authenticated
	// Read is every GET of the orchestrator API, logs and results included,
	// and /metrics.
	Read
	// Submit creates and stops jobs (in the token's namespace, if it has one).
	Submit
	// Operator lists Raft peers, hands leadership over, saves snapshots,
	// reads the digest, runs the garbage collector and reads /debug/pprof.
	Operator
	// Management restores snapshots, removes Raft peers and manages tokens.
	Management
	// Node registers a compute node, watches and reports its executions.
	Node
	// Replica is for the replicas' own calls to each other, which happen
	// before any token exists (bootstrap, promotion). With TLS only a
	// server.shoal certificate may call; without TLS nothing tells a replica
	// apart, so they are open, and answer indexes and server IDs only.
	Replica
)

func (p Permission) String() string {
	switch p {
	case Deny:
		return "deny"
	case Open:
		return "open"
	case Authenticated:
		return "any token"
	case Read:
		return api.RoleRead
	case Submit:
		return api.RoleSubmit
	case Operator:
		return api.RoleOperator
	case Management:
		return api.RoleManagement
	case Node:
		return api.RoleNode
	case Replica:
		return "replica"
	}
	return fmt.Sprintf("Permission(%d)", uint8(p))
}

// Roles lists the token roles, weakest first.
var Roles = []string{api.RoleRead, api.RoleSubmit, api.RoleOperator, api.RoleManagement, api.RoleNode}

// ValidRole reports whether role names one of Roles.
func ValidRole(role string) bool { return slices.Contains(Roles, role) }

// CheckRole returns a 400 naming the roles when role is not one of them.
func CheckRole(role string) error {
	if !ValidRole(role) {
		return api.BadRequestf("unknown role %q: use one of %s", role, strings.Join(Roles, ", "))
	}
	return nil
}

// Allows reports whether a token of role may use a route needing p. node
// is deliberately not above read: a compute node's token opens the compute
// endpoints and nothing of the orchestrator API.
func Allows(role string, p Permission) bool {
	if role == api.RoleManagement {
		return p != Deny && p != Replica // a replica is known by its certificate, not a token
	}
	switch p {
	case Open:
		return true
	case Authenticated:
		return ValidRole(role)
	case Read:
		return role == api.RoleRead || role == api.RoleSubmit || role == api.RoleOperator
	case Submit:
		return role == api.RoleSubmit
	case Operator:
		return role == api.RoleOperator
	case Node:
		return role == api.RoleNode
	}
	return false
}

// Needed names the weakest roles that satisfy p, for a 403's message.
func Needed(p Permission) string {
	switch p {
	case Read:
		return "read, submit, operator or management"
	case Submit:
		return "submit or management"
	case Operator:
		return "operator or management"
	case Management:
		return "management"
	case Node:
		return "node (or management)"
	case Authenticated:
		return "any valid token"
	case Replica:
		return "a replica's certificate (" + RoleServer + ")"
	}
	return "none: this route is closed to every token"
}
