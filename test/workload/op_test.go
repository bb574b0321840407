package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

func TestClassify(t *testing.T) {
	dialErr := &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	readErr := &url.Error{Op: "Put", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}}
	body := func(code string) []byte { return fmt.Appendf(nil, `{"Status":503,"Message":"m","Code":%q}`, code) }
	tests := []struct {
		name     string
		status   int
		body     []byte
		err      error
		want     Outcome
		wantCode string
	}{
		{"200", 200, []byte(`{}`), nil, OK, ""},
		{"400 validation", 400, []byte(`{"Status":400,"Code":"ValidationError"}`), nil, Failed, "ValidationError"},
		{"404", 404, []byte(`{"Status":404,"Code":"NotFound"}`), nil, Failed, "NotFound"},
		{"409 conflict", 409, []byte(`{"Status":409,"Code":"ConflictJobState"}`), nil, Failed, "ConflictJobState"},
		{"503 no leader", 503, body(api.CodeNoLeader), nil, Failed, api.CodeNoLeader},
		{"503 outcome unknown", 503, body(api.CodeOutcomeUnknown), nil, Unknown, api.CodeOutcomeUnknown},
		{"503 unavailable", 503, body(api.CodeServiceUnavailable), nil, Unknown, api.CodeServiceUnavailable},
		{"503 without a body", 503, nil, nil, Unknown, ""},
		{"500", 500, []byte(`{"Status":500,"Code":"InternalError"}`), nil, Unknown, "InternalError"},
		{"connection refused", 0, nil, dialErr, Failed, ""},
		// Go's transport replays a request with an Idempotency-Key when a
		// kept-alive connection breaks: the refused dial that ends it may
		// follow an attempt that reached the server.
		{"refused after the request was sent", 0, nil, &sentError{dialErr}, Unknown, ""},
		{"connection reset", 0, nil, readErr, Unknown, ""},
		{"timeout", 0, nil, context.DeadlineExceeded, Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, code := Classify(tt.status, tt.body, tt.err)
			if got != tt.want || code != tt.wantCode {
				t.Fatalf("Classify = %s %q, want %s %q", got, code, tt.want, tt.wantCode)
			}
		})
	}
}

// TestClientRecordsAnswers drives the client against a fake API and checks
// what it records for each kind of answer.
func TestClientRecordsAnswers(t *testing.T) {
	var creates int
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /api/v1/orchestrator/jobs", func(w http.ResponseWriter, r *http.Request) {
		creates++
		if r.Header.Get("Idempotency-Key") != "tok" {
			t.Errorf("create without the Idempotency-Key header")
		}
		if creates == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"Status":503,"Code":"OutcomeUnknown","Message":"lost leadership"}`)
			return
		}
		w.Header().Set(api.HeaderIndex, "42")
		fmt.Fprint(w, `{"JobID":"j-1","EvaluationID":"e-1"}`)
	})
	mux.HandleFunc("GET /api/v1/orchestrator/jobs/j-1", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("consistency") != "linearizable" {
			t.Errorf("describe without consistency=linearizable")
		}
		fmt.Fprint(w, `{"Job":{"ID":"j-1","State":{"StateType":"Stopped"}}}`)
	})
	mux.HandleFunc("GET /api/v1/orchestrator/jobs/j-2", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"Status":404,"Code":"NotFound","Message":"job not found"}`)
	})
	mux.HandleFunc("DELETE /api/v1/orchestrator/jobs/j-1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"EvaluationID":"e-2"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	rec := NewRecorder()
	c := &Client{ID: 3, Rec: rec, Timeout: 5 * time.Second}
	ctx := context.Background()
	targets := func() []Target { return []Target{{Name: "fake", URL: srv.URL}} }
	last := c.CreateUntilDone(ctx, targets, 0, "tok", NoopJob("run", "tok", 1))
	if last.Outcome != OK || last.JobID != "j-1" || last.Attempt != 2 || last.Index != 42 {
		t.Fatalf("create: %+v", last)
	}
	if d := c.Describe(ctx, targets()[0], "tok", "j-1", true); d.Outcome != OK || !d.Found || d.JobState != api.JobStateTypeStopped {
		t.Fatalf("describe: %+v", d)
	}
	if d := c.Describe(ctx, targets()[0], "tok2", "j-2", false); d.Outcome != OK || d.Found {
		t.Fatalf("describe of a missing job: %+v", d)
	}
	if s := c.Stop(ctx, targets()[0], "tok", "j-1"); s.Outcome != OK || !s.Found {
		t.Fatalf("stop: %+v", s)
	}
	ops := rec.Ops()
	wantOutcomes := []Outcome{Unknown, OK, OK, OK, OK}
	if len(ops) != len(wantOutcomes) {
		t.Fatalf("recorded %d ops, want %d: %v", len(ops), len(wantOutcomes), ops)
	}
	for i, op := range ops {
		if op.Seq != i || op.Client != 3 || op.Outcome != wantOutcomes[i] || op.Return.Before(op.Call) {
			t.Errorf("op %d: %v", i, op)
		}
	}
	if got := Acked(ops); len(got) != 1 || got["tok"] != "j-1" {
		t.Errorf("Acked = %v", got)
	}
}

func TestClientRefusedConnectionIsFailed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := &Client{Rec: NewRecorder(), Timeout: 5 * time.Second}
	op := c.Create(context.Background(), Target{Name: "dead", URL: "http://" + addr}, "tok", NoopJob("run", "tok", 1), 1)
	if op.Outcome != Failed || op.Err == "" {
		t.Fatalf("create on a closed port: %+v", op)
	}
}

// TestCreateWithoutTokenIsNotRetriedWhenUnknown: without a token a retry
// could create a second job, so only certain failures are retried.
func TestCreateWithoutTokenIsNotRetriedWhenUnknown(t *testing.T) {
	answers := []int{http.StatusServiceUnavailable, http.StatusServiceUnavailable}
	codes := []string{api.CodeNoLeader, api.CodeOutcomeUnknown}
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body api.PutJobRequest
		_ = json.NewDecoder(r.Body).Decode(&body)
		got = append(got, r.Header.Get("Idempotency-Key")+"|"+body.IdempotencyToken)
		i := min(len(got)-1, len(answers)-1)
		w.WriteHeader(answers[i])
		fmt.Fprintf(w, `{"Status":%d,"Code":%q}`, answers[i], codes[i])
	}))
	defer srv.Close()
	c := &Client{Rec: NewRecorder(), Timeout: 5 * time.Second}
	targets := func() []Target { return []Target{{Name: "fake", URL: srv.URL}} }
	last := c.CreateWithoutTokenUntilDone(context.Background(), targets, 0, "label", NoopJob("run", "label", 1))
	if last.Outcome != Unknown || last.Attempt != 2 || !last.NoToken {
		t.Fatalf("last attempt %+v, want the second, unknown", last)
	}
	if len(got) != 2 || got[0] != "|" || got[1] != "|" {
		t.Fatalf("server saw tokens %q, want none on two attempts", got)
	}
}
