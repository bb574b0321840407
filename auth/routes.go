package auth

import (
	"net/http"
	"strings"
)

// Routes maps "METHOD pattern" (the chi route pattern, as the router's Find
// returns it) to the permission the route needs. It is the whole policy:
// the router's one middleware looks every request up here, and a route
// that is not listed is refused to everyone (a test walks the router so a
// new route cannot ship unlisted).
var Routes = map[string]Permission{
	// Open: liveness and the upstream handshake (it is how a client gets a
	// token). Replica: the replicas' own indices.
	"GET /api/v1/agent/alive":                                          Open,
	"GET /api/v1/auth":                                                 Open,
	"GET /api/v1/auth/":                                                Open,
	"GET /api/v1/auth/{method}":                                        Open,
	"POST /api/v1/auth/{method}":                                       Open,
	"GET /api/v1/internal/read-index":                                  Replica,
	"GET /api/v1/internal/raft-status":                                 Replica,
	"GET /api/v1/agent/version":                                        Read,
	"GET /api/v1/agent/node":                                           Read,
	"GET /api/v1/orchestrator/jobs":                                    Read,
	"GET /api/v1/orchestrator/jobs/{id}":                               Read,
	"GET /api/v1/orchestrator/jobs/{id}/history":                       Read,
	"GET /api/v1/orchestrator/jobs/{id}/executions":                    Read,
	"GET /api/v1/orchestrator/jobs/{id}/results":                       Read,
	"GET /api/v1/orchestrator/jobs/{id}/logs":                          Read,
	"GET /api/v1/orchestrator/jobs/{id}/executions/{execution}/result": Read,
	"GET /api/v1/orchestrator/nodes":                                   Read,
	"GET /api/v1/orchestrator/nodes/{id}":                              Read,
	// The web UI's own reads: the cluster at a glance (roles, indexes and
	// digests, never data), its jobs table, this replica, a node's
	// executions, and YAML to JSON for the submit form (it writes nothing).
	"GET /api/v1/ui/overview":              Read,
	"GET /api/v1/ui/jobs":                  Read,
	"GET /api/v1/ui/replica":               Read,
	"GET /api/v1/ui/nodes/{id}/executions": Read,
	"POST /api/v1/ui/jobspec":              Read,

	"PUT /api/v1/orchestrator/jobs":         Submit,
	"POST /api/v1/orchestrator/jobs":        Submit,
	"DELETE /api/v1/orchestrator/jobs/{id}": Submit,
	// Upstream's v1.2.3 CLI stops a job with POST.
	"POST /api/v1/orchestrator/jobs/{id}": Submit,

	"GET /api/v1/operator/raft":                      Operator,
	"POST /api/v1/operator/raft/transfer-leadership": Operator,
	"GET /api/v1/operator/digest":                    Operator,
	"GET /api/v1/operator/snapshot":                  Operator,
	"POST /api/v1/operator/gc":                       Operator,

	"DELETE /api/v1/operator/raft/peers/{id}": Management,
	"PUT /api/v1/operator/snapshot":           Management,
	"GET /api/v1/acl/tokens":                  Management,
	"PUT /api/v1/acl/tokens":                  Management,
	"DELETE /api/v1/acl/tokens/{accessor}":    Management,

	// Bootstrap is open until it has happened once; the handler refuses
	// every later call.
	"POST /api/v1/acl/bootstrap": Open,
	"GET /api/v1/acl/token/self": Authenticated,

	"PUT /api/v1/compute/nodes/{id}":             Node,
	"GET /api/v1/compute/nodes/{id}/executions":  Node,
	"POST /api/v1/compute/nodes/{id}/executions": Node,
}

// Prefixes are rules for whole trees mounted with every method: the web
// UI's static files (open, as a browser fetches them before it has a
// token; the API calls the UI makes carry one), Prometheus metrics (read)
// and Go's profiler (operator: profiles and goroutine dumps show how the
// replica works, never a secret, but they cost CPU to take).
var Prefixes = []struct {
	Prefix string
	Need   Permission
}{
	{"/ui/", Open},
	{"/metrics/", Read},
	{"/debug/", Operator},
}

// Lookup returns what a request to route pattern needs. An empty pattern
// (no such route: the router answers 404 or 405) needs a valid token, so
// an anonymous caller cannot map the API.
func Lookup(method, pattern string) Permission {
	if pattern == "" {
		return Authenticated
	}
	for _, p := range Prefixes {
		if pattern == strings.TrimSuffix(p.Prefix, "/") || strings.HasPrefix(pattern, p.Prefix) {
			return p.Need
		}
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	return Routes[method+" "+pattern]
}
