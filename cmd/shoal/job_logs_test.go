package main

import (
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/shoal-io/shoal/api"
)

// logsServer answers the logs websocket with frames, then closes it as
// the server does when the output ends.
func logsServer(frames []api.ExecutionLogFrame, close websocket.StatusCode, queries chan<- string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		queries <- r.URL.RawQuery
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		for _, fr := range frames {
			if err := wsjson.Write(r.Context(), conn, fr); err != nil {
				return
			}
		}
		conn.Close(close, "")
	}
}

func TestJobLogs(t *testing.T) {
	line := func(typ int, s string) api.ExecutionLogFrame {
		return api.ExecutionLogFrame{Value: &api.ExecutionLog{Type: typ, Line: s}}
	}
	cases := []struct {
		name           string
		args           []string
		frames         []api.ExecutionLogFrame
		close          websocket.StatusCode
		query          string
		code           int
		stdout, stderr string
	}{
		{"stdout and stderr apart", nil,
			[]api.ExecutionLogFrame{line(1, "one\n"), line(2, "warn\n"), line(1, "two")}, websocket.StatusNormalClosure,
			"", 0, "one\ntwo\n", "warn\n"},
		{"follow one execution from now", []string{"-e", "e-5b1c", "-f", "-t"}, nil, websocket.StatusNormalClosure,
			"execution_id=e-5b1c&follow=true&tail=true", 0, "", ""},
		{"an error frame", nil, []api.ExecutionLogFrame{line(1, "partial\n"), {Error: "node n-1 is gone"}},
			websocket.StatusInternalError, "", exitFailure, "partial\n", "Error: logs: node n-1 is gone\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			queries := make(chan string, 1)
			f := newFakeAPI(t, map[string]http.HandlerFunc{logsPath: logsServer(c.frames, c.close, queries)})
			res := runCLI(t, f, append([]string{"job", "logs", fixJobID}, c.args...)...)
			if res.code != c.code || res.stdout != c.stdout || res.stderr != c.stderr {
				t.Errorf("exit %d stdout %q stderr %q\nwant %d %q %q", res.code, res.stdout, res.stderr, c.code, c.stdout, c.stderr)
			}
			if q := <-queries; q != c.query {
				t.Errorf("query %q, want %q", q, c.query)
			}
		})
	}
}

func TestJobLogsRefusedHandshake(t *testing.T) {
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		logsPath: reply(http.StatusNotFound, 0, `{"Status":404,"Message":"job `+fixJobID+` has no executions yet","Code":"NotFound"}`),
	})
	res := runCLI(t, f, "job", "logs", fixJobID)
	if res.code != exitFailure || res.stderr != "Error: job "+fixJobID+" has no executions yet\n" {
		t.Errorf("exit %d %q", res.code, res.stderr)
	}
}

func TestJobLogsTriesTheNextHost(t *testing.T) {
	queries := make(chan string, 1)
	good := newFakeAPI(t, map[string]http.HandlerFunc{logsPath: logsServer(
		[]api.ExecutionLogFrame{{Value: &api.ExecutionLog{Type: 1, Line: "hi\n"}}}, websocket.StatusNormalClosure, queries)})
	busy := newFakeAPI(t, map[string]http.HandlerFunc{
		logsPath: reply(http.StatusServiceUnavailable, 0, `{"Status":503,"Message":"no leader","Code":"NoLeader"}`),
	})
	env := testEnv(map[string]string{envAPIHost: busy.hostPort() + "," + good.hostPort()})
	res := runCLIWith(t, t.Context(), env, "", "job", "logs", fixJobID)
	if res.code != 0 || res.stdout != "hi\n" {
		t.Errorf("exit %d %q %q", res.code, res.stdout, res.stderr)
	}
	<-queries
}
