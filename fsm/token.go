package fsm

import (
	"encoding/json"
	"unsafe"
)

// tokenRecord is an idempotency token's row. Tokens outlive their jobs for
// a day, so at a few hundred creates a second they are the largest table:
// as a struct of three strings plus two index keys a token cost about 400
// bytes in eight allocations. Here the token, its NUL, the job ID and the
// evaluation ID share one allocation, and the id index's key is the front of
// it ("token\x00"), so a row is the record, one string and the expiry key.
type tokenRecord struct {
	buf            string
	tokLen, jobLen uint32
	Expiry         int64
}

// tokenJSON is the row's snapshot form, the one it always had: the digest
// hashes these bytes.
type tokenJSON struct {
	Token  string `json:"Token"`
	JobID  string `json:"JobID"`
	EvalID string `json:"EvalID"`
	Expiry int64  `json:"Expiry"`
}

// newTokenRecord makes a token's row, its strings carved from a (nil: an
// allocation of their own): tokens live for a day and expire in the order
// they were made, so a chunk's tokens go together.
func newTokenRecord(a *arena, token, jobID, evalID string, expiry int64) *tokenRecord {
	b := a.alloc(len(token) + 1 + len(jobID) + len(evalID))[:0]
	b = append(append(append(append(b, token...), 0), jobID...), evalID...)
	return &tokenRecord{buf: unsafe.String(unsafe.SliceData(b), len(b)),
		tokLen: uint32(len(token)), jobLen: uint32(len(jobID)), Expiry: expiry}
}

func (r *tokenRecord) token() string  { return r.buf[:r.tokLen] }
func (r *tokenRecord) jobID() string  { return r.buf[r.tokLen+1 : r.tokLen+1+r.jobLen] }
func (r *tokenRecord) evalID() string { return r.buf[r.tokLen+1+r.jobLen:] }

// idKey is the row's key in the id index (appendString of the token): the
// front of its own buffer, which is never written again.
func (r *tokenRecord) idKey() []byte {
	return unsafe.Slice(unsafe.StringData(r.buf), r.tokLen+1)
}

func (r *tokenRecord) MarshalJSON() ([]byte, error) {
	return json.Marshal(tokenJSON{Token: r.token(), JobID: r.jobID(), EvalID: r.evalID(), Expiry: r.Expiry})
}

func (r *tokenRecord) UnmarshalJSON(b []byte) error {
	var j tokenJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = *newTokenRecord(nil, j.Token, j.JobID, j.EvalID, j.Expiry)
	return nil
}
