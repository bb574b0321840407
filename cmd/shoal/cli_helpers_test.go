package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/spf13/cobra"
)

// testNow is the clock of every test: times of the fixtures are on the
// same day, a little earlier.
var testNow = time.Date(2026, 11, 27, 8, 35, 30, 0, time.UTC)

// at is a fixture time on the test day, in Unix nanoseconds.
func at(hour, minute, second int) int64 {
	return time.Date(2026, 11, 27, hour, minute, second, 0, time.UTC).UnixNano()
}

// recorded is a request the fake API got.
type recorded struct {
	Method string
	Path   string
	Query  url.Values
	Body   string
}

// fakeAPI answers requests from handlers keyed "METHOD /path" (the escaped
// path) and records each request.
type fakeAPI struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	got      []recorded
	handlers map[string]http.HandlerFunc
}

func newFakeAPI(t *testing.T, handlers map[string]http.HandlerFunc) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, handlers: handlers}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.EscapedPath()
	f.mu.Lock()
	f.got = append(f.got, recorded{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Body: string(body)})
	h := f.handlers[key]
	f.mu.Unlock()
	if h == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"Status":404,"Message":"no route for `+key+`","Code":"RouteNotFound"}`)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h(w, r)
}

// handle adds or replaces a handler.
func (f *fakeAPI) handle(key string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[key] = h
}

// requests returns what the fake got so far.
func (f *fakeAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.got...)
}

// hostPort is the fake's address as --api-host takes it.
func (f *fakeAPI) hostPort() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// reply answers with a JSON body and, when index > 0, the state index.
func reply(status int, index uint64, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if index > 0 {
			w.Header().Set(api.HeaderIndex, jsonNumber(index))
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func ok(body string) http.HandlerFunc { return reply(http.StatusOK, 0, body) }

func jsonNumber(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// inTurn answers the n-th request with the n-th handler, and later ones
// with the last.
func inTurn(handlers ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := handlers[min(n, len(handlers)-1)]
		n++
		mu.Unlock()
		h(w, r)
	}
}

// mustJSON encodes v for a fixture.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testEnv is a cliEnv with a fixed clock, UTC, no terminal, and an
// environment of its own.
func testEnv(vars map[string]string) *cliEnv {
	return &cliEnv{
		now:        func() time.Time { return testNow },
		location:   time.UTC,
		getenv:     func(k string) string { return vars[k] },
		isTerminal: func(any) bool { return false },
	}
}

// result is what a command printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the client commands as main does, against the fake API.
func runCLI(t *testing.T, f *fakeAPI, args ...string) result {
	t.Helper()
	return runCLIWith(t, context.Background(), testEnv(map[string]string{envAPIHost: f.hostPort()}), "", args...)
}

func runCLIWith(t *testing.T, ctx context.Context, env *cliEnv, stdin string, args ...string) result {
	t.Helper()
	root := &cobra.Command{Use: "shoal", SilenceUsage: true, SilenceErrors: true}
	addClientCommands(root, env)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := 0
	if err != nil {
		errOut.WriteString("Error: " + err.Error() + "\n")
		code = exitCode(err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// lastLine is the last line a command printed on stderr.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
