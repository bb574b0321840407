package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shoal-io/shoal/fsm"
)

// A snapshot restore carries the whole state, so it has its own body limit;
// every other request keeps the small one.
func TestLimitBodyPerRoute(t *testing.T) {
	s := &Server{cfg: Config{MaxBodyBytes: 10, MaxSnapshotBytes: 100}, logger: slog.New(slog.DiscardHandler), fsm: fsm.New(fsm.Config{})}
	tests := []struct {
		name, method, path string
		size               int
		want               int
	}{
		{"job under the limit", http.MethodPut, "/api/v1/orchestrator/jobs", 10, http.StatusOK},
		{"job over the limit", http.MethodPut, "/api/v1/orchestrator/jobs", 11, http.StatusRequestEntityTooLarge},
		{"restore over the common limit", http.MethodPut, snapshotPath, 100, http.StatusOK},
		{"restore over its own limit", http.MethodPut, snapshotPath, 101, http.StatusRequestEntityTooLarge},
		{"another method on the path keeps the common limit", http.MethodPost, snapshotPath, 11, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := s.limitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.ReadAll(r.Body); err != nil {
					t.Errorf("handler could not read an accepted body: %v", err)
				}
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, bytes.NewReader(make([]byte, tt.size))))
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
		})
	}
}
