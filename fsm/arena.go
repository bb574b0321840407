package fsm

import "unsafe"

// arena packs the bytes of frozen rows (their compressed blobs and the
// strings their heads keep) into shared 16 KiB chunks.
//
// Why: a frozen row used to be half a dozen small allocations of a few
// dozen to a few hundred bytes, made while the row's hot form, its command
// and its transaction were being thrown away in the same size classes. The
// survivors ended up scattered one or two to a span, and at 100,000 stored
// jobs a replica held ~136 MB of partly used spans beside a 270 MB live
// heap: resident memory the collector can never give back. Chunks are
// pointer-free and one to a span, so they fragment nothing and cost the
// collector one mark each.
//
// A chunk lives while any slice of it does. Rows freeze in the order their
// jobs end and retention removes them in about that order, so a chunk's
// rows go together; the price is a long-lived row (a service's failed
// execution) keeping up to a chunk alive.
//
// An arena is not safe for concurrent use: the store's lives on the apply
// path, and each restore worker makes its own.
type arena struct {
	chunk []byte // the current chunk; len is what has been handed out

	// The frozen rows' own structs (record and frozen part in one), for
	// the same reason: they were a third of the small objects that outlive
	// a burst, each pinning a span of the garbage it was made among.
	jobs  slab[frozenJobRow]
	execs slab[frozenExecRow]
	hists slab[frozenHistoryRow]
}

// slab hands out Ts from shared blocks, the arena's counterpart for structs
// that hold pointers. A block is 32 KiB, a span of its own, and lives while
// any of its Ts does.
type slab[T any] struct{ block []T }

const slabBlock = 32 << 10

// newRow returns a zeroed T from s (a T of its own when s is nil).
func newRow[T any](s *slab[T]) *T {
	if s == nil {
		return new(T)
	}
	if len(s.block) == cap(s.block) {
		var zero T
		s.block = make([]T, 0, max(1, slabBlock/int(unsafe.Sizeof(zero))))
	}
	s.block = s.block[:len(s.block)+1]
	return &s.block[len(s.block)-1]
}

const (
	arenaChunk = 16 << 10
	// A piece bigger than this gets an allocation of its own, so a chunk
	// is never abandoned more than an eighth empty.
	arenaMaxPiece = arenaChunk / 8
)

// alloc returns n bytes for the caller to fill once, before sharing them.
// The slice's capacity is n, so an append cannot write into a neighbour.
func (a *arena) alloc(n int) []byte {
	if a == nil || n > arenaMaxPiece {
		return make([]byte, n)
	}
	if n == 0 {
		return []byte{}
	}
	if cap(a.chunk)-len(a.chunk) < n {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = a.chunk[:start+n]
	return a.chunk[start : start+n : start+n]
}

// bytes returns a copy of b carved from the arena.
func (a *arena) bytes(b []byte) []byte {
	out := a.alloc(len(b))
	copy(out, b)
	return out
}

// str returns a copy of s carved from the arena: the copy shares no memory
// with s (which may point into a whole command's buffer).
func (a *arena) str(s string) string {
	if s == "" {
		return ""
	}
	b := a.alloc(len(s))
	copy(b, s)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// strBytes is str for bytes.
func (a *arena) strBytes(b []byte) string { return a.str(view(b)) }

// view is b read as a string without a copy, for callers that copy it
// (arena.str, arena.intern, unique.Make) before b is reused.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
