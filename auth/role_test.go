package auth

import (
	"net/http/httptest"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestAllows(t *testing.T) {
	perms := []Permission{Deny, Open, Authenticated, Read, Submit, Operator, Management, Node, Replica}
	// One row per role: which of perms it passes, in order.
	want := map[string]string{
		api.RoleRead:       ".yyy.....",
		api.RoleSubmit:     ".yyyy....",
		api.RoleOperator:   ".yyy.y...",
		api.RoleManagement: ".yyyyyyy.",
		api.RoleNode:       ".yy....y.",
		"":                 ".y.......",
		"root":             ".y.......",
	}
	for role, row := range want {
		for i, p := range perms {
			if got := Allows(role, p); got != (row[i] == 'y') {
				t.Errorf("Allows(%q, %s) = %t", role, p, got)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		method, pattern string
		want            Permission
	}{
		{"GET", "/api/v1/agent/alive", Open},
		{"GET", "/api/v1/internal/raft-status", Replica},
		{"POST", "/api/v1/auth/{method}", Open},
		{"GET", "/ui/*", Open},
		{"GET", "/ui", Open},
		{"GET", "/metrics", Read},
		{"POST", "/metrics", Read},
		{"GET", "/debug/pprof/*", Operator},
		{"HEAD", "/api/v1/orchestrator/jobs", Read},
		{"DELETE", "/api/v1/orchestrator/jobs/{id}", Submit},
		{"POST", "/api/v1/operator/gc", Operator},
		{"PUT", "/api/v1/operator/snapshot", Management},
		{"GET", "/api/v1/compute/nodes/{id}/executions", Node},
		{"GET", "", Authenticated},
		{"GET", "/api/v1/brand-new", Deny},
		{"PATCH", "/api/v1/orchestrator/jobs", Deny},
	}
	for _, tt := range tests {
		if got := Lookup(tt.method, tt.pattern); got != tt.want {
			t.Errorf("Lookup(%s %s) = %s, want %s", tt.method, tt.pattern, got, tt.want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name, target string
		header       map[string]string
		want         string
	}{
		{"header", "/x", map[string]string{"Authorization": "Bearer s1"}, "s1"},
		{"lower-case scheme", "/x", map[string]string{"Authorization": "bearer s1"}, "s1"},
		{"basic is not bearer", "/x", map[string]string{"Authorization": "Basic abc"}, ""},
		{"query on plain GET ignored", "/x?access_token=s2", nil, ""},
		{"query on websocket upgrade", "/x?access_token=s2", map[string]string{"Upgrade": "websocket"}, "s2"},
		{"header wins over query", "/x?access_token=s2", map[string]string{"Upgrade": "websocket", "Authorization": "Bearer s1"}, "s1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.target, nil)
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		if got := BearerToken(r); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestHashSecret(t *testing.T) {
	a, b := HashSecret("x"), HashSecret("y")
	if len(a) != 64 || a == b || !EqualHash(a, HashSecret("x")) || EqualHash(a, b) {
		t.Fatalf("HashSecret/EqualHash misbehave: %s %s", a, b)
	}
}
