package fsm

import (
	"encoding/json"
	"testing"
	"unsafe"
)

// The compact row keeps the snapshot bytes the struct of three strings had
// (the digest hashes them), and reads back what was stored.
func TestTokenRecordKeepsItsForm(t *testing.T) {
	tests := []struct {
		name, token, job, eval string
		expiry                 int64
	}{
		{"typical", "00010f79-cc4f-4a53-9a08-eb48da5551dd", "j-3ada1b6b-e0ff-4e1d-83d0-a66e8b08359c", "a896e8b6-da82-4973-bfb5-3156fbcded32", 1796577594815619652},
		{"characters JSON escapes", `<a&b>"quoted"\`, "j-1", "e-1", -1},
		{"a one-byte token", "x", "j-2", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tokenJSON{Token: tt.token, JobID: tt.job, EvalID: tt.eval, Expiry: tt.expiry})
			if err != nil {
				t.Fatal(err)
			}
			r := newTokenRecord(&arena{}, tt.token, tt.job, tt.eval, tt.expiry)
			if r.token() != tt.token || r.jobID() != tt.job || r.evalID() != tt.eval || r.Expiry != tt.expiry {
				t.Fatalf("read back %q %q %q %d", r.token(), r.jobID(), r.evalID(), r.Expiry)
			}
			got, err := json.Marshal(r)
			if err != nil || string(got) != string(want) {
				t.Fatalf("encoded %s (%v), want %s", got, err, want)
			}
			var back tokenRecord
			if err := json.Unmarshal(got, &back); err != nil || back != *r {
				t.Fatalf("decoded %+v (%v)", back, err)
			}
			if string(r.idKey()) != string(appendString(nil, tt.token)) {
				t.Fatalf("id key %q", r.idKey())
			}
			if unsafe.SliceData(r.idKey()) != unsafe.StringData(r.buf) {
				t.Fatal("the id key is a copy, not the row's own buffer")
			}
		})
	}
}
