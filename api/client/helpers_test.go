package client

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/shoal-io/shoal/api"
)

// seen is one request a test server received.
type seen struct {
	Method string
	Path   string // escaped
	Query  map[string][]string
	Body   []byte
	Header http.Header
}

// recorder is a test server that records every request and answers with
// the handler it is given (JSON 200 "{}" by default).
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seen
	handle   func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newRecorder(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) *recorder {
	t.Helper()
	rec := &recorder{handle: handle}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.requests = append(rec.requests, seen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Body: body, Header: r.Header.Clone()})
		rec.mu.Unlock()
		if rec.handle != nil {
			rec.handle(w, r, body)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func (r *recorder) last(t *testing.T) seen {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) == 0 {
		t.Fatal("no request received")
	}
	return r.requests[len(r.requests)-1]
}

// deadHost returns the address of a port nothing listens on, so that
// connecting to it is refused.
func deadHost(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// hangUp reads the request and closes the connection without answering:
// the client cannot tell whether the request took effect.
func hangUp(w http.ResponseWriter, _ *http.Request, _ []byte) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// answer replies with status, the error body of err kind, and an index.
func answerError(status int, code string) func(w http.ResponseWriter, r *http.Request, body []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(api.APIError{Status: status, Message: "says " + code, Code: code, Component: "Test"})
	}
}

func newClient(t *testing.T, hosts []string, opts ...Option) *Client {
	t.Helper()
	c, err := New(hosts, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleJob() *api.Job {
	return &api.Job{Name: "x", Type: api.JobTypeBatch, Count: 1, Tasks: []*api.Task{{Name: "main",
		Engine: &api.SpecConfig{Type: api.EngineNoop}}}}
}
