package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestAgentCommands(t *testing.T) {
	node := fixNode()
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/agent/alive":   ok(`{"Status":"OK"}`),
		"GET /api/v1/agent/version": ok(`{"Major":"0","Minor":"1","GitVersion":"v0.1.0","GitCommit":"abc123","BuildDate":"2026-11-01T10:00:00Z","GOOS":"linux","GOARCH":"amd64"}`),
		"GET /api/v1/agent/node":    ok(mustJSON(t, node)),
	})
	cases := []struct {
		args   []string
		stdout string
	}{
		{[]string{"agent", "alive"}, "OK\n"},
		{[]string{"agent", "alive", "--output", "json"}, "{\n  \"Status\": \"OK\"\n}\n"},
		{[]string{"agent", "version", "--no-style"}, "Server            = " + f.srv.URL + `
Server Version    = v0.1.0
Server Commit     = abc123
Server Build Date = 2026-11-01 10:00:00
Server OS/Arch    = linux/amd64
Client Version    = ` + gitVersion + "\n"},
		{[]string{"agent", "node", "--no-style"}, nodeDescription},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			res := runCLI(t, f, c.args...)
			if res.code != 0 || res.stdout != c.stdout {
				t.Errorf("exit %d %s stdout:\n%s\nwant:\n%s", res.code, res.stderr, res.stdout, c.stdout)
			}
		})
	}
}

func TestRaftCommands(t *testing.T) {
	const (
		a = "n-aaaaaaaa-0000-4000-8000-000000000000"
		b = "n-bbbbbbbb-0000-4000-8000-000000000000"
	)
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/operator/raft": ok(mustJSON(t, api.RaftConfigurationResponse{Leader: b, Index: 42, Servers: []api.RaftServer{
			{ID: a, Address: "10.0.0.1:1235", Voter: true}, {ID: b, Address: "10.0.0.2:1235", Voter: true, Leader: true},
			{ID: "n-c", Address: "10.0.0.3:1235"}, {ID: "n-d", Address: "10.0.0.4:1235", Voter: true, Gossip: "dead"}}})),
		"DELETE /api/v1/operator/raft/peers/" + a:        ok(`{}`),
		"POST /api/v1/operator/raft/transfer-leadership": ok(`{}`),
	})
	res := runCLI(t, f, "operator", "raft", "list-peers", "--no-style")
	want := `NODE ID                                 ADDRESS        STATE        VOTER
n-aaaaaaaa-0000-4000-8000-000000000000  10.0.0.1:1235  follower     true
n-bbbbbbbb-0000-4000-8000-000000000000  10.0.0.2:1235  leader       true
n-c                                     10.0.0.3:1235  follower     false
n-d                                     10.0.0.4:1235  unreachable  true
`
	if res.code != 0 || res.stdout != want {
		t.Errorf("list-peers: exit %d stdout:\n%s\nwant:\n%s", res.code, res.stdout, want)
	}
	res = runCLI(t, f, "operator", "raft", "remove-peer", a)
	if res.code != 0 || res.stdout != "Removed "+a+" from the Raft configuration.\n" {
		t.Errorf("remove-peer: exit %d %q %q", res.code, res.stdout, res.stderr)
	}
	before := len(f.requests())
	res = runCLI(t, f, "operator", "raft", "transfer-leadership", a)
	reqs := f.requests()[before:]
	if res.code != 0 || res.stdout != "Leadership transferred; the leader is now "+b+".\n" ||
		reqs[0].Body != `{"ID":"`+a+`"}` {
		t.Errorf("transfer-leadership: exit %d %q, body %q", res.code, res.stdout, reqs[0].Body)
	}
	res = runCLI(t, f, "operator", "raft", "remove-peer")
	if res.code != exitUsage {
		t.Errorf("remove-peer without an ID: exit %d", res.code)
	}
}

func TestSnapshotSaveAndRestore(t *testing.T) {
	const snap = "raft snapshot bytes\x00\x01"
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/operator/snapshot": reply(http.StatusOK, 99, snap),
		"PUT /api/v1/operator/snapshot": ok(`{}`),
	})
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.snap")
	res := runCLI(t, f, "operator", "snapshot", "save", path)
	got, err := os.ReadFile(path)
	if res.code != 0 || err != nil || string(got) != snap {
		t.Fatalf("save: exit %d %s; file %q %v", res.code, res.stderr, got, err)
	}
	if res.stdout != "Saved the cluster state at index 99 to "+path+" (21 B).\n" {
		t.Errorf("save said %q", res.stdout)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	res = runCLI(t, f, "operator", "snapshot", "save", "-")
	if res.stdout != snap {
		t.Errorf("save to stdout: %q", res.stdout)
	}

	res = runCLI(t, f, "operator", "snapshot", "restore", path)
	reqs := f.requests()
	last := reqs[len(reqs)-1]
	if res.code != 0 || last.Method != http.MethodPut || last.Body != snap {
		t.Errorf("restore: exit %d %s; sent %s %q", res.code, res.stderr, last.Method, last.Body)
	}
	env := testEnv(map[string]string{envAPIHost: f.hostPort()})
	res = runCLIWith(t, context.Background(), env, "from stdin", "operator", "snapshot", "restore", "-")
	reqs = f.requests()
	if res.code != 0 || reqs[len(reqs)-1].Body != "from stdin" {
		t.Errorf("restore from stdin: exit %d, sent %q", res.code, reqs[len(reqs)-1].Body)
	}
	res = runCLI(t, f, "operator", "snapshot", "restore", filepath.Join(dir, "missing"))
	if res.code != exitUsage {
		t.Errorf("restore of a missing file: exit %d", res.code)
	}
}

func TestSnapshotSaveFailureLeavesNoFile(t *testing.T) {
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/operator/snapshot": reply(http.StatusServiceUnavailable, 0, `{"Status":503,"Message":"no leader","Code":"NoLeader"}`),
	})
	dir := t.TempDir()
	res := runCLI(t, f, "operator", "snapshot", "save", filepath.Join(dir, "backup.snap"))
	if res.code != exitUnreachable {
		t.Errorf("exit %d %s", res.code, res.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left behind: %v", entries)
	}
}
