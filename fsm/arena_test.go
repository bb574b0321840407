package fsm

import (
	"strings"
	"testing"
	"unsafe"
)

func TestArena(t *testing.T) {
	tests := []struct {
		name   string
		arena  *arena
		sizes  []int
		shared bool // pieces come from one chunk
	}{
		{"small pieces share a chunk", &arena{}, []int{1, 36, 300, 7}, true},
		{"a piece past the limit has its own allocation", &arena{}, []int{10, arenaMaxPiece + 1}, false},
		{"a full chunk is followed by a new one", &arena{}, []int{arenaMaxPiece, arenaMaxPiece, arenaMaxPiece, arenaMaxPiece, arenaMaxPiece, arenaMaxPiece, arenaMaxPiece, arenaMaxPiece, 1}, false},
		{"nil arena allocates", nil, []int{3, 5}, false},
		{"empty pieces", &arena{}, []int{0, 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pieces [][]byte
			for i, n := range tt.sizes {
				in := []byte(strings.Repeat(string(rune('a'+i%26)), n))
				out := tt.arena.bytes(in)
				if string(out) != string(in) {
					t.Fatalf("piece %d: got %q, want %q", i, out, in)
				}
				if cap(out) != len(out) {
					t.Fatalf("piece %d: cap %d > len %d: an append would write into the next piece", i, cap(out), len(out))
				}
				if n > 0 && unsafe.SliceData(out) == unsafe.SliceData(in) {
					t.Fatalf("piece %d shares the caller's memory", i)
				}
				pieces = append(pieces, out)
			}
			// Earlier pieces are untouched by later ones.
			for i, p := range pieces {
				if want := strings.Repeat(string(rune('a'+i%26)), tt.sizes[i]); string(p) != want {
					t.Fatalf("piece %d overwritten: %q", i, p)
				}
			}
			if tt.shared {
				base := uintptr(unsafe.Pointer(unsafe.SliceData(pieces[0])))
				for i, p := range pieces[1:] {
					if d := uintptr(unsafe.Pointer(unsafe.SliceData(p))) - base; d >= arenaChunk {
						t.Fatalf("piece %d is %d bytes from the first: not in its chunk", i+1, d)
					}
				}
			}
		})
	}
}

func TestArenaStrings(t *testing.T) {
	a := &arena{}
	buf := []byte("job-1234 default batch")
	s := a.strBytes(buf[:8])
	buf[0] = 'X' // the command buffer a string came from is reused
	if s != "job-1234" {
		t.Fatalf("strBytes shares its input: %q", s)
	}
	if got := a.str(""); got != "" {
		t.Fatalf("str(\"\") = %q", got)
	}
	if got := a.intern("default"); unsafe.StringData(got) != unsafe.StringData("default") {
		t.Fatal("intern copied a common string")
	}
	if got := a.intern("team-a"); got != "team-a" {
		t.Fatalf("intern(team-a) = %q", got)
	}
}

func TestSlab(t *testing.T) {
	perBlock := slabBlock / int(unsafe.Sizeof(frozenJobRow{}))
	tests := []struct {
		name      string
		slab      *slab[frozenJobRow]
		n         int
		wantBlock int // rows from the first block (0: each its own)
	}{
		{"rows share a block", &slab[frozenJobRow]{}, 10, 10},
		{"a full block is followed by a new one", &slab[frozenJobRow]{}, perBlock + 3, perBlock},
		{"nil slab allocates", nil, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows []*frozenJobRow
			for i := range tt.n {
				r := newRow(tt.slab)
				if r.rec.frozen != nil || r.f.ID != "" {
					t.Fatalf("row %d is not zeroed", i)
				}
				r.f.ID = strings.Repeat("x", i+1)
				rows = append(rows, r)
			}
			for i, r := range rows {
				if len(r.f.ID) != i+1 {
					t.Fatalf("row %d was overwritten: %q", i, r.f.ID)
				}
			}
			if tt.wantBlock == 0 {
				return
			}
			size := unsafe.Sizeof(frozenJobRow{})
			base := uintptr(unsafe.Pointer(rows[0]))
			for i, r := range rows {
				inFirst := uintptr(unsafe.Pointer(r)) == base+uintptr(i)*size
				if inFirst != (i < tt.wantBlock) {
					t.Fatalf("row %d in the first block: %v, want %v", i, inFirst, i < tt.wantBlock)
				}
			}
		})
	}
}
