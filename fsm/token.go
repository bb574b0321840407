package fsm

import (
	"encoding/json"
	"fmt"
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

// maxIdempotencyTokens bounds the idempotency tokens a replica keeps: past
// it, each new token pushes out the one that expires first. A day of tokens
// at one create a second (86,400) fits, so below that rate a token keeps its
// whole 24-hour window; above it the window is shorter (at 500 creates/s,
// 200 s: longer than any client's retries). Unbounded, a day of 500/s
// creates would be 43 million tokens, about 300 bytes each with their two
// index entries, and a 20-minute soak grew every replica by 5 MB a minute.
const maxIdempotencyTokens = 100_000

// capTokens removes the token that expires first while more than maxTokens
// are stored. It reads the state before this transaction (a range read in
// the write transaction would copy the tree) and passes over tokens this
// transaction already removed or rewrote.
func (ac *applyCtx) capTokens() error {
	rec, err := readIndexRecord(ac.base, tableTokens.String())
	if err != nil {
		return err
	}
	if ac.maxTokens <= 0 || rec.Rows+ac.rows[tableTokens] <= ac.maxTokens {
		return nil
	}
	it, err := ac.base.Get(tableTokens.String(), "expiry")
	if err != nil {
		return fmt.Errorf("oldest idempotency token: %w", err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		tok, ok := raw.(*tokenRecord)
		if !ok {
			continue
		}
		if _, touched := ac.written[rowKey{tableTokens, tok.token()}]; touched {
			continue
		}
		return ac.remove(tableTokens, tok.token(), tok)
	}
	// Every stored token was touched here: the bound was crossed within
	// this transaction (a batch), so the first to expire is among its own.
	it, err = ac.txn.Get(tableTokens.String(), "expiry")
	if err != nil {
		return fmt.Errorf("oldest idempotency token: %w", err)
	}
	if tok, ok := it.Next().(*tokenRecord); ok {
		return ac.remove(tableTokens, tok.token(), tok)
	}
	return nil
}
