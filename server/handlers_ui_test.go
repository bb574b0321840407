package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

func TestUIJobSpec(t *testing.T) {
	s := &Server{logger: slog.Default(), fsm: fsm.New(fsm.Config{Logger: slog.Default()})}
	tests := []struct {
		name     string
		body     string
		status   int
		wantType string // the converted job's Type
		wantMsg  string // a piece of the error message
	}{
		{name: "bare YAML job", body: "Type: batch\nCount: 2\nTasks:\n  - Name: main\n", status: 200, wantType: "batch"},
		{name: "wrapped YAML job", body: "Job:\n  Type: ops\n", status: 200, wantType: "ops"},
		{name: "lower-case wrapper", body: "job: {Type: service}", status: 200, wantType: "service"},
		{name: "JSON job", body: `{"Type": "daemon", "Tasks": []}`, status: 200, wantType: "daemon"},
		{name: "empty", body: "  \n", status: 400, wantMsg: "empty"},
		{name: "not YAML", body: "Type: [batch\n", status: 400, wantMsg: "not valid YAML or JSON"},
		{name: "a list", body: "- a\n- b\n", status: 400, wantMsg: "want an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.handleUIJobSpec(rec, httptest.NewRequest(http.MethodPost, "/api/v1/ui/jobspec", strings.NewReader(tt.body)))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				var e api.APIError
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.Contains(e.Message, tt.wantMsg) {
					t.Fatalf("error %s, want a message holding %q", rec.Body, tt.wantMsg)
				}
				return
			}
			var req api.PutJobRequest
			if err := json.Unmarshal(rec.Body.Bytes(), &req); err != nil || req.Job == nil {
				t.Fatalf("the answer %s is not a create body: %v", rec.Body, err)
			}
			if req.Job.Type != tt.wantType {
				t.Errorf("Type %q, want %q", req.Job.Type, tt.wantType)
			}
		})
	}
}

func TestCompareDigests(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name     string
		replicas []*replicaStatus
		want     []*bool
	}{
		{"all equal", []*replicaStatus{{Digest: "a", DigestIndex: 5}, {Digest: "a", DigestIndex: 5}, {Digest: "a", DigestIndex: 5}}, []*bool{&yes, &yes, &yes}},
		{"one differs", []*replicaStatus{{Digest: "a", DigestIndex: 5}, {Digest: "a", DigestIndex: 5}, {Digest: "b", DigestIndex: 5}}, []*bool{&no, &no, &no}},
		{"another index is not compared", []*replicaStatus{{Digest: "a", DigestIndex: 5}, {Digest: "a", DigestIndex: 5}, {Digest: "c", DigestIndex: 6}}, []*bool{&yes, &yes, nil}},
		{"unreachable has no digest", []*replicaStatus{{Digest: "a", DigestIndex: 5}, {Role: "Unreachable"}}, []*bool{nil, nil}},
		{"alone", []*replicaStatus{{Digest: "a", DigestIndex: 5}}, []*bool{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compareDigests(tt.replicas)
			for i, r := range tt.replicas {
				got, want := r.DigestAgrees, tt.want[i]
				if (got == nil) != (want == nil) || (got != nil && *got != *want) {
					t.Errorf("replica %d: agrees = %v, want %v", i, show(got), show(want))
				}
			}
		})
	}
}

func show(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}
