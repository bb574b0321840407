package fsm

import (
	"encoding/json"
	"fmt"
	"testing"
	"unsafe"

	"github.com/shoal-io/shoal/api"
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

func TestTokensAreCapped(t *testing.T) {
	register := func(id string, expiry int64) *JobRegisterRequest {
		return &JobRegisterRequest{Job: newJob(id, api.JobTypeBatch, t0), EvalID: "ev-" + id,
			IdempotencyToken: "tok-" + id, TokenExpiry: expiry, Now: t0}
	}
	tests := []struct {
		name    string
		batched bool
		// expiries of j-0, j-1, …: the cap keeps the latest-expiring.
		expiries []int64
		kept     []string
	}{
		{"under the cap nothing goes", false, []int64{t0 + 1, t0 + 2, t0 + 3}, []string{"j-0", "j-1", "j-2"}},
		{"the first to expire go", false, []int64{t0 + 1, t0 + 2, t0 + 3, t0 + 4, t0 + 5}, []string{"j-2", "j-3", "j-4"}},
		{"by expiry, not by arrival", false, []int64{t0 + 9, t0 + 1, t0 + 8, t0 + 2}, []string{"j-0", "j-2", "j-3"}},
		{"in one batch", true, []int64{t0 + 1, t0 + 2, t0 + 3, t0 + 4, t0 + 5}, []string{"j-2", "j-3", "j-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.fsm.ac.maxTokens = 3
			var cmds []Command
			for i, e := range tt.expiries {
				cmds = append(cmds, register(fmt.Sprintf("j-%d", i), e))
			}
			if tt.batched {
				for i, r := range h.applyBatch(cmds...) {
					if r.Err != nil {
						t.Fatalf("register %d: %v", i, r.Err)
					}
				}
			} else {
				for _, c := range cmds {
					ok[JobRegisterResult](h, c)
				}
			}
			txn := h.txn()
			var kept []string
			for i := range tt.expiries {
				id := fmt.Sprintf("j-%d", i)
				if jobID, _, found := txn.Idempotency("tok-"+id, t0); found {
					if jobID != id {
						t.Fatalf("token of %s leads to %s", id, jobID)
					}
					kept = append(kept, id)
				}
			}
			if fmt.Sprint(kept) != fmt.Sprint(tt.kept) {
				t.Fatalf("tokens kept for %v, want %v", kept, tt.kept)
			}
			if n := h.tokenRows(); n != len(tt.kept) {
				t.Fatalf("the tokens table counts %d rows, want %d", n, len(tt.kept))
			}
		})
	}
}
