package fsm

import (
	"encoding/base64"
	"encoding/json"

	"github.com/shoal-io/shoal/api"
)

// Cursors are opaque to clients: base64url (no padding) of a small JSON
// document holding the sort key of the last row returned, so the next page
// starts right after it however many rows were inserted meanwhile.

type jobCursor struct {
	Order   string `json:"o"`
	Reverse bool   `json:"r,omitempty"`
	Time    int64  `json:"t,omitempty"`
	ID      string `json:"i"`
}

type historyCursor struct {
	JobID string `json:"j"`
	Seq   uint64 `json:"s"`
}

func encodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// The cursor types hold only strings, ints and bools.
		panic("fsm: cannot encode cursor: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return api.BadRequestf("invalid next_token %q: not a token this server issued", s)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return api.BadRequestf("invalid next_token %q: not a token this server issued", s)
	}
	return nil
}
