package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shoal-io/shoal/api"
)

// Frozen rows travel in snapshots as they are stored: a binary head and the
// compressed blob, so a restore copies them without decoding any JSON.

// frozenFrame marks a frame's table byte when the row is frozen.
const frozenFrame = 0x80

func appendBytes(b, s []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// encodeFrozen returns a frozen row's frame payload, or false when the row
// is not frozen.
func encodeFrozen(b []byte, row any) ([]byte, bool) {
	switch r := row.(type) {
	case *jobRecord:
		f := r.frozen
		if f == nil {
			return b, false
		}
		b = binary.AppendUvarint(b, r.CreateIndex)
		b = binary.AppendUvarint(b, r.ModifyIndex)
		b = appendStr(appendStr(appendStr(b, f.ID), f.Namespace), f.Type)
		b = binary.AppendUvarint(b, uint64(f.State))
		b = binary.AppendVarint(b, f.CreateTime)
		b = binary.AppendVarint(b, f.ModifyTime)
		b = binary.AppendUvarint(b, uint64(len(f.labels)))
		for _, s := range f.labels {
			b = appendStr(b, s)
		}
		return appendBytes(b, f.blob), true
	case *execRecord:
		f := r.frozen
		if f == nil {
			return b, false
		}
		b = binary.AppendUvarint(b, r.CreateIndex)
		b = binary.AppendUvarint(b, r.ModifyIndex)
		b = appendStr(appendStr(appendStr(b, f.ID), f.JobID), f.NodeID)
		b = binary.AppendVarint(b, f.CreateTime)
		t := byte(0)
		if f.Terminal {
			t = 1
		}
		return appendBytes(append(b, t), f.blob), true
	case *historyRecord:
		f := r.frozen
		if f == nil {
			return b, false
		}
		b = appendStr(b, r.JobID)
		b = binary.AppendUvarint(b, uint64(f.count))
		return appendBytes(b, f.blob), true
	}
	return b, false
}

var errFrozenFrame = errors.New("malformed frozen row")

// frameReader reads a frozen frame's fields; the first error sticks.
type frameReader struct {
	b   []byte
	err error
	a   *arena // what bytes and strings are copied into
}

func (r *frameReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errFrozenFrame
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *frameReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errFrozenFrame
		return 0
	}
	r.b = r.b[n:]
	return v
}

// field returns the next length-prefixed field, still in the frame.
func (r *frameReader) field() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errFrozenFrame
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *frameReader) bytes() []byte {
	f := r.field()
	if r.err != nil {
		return nil
	}
	return r.a.bytes(f)
}

func (r *frameReader) str() string { return r.a.strBytes(r.field()) }

// internStr reads a string that is most often one of a few (arena.intern).
func (r *frameReader) internStr() string {
	f := r.field()
	if r.err != nil {
		return ""
	}
	return r.a.intern(view(f))
}

func (r *frameReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errFrozenFrame
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// decodeFrozen rebuilds a frozen row of table t from its frame payload. The
// blob is checked only for being a zstd frame of our dictionary; its content
// is decoded when read. The row's bytes and structs are taken from a.
func decodeFrozen(c *blobCodec, a *arena, t tableID, b []byte) (any, error) {
	r := &frameReader{b: b, a: a}
	var row any
	switch t {
	case tableJobs:
		jr := newRow(&a.jobs)
		rec, f := &jr.rec, &jr.f
		rec.CreateIndex, rec.ModifyIndex = r.uvarint(), r.uvarint()
		f.codec = c
		f.ID, f.Namespace, f.Type = r.str(), r.internStr(), r.internStr()
		f.State = api.JobStateType(r.uvarint())
		f.CreateTime, f.ModifyTime = r.varint(), r.varint()
		n := r.uvarint()
		if r.err == nil && (n%2 != 0 || n > uint64(len(r.b))) {
			r.err = errFrozenFrame
		}
		if n > 0 && r.err == nil {
			f.labels = make(pairLabels, n)
			for i := range f.labels {
				f.labels[i] = r.str()
			}
		}
		f.blob = r.bytes()
		if r.err == nil && (f.ID == "" || !f.State.IsTerminal()) {
			r.err = errFrozenFrame
		}
		rec.frozen = f
		row = rec
	case tableExecutions:
		er := newRow(&a.execs)
		rec, f := &er.rec, &er.f
		rec.CreateIndex, rec.ModifyIndex = r.uvarint(), r.uvarint()
		f.codec = c
		f.ID, f.JobID, f.NodeID = r.str(), r.str(), shared(view(r.field()))
		f.CreateTime = r.varint()
		f.Terminal = r.byte() == 1
		f.blob = r.bytes()
		if r.err == nil && f.ID == "" {
			r.err = errFrozenFrame
		}
		rec.frozen = f
		row = rec
	case tableHistory:
		hr := newRow(&a.hists)
		rec := &hr.rec
		rec.JobID = r.str()
		n := r.uvarint()
		hr.f = frozenHistory{count: int(min(n, uint64(maxRecordSize))), blob: r.bytes(), codec: c}
		rec.frozen = &hr.f
		if r.err == nil && rec.JobID == "" {
			r.err = errFrozenFrame
		}
		row = rec
	default:
		return nil, fmt.Errorf("%s rows are never frozen", t)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errFrozenFrame
	}
	if r.err != nil {
		return nil, fmt.Errorf("decode %s row: %w", t, r.err)
	}
	return row, nil
}
