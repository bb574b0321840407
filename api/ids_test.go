package api

import (
	"strings"
	"testing"
)

func TestShortID(t *testing.T) {
	cases := []struct{ in, want string }{
		{"j-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "j-1a2b3c4d"},
		{"e-82f7813f-58da-4323-8261-886af35284c4", "e-82f7813f"},
		{"n-9d6c1e2f-0000-4000-8000-000000000000", "n-9d6c1e2f"},
		{"5dac9fe0-2358-4ec7-bec9-6747dfa2b33e", "5dac9fe0"},
		{"QmaJkc6YuArSteDpvquaR6AqzHLxqx7acs5tsqBPknkxQ3", "QmaJkc6Y"},
		{"my-service", "my-servi"},
		{"j-notauuid-at-all", "j-notauu"},
		{"short", "short"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := ShortID(tc.in); got != tc.want {
			t.Errorf("ShortID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewIDs(t *testing.T) {
	cases := []struct {
		name   string
		gen    func() string
		prefix string
	}{
		{"job", NewJobID, "j-"},
		{"execution", NewExecutionID, "e-"},
		{"evaluation", NewEvalID, ""},
		{"node", NewNodeID, "n-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			for range 100 {
				id := tc.gen()
				uuid, ok := strings.CutPrefix(id, tc.prefix)
				if !ok || !isUUID(uuid) {
					t.Fatalf("malformed ID %q", id)
				}
				if uuid[14] != '4' || !strings.ContainsRune("89ab", rune(uuid[19])) {
					t.Fatalf("not a version 4 UUID: %q", id)
				}
				if seen[id] {
					t.Fatalf("duplicate ID %q", id)
				}
				seen[id] = true
			}
		})
	}
}
