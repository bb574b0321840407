package server

import (
	"errors"
	"testing"

	"github.com/shoal-io/shoal/api"
)

// Malformed bodies are a 400, including those goccy's decoder would panic
// on, and a well-formed one decodes.
func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body string
		optional   bool
		wantErr    bool
	}{
		{name: "object", body: `{"Job":{"Name":"x"}}`},
		{name: "empty optional", body: "", optional: true},
		{name: "empty required", body: " \n", wantErr: true},
		{name: "truncated escape in a key", body: `{"\00\`, wantErr: true},
		{name: "truncated escape after a colon", body: `{"\:"\`, wantErr: true},
		{name: "unterminated", body: `{"Job":`, wantErr: true},
		{name: "wrong type", body: `{"Job":[]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var req api.PutJobRequest
			err := decodeJSON([]byte(tt.body), &req, tt.optional)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				return
			}
			if !errors.Is(err, api.ErrBadRequest) {
				t.Fatalf("got %v, want a bad request (400)", err)
			}
		})
	}
}
