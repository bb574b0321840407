package compute

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

func newIdleNode(t *testing.T) *Node {
	t.Helper()
	n, err := New(Config{NodeID: "n1", DataDir: t.TempDir(), Orchestrator: newFakeOrchestrator(), Engines: []string{"noop"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.close)
	return n
}

// fakeRun registers a running execution with a live capture.
func fakeRun(t *testing.T, n *Node, id string) (*localExec, *outputCapture) {
	t.Helper()
	dir := n.execDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := newOutputCapture(dir, 1024)
	if err != nil {
		t.Fatal(err)
	}
	e := &localExec{id: id, phase: phaseRunning, done: make(chan struct{}), output: c, cancel: func() {}}
	n.execs.put(e)
	return e, c
}

// logLines reads NDJSON log records from a stream, sending each on a channel.
func logLines(t *testing.T, body io.Reader) <-chan api.ExecutionLog {
	ch := make(chan api.ExecutionLog, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		for sc.Scan() {
			var l api.ExecutionLog
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("bad log line %q: %v", sc.Text(), err)
				return
			}
			ch <- l
		}
	}()
	return ch
}

func collect(ch <-chan api.ExecutionLog) []api.ExecutionLog {
	var out []api.ExecutionLog
	for l := range ch {
		out = append(out, l)
	}
	return out
}

func TestLogsFollowARunningExecution(t *testing.T) {
	n := newIdleNode(t)
	srv := httptest.NewServer(n.Handler())
	defer srv.Close()
	e, c := fakeRun(t, n, "e-1")
	if _, err := c.stdout.Write([]byte("before\n")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		query string
		want  []api.ExecutionLog
	}{
		{name: "from the start", query: "?follow=true", want: []api.ExecutionLog{
			{Type: 1, Line: "before\n"}, {Type: 2, Line: "during\n"}, {Type: 1, Line: "last, no newline"}}},
		{name: "tail: only new output", query: "?follow=true&tail=true", want: []api.ExecutionLog{
			{Type: 2, Line: "during\n"}, {Type: 1, Line: "last, no newline"}}},
	}
	streams := make([]<-chan api.ExecutionLog, len(tests))
	for i, tt := range tests {
		resp, err := http.Get(srv.URL + "/logs/e-1" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("%s: status %d, type %q", tt.name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		streams[i] = logLines(t, resp.Body)
	}
	// The first stream has caught up once it shows the earlier line.
	first := <-streams[0]
	if first != (api.ExecutionLog{Type: 1, Line: "before\n"}) {
		t.Fatalf("first line %+v", first)
	}
	if _, err := c.stderr.Write([]byte("during\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.stdout.Write([]byte("last, no newline")); err != nil {
		t.Fatal(err)
	}
	// The execution ends: the followers' streams end too.
	c.close()
	n.execs.mu.Lock()
	e.phase = phaseFinished
	n.execs.mu.Unlock()
	close(e.done)

	got := append([]api.ExecutionLog{first}, collect(streams[0])...)
	if !reflect.DeepEqual(got, tests[0].want) {
		t.Errorf("%s: got %+v, want %+v", tests[0].name, got, tests[0].want)
	}
	if got := collect(streams[1]); !reflect.DeepEqual(got, tests[1].want) {
		t.Errorf("%s: got %+v, want %+v", tests[1].name, got, tests[1].want)
	}

	// Once over, the whole log, without following.
	resp, err := http.Get(srv.URL + "/logs/e-1?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := collect(logLines(t, resp.Body)); !reflect.DeepEqual(got, tests[0].want) {
		t.Errorf("after the end: got %+v", got)
	}
}

func TestLogsFollowEndsWhenTheClientGoesAway(t *testing.T) {
	n := newIdleNode(t)
	_, c := fakeRun(t, n, "e-1")
	defer c.close()
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/logs/e-1?follow=true", nil)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Handler().ServeHTTP(rec, req)
	}()
	if _, err := c.stdout.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the log stream did not end when its client went away")
	}
}

func TestLogsFollowANoopRun(t *testing.T) {
	n := newIdleNode(t)
	e := &localExec{id: "e-noop", phase: phaseRunning, done: make(chan struct{}), cancel: func() {}}
	n.execs.put(e)
	srv := httptest.NewServer(n.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/logs/e-noop?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	close(e.done)
	if got := collect(logLines(t, resp.Body)); len(got) != 0 {
		t.Fatalf("lines from a noop run: %+v", got)
	}
}

func TestHandlerErrors(t *testing.T) {
	n := newIdleNode(t)
	if err := os.WriteFile(filepath.Join(resultsDir(n.cfg.DataDir), "e-ok.tar.gz"), []byte("tarball"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.Handler())
	defer srv.Close()
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{path: "/results/e-ok.tar.gz", wantStatus: http.StatusOK, wantBody: "tarball"},
		{path: "/results/e-missing.tar.gz", wantStatus: http.StatusNotFound},
		{path: "/results/e-ok.zip", wantStatus: http.StatusNotFound},
		{path: "/results/..%2F..%2Fetc%2Fpasswd.tar.gz", wantStatus: http.StatusNotFound},
		{path: "/logs/e-unknown", wantStatus: http.StatusNotFound},
		{path: "/logs/..", wantStatus: http.StatusNotFound},
		{path: "/logs/e-unknown?follow=maybe", wantStatus: http.StatusBadRequest},
		{path: "/nothing", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusOK {
				if string(body) != tt.wantBody || resp.Header.Get("Content-Type") != "application/gzip" {
					t.Fatalf("body %q type %q", body, resp.Header.Get("Content-Type"))
				}
				return
			}
			var apiErr api.APIError
			if err := json.Unmarshal(body, &apiErr); err != nil || apiErr.Status != tt.wantStatus || apiErr.Message == "" {
				t.Fatalf("error body %s (%v)", body, err)
			}
		})
	}
}

// A follower that arrives while the execution waits to start (bid accepted,
// not yet approved) stays until it runs, and sees all of its output.
func TestLogsFollowBeforeTheRunStarts(t *testing.T) {
	n := newIdleNode(t)
	n.execs.put(&localExec{id: "e-wait", phase: phaseBid, cancel: func() {}})
	srv := httptest.NewServer(n.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/logs/e-wait?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := logLines(t, resp.Body)

	// Now it starts, writes and ends.
	n.execs.mu.Lock()
	delete(n.execs.m, "e-wait")
	n.execs.mu.Unlock()
	e, c := fakeRun(t, n, "e-wait")
	if _, err := c.stdout.Write([]byte("started late\n")); err != nil {
		t.Fatal(err)
	}
	c.close()
	n.execs.mu.Lock()
	e.phase = phaseFinished
	n.execs.mu.Unlock()
	close(e.done)

	want := []api.ExecutionLog{{Type: 1, Line: "started late\n"}}
	if got := collect(lines); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
